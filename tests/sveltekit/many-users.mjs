// docs/relay-sveltekit.md (the README's "Many users: the relay" carried on), built on the fresh app of
// run.mjs (which calls manyUsers() per SvelteKit version, after the quick
// start's checks). Its blocks replace the layout and add the token
// endpoint, the layout's server load, Locals and the server's notice; two
// test-only files stand in for a sign-in (a cookie names the user) and call
// the notice. Then, against a real kaiwa-relay in strict mode (Redis engine
// on SvelteKit 2, memory on 3) started with the file the page's
// `npx kaiwa-bus schemas` command wrote:
//   - svelte-check passes; the production build serves the page (SSR: the
//     relay bus is not made on the server);
//   - Alice (two tabs of one browser, and a second browser) and Bob: a
//     notice (audience 'all') reaches every page; Alice's click reaches her
//     other tab and her other browser, its Date a Date; Bob gets the next
//     notice but never her event (a check of its own); no page logs an
//     error;
//   - a field changed in events.ts: the page's --check command fails
//     naming it, and the relay still on the old file refuses the event with
//     a console warning that says what to regenerate; regenerating fixes it.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../scripts/lib/chromium.mjs';
import { SECRET, startRedis, startRelay } from '../relay-js/servers.js';

// Node 20 now and then aborts as a finished `vite build` exits, on an assertion in
// fs.access ("req_wrap_async"): a Node bug, not the app's. Such a build is run once more.
export function nodeAbortedAtExit(status, output) {
	return status !== 0 && output.includes('req_wrap_async');
}

// Test only: who is signed in (a cookie; a real app's sign-in sets locals.user), and a way to call the README's postNotice.
const TEST_FILES = {
	'src/hooks.server.ts': `import type { RequestEvent } from '@sveltejs/kit';

export function handle({ event, resolve }: { event: RequestEvent; resolve: (event: RequestEvent) => Promise<Response> }) {
	const id = event.cookies.get('test-user');
	if (id) event.locals.user = { id };
	return resolve(event);
}
`,
	'src/routes/test-notice/+server.ts': `import { json } from '@sveltejs/kit';
import { postNotice } from '../../lib/server/notice';
import type { RequestHandler } from './$types';

export const POST: RequestHandler = async ({ request }) => json(await postNotice(await request.json()));
`
};

const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;
const NOTICE = 'shop.notice.posted at ';

/** Runs the Many users checks on `app` (run.mjs's app, already installed and built from the quick start). */
export async function manyUsers(app, section, { check, run, startVite, readmeFiles }) {
	const label = `${app.label}: Many users`;
	const files = readmeFiles(section, app.kit);
	const commands = [...section.matchAll(/^(npx kaiwa-bus schemas .*?)\s*(?:#.*)?$/gm)].map((m) => m[1]);
	const write = commands.find((c) => c.includes(' -o '));
	const stale = commands.find((c) => c.includes(' --check '));
	const sh = (command, env = {}) =>
		spawnSync('sh', ['-c', command], {
			cwd: app.dir,
			encoding: 'utf8',
			env: { ...process.env, ...env, PATH: `${dirname(app.nodeBin)}:${process.env.PATH}` }
		});
	const ready = await check(`${label}: the section's blocks type-check (svelte-check) and its command writes the relay's schemas`, () => {
		if (!files['src/routes/+layout.svelte'] || !files['src/routes/relay-token/+server.ts'] || !write || !stale) {
			throw new Error(`docs/relay-sveltekit.md lacks its blocks or commands: ${Object.keys(files)}; ${commands}`);
		}
		for (const [path, text] of Object.entries({ ...files, ...TEST_FILES })) {
			mkdirSync(dirname(join(app.dir, path)), { recursive: true });
			writeFileSync(join(app.dir, path), text);
		}
		const written = sh(write);
		if (written.status !== 0) throw new Error(`${write} failed:\n${written.stderr}`);
		const schemas = JSON.parse(readFileSync(join(app.dir, 'relay-schemas.json'), 'utf8'));
		if (!schemas.some((s) => s.name === 'shop.notice.posted')) throw new Error(`relay-schemas.json: ${JSON.stringify(schemas)}`);
		run(app.nodeBin, ['node_modules/@sveltejs/kit/svelte-kit.js', 'sync'], app.dir);
		run(app.nodeBin, ['node_modules/svelte-check/bin/svelte-check', '--tsconfig', './tsconfig.json', '--fail-on-warnings'], app.dir);
	});
	if (!ready) return;

	const engine = app.name === 'kit2' ? 'redis' : 'memory';
	const redis = engine === 'redis' ? await startRedis() : null;
	const relay = await startRelay({
		engine,
		redisUrl: redis?.url,
		mode: 'strict',
		extra: ['--schemas', join(app.dir, 'relay-schemas.json')]
	});
	const env = { RELAY_URL: relay.url, KAIWA_RELAY_SECRET: SECRET };
	const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
	// `vite dev` or `vite preview` with the relay's address and secret, while `fn(url)` runs.
	const served = async (command, fn) => {
		const server = await startVite(app, command, env);
		try {
			await fn(server.url);
		} catch (error) {
			throw new Error(`${error.message}\n--- vite ${command} output:\n${server.output()}`, { cause: error });
		} finally {
			await server.stop();
		}
	};
	try {
		let bobSaw = null;
		await check(
			`${label}: production build against a strict ${engine} relay: a notice reaches every page; Alice's event reaches her other tab and her other browser with its Date`,
			async () => {
				let built = sh('node node_modules/vite/bin/vite.js build', env);
				if (nodeAbortedAtExit(built.status, `${built.stdout}${built.stderr}`))
					built = sh('node node_modules/vite/bin/vite.js build', env);
				if (built.status !== 0) throw new Error(`vite build failed:\n${built.stdout}${built.stderr}`);
				await served('preview', async (url) => {
					bobSaw = await twoUsers(browser, url);
				});
			}
		);
		// Audiences (issue 20 item 2): 'user' is the default, so Bob never gets Alice's cart event (before them he did).
		await check(`${label}: Bob gets the notices and never Alice's cart event (audience 'user', the default)`, () => {
			if (bobSaw === null) throw new Error('the check above did not get as far as the notice after her event');
			if (bobSaw.lines.some((line) => line.startsWith('cart.')) || bobSaw.count !== '0 in the cart') {
				throw new Error(`bob got alice's private event: ${bobSaw.count}; ${JSON.stringify(bobSaw.lines)}`);
			}
		});
		await check(
			`${label}: a field changed in events.ts: --check fails naming it, the relay on the old file refuses with what to regenerate`,
			async () => {
				edit(app, 'src/lib/events.ts', "itemId: 'string'", "sku: 'string'");
				edit(app, 'src/lib/cart/AddToCart.svelte', "itemId: 'tea'", "sku: 'tea'");
				const checked = sh(stale);
				if (
					checked.status !== 1 ||
					!/cart\.item\.added: payload\.sku: "string" in src\/lib\/events\.ts, absent from relay-schemas\.json/.test(
						checked.stderr
					) ||
					!checked.stderr.includes(write)
				) {
					throw new Error(`${stale}: exit ${checked.status}:\n${checked.stdout}${checked.stderr}`);
				}
				// A dev server started afresh on these files (the quick start's run left Vite's dependency cache
				// without kaiwa-bus/relay: finding it later re-bundles, and the page loaded before that reload
				// has two copies of the package).
				rmSync(join(app.dir, 'node_modules/.vite'), { recursive: true, force: true });
				await served('dev', (url) => refusedAsStale(browser, url));
				const regenerated = sh(`${write} && ${stale}`);
				if (regenerated.status !== 0) throw new Error(`after regenerating, ${stale}: ${regenerated.stderr}`);
			}
		);
	} finally {
		await browser.close();
		await relay.kill();
		await redis?.kill();
	}
}

function edit(app, path, from, to) {
	const text = readFileSync(join(app.dir, path), 'utf8');
	if (!text.includes(from)) throw new Error(`${path} has no ${from}`);
	writeFileSync(join(app.dir, path), text.replace(from, to));
}

/** A browser context signed in as `user`, with `tabs` pages open on `url`; `problems` collects what any page logs. */
async function signIn(browser, url, user, tabs, problems) {
	const context = await browser.newContext();
	await context.addCookies([{ name: 'test-user', value: user, url }]);
	const pages = [];
	for (let i = 1; i <= tabs; i++) {
		const page = await context.newPage();
		const who = `${user}${tabs > 1 ? ` tab ${i}` : ''}`;
		page.on('console', (m) => m.type() === 'error' && problems.push(`${who}: console.error: ${m.text()}`));
		page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
		page.on('response', (r) => r.status() >= 400 && problems.push(`${who}: HTTP ${r.status()} for ${r.url()}`));
		const response = await page.goto(url);
		if (response.status() !== 200) throw new Error(`GET ${url} as ${user}: HTTP ${response.status()}`);
		pages.push(page);
	}
	return { context, pages };
}

const noticesOn = (page) => page.locator('.activity li', { hasText: NOTICE }).count();

async function postNotice(url, text) {
	const response = await fetch(`${url}/test-notice`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(text)
	});
	if (!response.ok) throw new Error(`POST /test-notice: HTTP ${response.status}: ${await response.text()}`);
}

/** Posts a notice and waits until each page has one more; resolves false if one did not within `ms`. */
async function noticeReachesAll(url, pages, text, ms) {
	const before = await Promise.all(pages.map(noticesOn));
	await postNotice(url, text);
	const arrived = pages.map((page, i) =>
		page
			.locator('.activity li', { hasText: NOTICE })
			.nth(before[i])
			.waitFor({ timeout: ms })
			.then(
				() => true,
				() => false
			)
	);
	return (await Promise.all(arrived)).every(Boolean);
}

/** Until every page is connected to the relay: a notice reaches them all (they connect after hydration). */
async function allConnected(url, pages) {
	for (const end = Date.now() + 30_000; Date.now() < end;) {
		if (await noticeReachesAll(url, pages, 'are you there?', 1500)) return;
	}
	throw new Error(`not every page got a notice within 30 s: ${await Promise.all(pages.map(noticesOn))}`);
}

async function twoUsers(browser, url) {
	const problems = [];
	const html = await (await fetch(url, { headers: { cookie: 'test-user=alice' } })).text();
	if (!html.includes('Add tea') || !html.includes('0 in the cart'))
		throw new Error(`the server did not render alice's page:\n${html.slice(0, 2000)}`);
	const alice = await signIn(browser, url, 'alice', 2, problems);
	const aliceElsewhere = await signIn(browser, url, 'alice', 1, problems);
	const bob = await signIn(browser, url, 'bob', 1, problems);
	try {
		const [tab1, tab2] = alice.pages;
		const [laptop] = aliceElsewhere.pages;
		const [bobs] = bob.pages;
		// The positive control of the public path: a notice (audience 'all') reaches every page.
		await allConnected(url, [tab1, tab2, laptop, bobs]);
		await tab1.getByRole('button', { name: 'Add tea' }).click();
		for (const [page, where] of [
			[tab1, 'her tab'],
			[tab2, 'her other tab'],
			[laptop, 'her other browser']
		]) {
			const count = page.locator('.cart-count', { hasText: /^1 in the cart, the last at / });
			await count.waitFor({ timeout: 10_000 }).catch(() => {
				throw new Error(`alice's event did not reach ${where} with its Date`);
			});
			if (!ISO.test(await count.innerText())) throw new Error(`${where}: ${await count.innerText()}`);
		}
		// A notice sent after Alice's event reaches Bob: the relay delivers in order, so her event would have come first.
		if (!(await noticeReachesAll(url, [bobs, laptop], 'after alice', 10_000))) throw new Error('the second notice did not reach bob');
		// What Bob has, for the check of audiences (many-users above).
		const seen = { lines: await bobs.locator('.activity li').allInnerTexts(), count: await bobs.locator('.cart-count').innerText() };
		if (problems.length) throw new Error(problems.join('\n'));
		return seen;
	} finally {
		for (const { context } of [alice, aliceElsewhere, bob]) await context.close();
	}
}

async function refusedAsStale(browser, url) {
	const problems = [];
	const alice = await signIn(browser, url, 'alice', 1, problems);
	try {
		const [page] = alice.pages;
		const warned = page.waitForEvent('console', {
			predicate: (m) => m.type() === 'warning' && /the relay refused cart\.item\.added \(validation\)/.test(m.text()),
			timeout: 30_000
		});
		await allConnected(url, [page]);
		await page.getByRole('button', { name: 'Add tea' }).click();
		const text = (await warned).text();
		if (
			!/itemId: expected string, received undefined\. This app accepts it, so the relay runs other schemas than this app: regenerate its --schemas file .*npx kaiwa-bus schemas/.test(
				text
			)
		) {
			throw new Error(`the warning does not say what to regenerate: ${text}`);
		}
		if (problems.length) throw new Error(problems.join('\n'));
	} finally {
		await alice.context.close();
	}
}
