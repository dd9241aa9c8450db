// docs/store.md's "Keeping history across reloads" block, built on the fresh
// app of run.mjs (which calls keepingHistory() per SvelteKit version, after
// the quick start's checks and before the Many users section replaces the
// layout). Its layout makes the bus with createPersistentBus from
// 'kaiwa-bus/store', with the app's own `events` and, in a production build,
// mode 'strict'. Then, in Chromium with its real IndexedDB:
//   - svelte-check passes with the block;
//   - the production build (with ?devtools): a click's cart.item.added is
//     delivered and stored; after a reload the history holds it restored,
//     its `at` a Date with the same time; a second click is accepted in
//     strict mode (the custom event's schema is registered) and delivered;
//     the page logs no error.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

/** Runs the history checks on `app` (run.mjs's app, already installed and built from the quick start). */
export async function keepingHistory(app, section, { check, run, startVite, readmeFiles, browser }) {
	const label = `${app.label}: Keeping history across reloads`;
	const files = readmeFiles(section, app.kit);
	const ready = await check(`${label}: the layout with createPersistentBus type-checks (svelte-check)`, () => {
		const layout = files['src/routes/+layout.svelte'];
		if (!layout?.includes('createPersistentBus')) throw new Error(`docs/store.md's section lacks its layout: ${Object.keys(files)}`);
		for (const [path, text] of Object.entries(files)) {
			mkdirSync(dirname(join(app.dir, path)), { recursive: true });
			writeFileSync(join(app.dir, path), text);
		}
		run(app.nodeBin, ['node_modules/@sveltejs/kit/svelte-kit.js', 'sync'], app.dir);
		run(app.nodeBin, ['node_modules/svelte-check/bin/svelte-check', '--tsconfig', './tsconfig.json', '--fail-on-warnings'], app.dir);
	});
	if (!ready) return;
	await check(
		`${label}: production build in strict mode: a click's event is stored; after a reload it is restored with its Date a Date, and a new click is accepted`,
		async () => {
			run(app.nodeBin, ['node_modules/vite/bin/vite.js', 'build'], app.dir);
			const server = await startVite(app, 'preview');
			try {
				await storedAndRestored(browser.context, `${server.url}/?devtools`);
			} catch (error) {
				throw new Error(`${error.message}\n--- vite preview output:\n${server.output()}`, { cause: error });
			} finally {
				await server.stop();
			}
		}
	);
}

/** The bus's records of cart.item.added (the panel's bus is the layout's), once its stored records are back. */
const cartRecords = (page) =>
	page.evaluate(async () => {
		const bus = document.querySelector('kaiwa-devtools').bus;
		await bus.ready;
		await bus.flush();
		return {
			mode: bus.mode,
			persistence: bus.persistence.kind,
			records: bus
				.getEventHistory()
				.filter((r) => r.name === 'cart.item.added')
				.map((r) => ({
					source: r.source,
					status: r.status,
					isDate: r.payload.at instanceof Date,
					at: r.payload.at instanceof Date ? r.payload.at.toISOString() : String(r.payload.at)
				}))
		};
	});

async function hydrated(page) {
	// The panel is mounted from the layout's onMount: the page is hydrated.
	await page.waitForFunction(() => document.querySelector('kaiwa-devtools')?.bus, null, { timeout: 30_000 });
}

async function clickAndSee(page, count, problems) {
	await page.getByRole('button', { name: 'Add tea' }).click();
	const shown = page.locator('.cart-count', { hasText: new RegExp(`^${count} in the cart, the last at `) });
	await shown.waitFor({ timeout: 10_000 }).catch(() => {
		throw new Error(
			`the click did not reach the cart (in strict mode, an event without a registered schema is refused):\n${problems.join('\n')}`
		);
	});
	return (await shown.innerText()).match(ISO)?.[0];
}

async function storedAndRestored(context, url) {
	const page = await context.newPage();
	const problems = [];
	page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} for ${r.url()}`));
	try {
		const response = await page.goto(url);
		if (response.status() !== 200) throw new Error(`GET ${url}: HTTP ${response.status()}`);
		await hydrated(page);
		const first = await cartRecords(page);
		if (first.mode !== 'strict' || first.persistence !== 'indexeddb' || first.records.length !== 0)
			throw new Error(`before the click: ${JSON.stringify(first)}`);
		const at = await clickAndSee(page, 1, problems);
		const stored = await cartRecords(page);
		if (stored.records.length !== 1 || stored.records[0].status !== 'delivered' || stored.records[0].at !== at)
			throw new Error(`after the click (shown at ${at}): ${JSON.stringify(stored)}`);

		await page.reload();
		await hydrated(page);
		const restored = await cartRecords(page);
		const [record] = restored.records;
		if (restored.records.length !== 1 || record.source !== 'restored' || record.status !== 'delivered')
			throw new Error(`after the reload: ${JSON.stringify(restored)}`);
		if (!record.isDate || record.at !== at) throw new Error(`the restored event's at is not the Date ${at}: ${JSON.stringify(record)}`);
		// The custom event after the reload, in strict mode: accepted, delivered, stored beside the restored one.
		const again = await clickAndSee(page, 1, problems);
		const after = await cartRecords(page);
		const latest = after.records.at(-1);
		if (
			after.records.length !== 2 ||
			latest.source === 'restored' ||
			latest.status !== 'delivered' ||
			!latest.isDate ||
			latest.at !== again
		) {
			throw new Error(`the click after the reload: ${JSON.stringify(after)}`);
		}
		if (problems.length) throw new Error(problems.join('\n'));
	} finally {
		await page.close();
	}
}
