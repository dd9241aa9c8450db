// End-to-end tests of the devtools panel against hostile input (issue 9):
// imported files with a record named __proto__, duplicate ids or a
// 20,000-dot name; a Proxy payload whose traps throw; sub-objects reused 26
// deep; menus fed a new userId or name per event; a page whose CSP forbids
// inline styles. And where records come from (their `source`). Run by
// run.mjs with the tests of panel.test.mjs.

import assert from 'node:assert/strict';
import { SHOTS, clickRow, detailText, emitMetrics, inPanel, panelRows, setFilter, settle, waitForRows } from './helpers.mjs';

export const tests = [];
const test = (name, run, options = {}) => tests.push({ name, run, ...options });

const record = (id, name, fields = {}) => ({
	id,
	name,
	payload: { n: id },
	timestamp: new Date(Date.UTC(2026, 10, 26, 10, 0, id)).toISOString(),
	status: 'delivered',
	handlerCount: 1,
	durationMs: 1.5,
	errors: [],
	issues: [],
	...fields
});
const historyFile = (records) => JSON.stringify({ format: 'kaiwa-bus/history', version: 1, exportedAt: new Date().toISOString(), records });

/** Imports `text` through the panel's Import button, as a person does. */
async function importFile(page, text, name = 'hostile.json') {
	await inPanel(page, 'input[data-file=import]').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
	await inPanel(page, '.banner:not([hidden])').waitFor();
	return inPanel(page, '.banner span').innerText();
}

/** Milliseconds `action` takes in the page, the redraws it schedules included. */
async function timed(page, action) {
	const t0 = performance.now();
	await action();
	await settle(page);
	return performance.now() - t0;
}

const measured = (what, ms) => console.log(`# measured: ${what}: ${ms.toFixed(1)} ms`);
const sourceColumn = (page) => inPanel(page, '.list .head .source').evaluate((el) => getComputedStyle(el).display);

test('an imported record named __proto__ gets a statistics row and pollutes no prototype', async ({ page }) => {
	const banner = await importFile(page, historyFile([record(1, '__proto__'), record(2, 'constructor'), record(3, 'auth.user.login')]));
	assert.match(banner, /^Viewing hostile\.json \(3 events\)/);
	await inPanel(page, '[data-tab=stats]').click();
	const table = await inPanel(page, '.stats tbody tr').evaluateAll((trs) =>
		trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent])
	);
	assert.deepEqual(table, [
		['__proto__', '1'],
		['auth.user.login', '1'],
		['constructor', '1']
	]);
	const polluted = await page.evaluate(() =>
		['count', 'timedCount', 'total', 'averageDuration', 'minDuration', 'maxDuration'].filter((key) => key in {})
	);
	assert.deepEqual(polluted, [], 'Object.prototype has none of the statistics fields');
	// The bus still reads an optional field as absent.
	await page.evaluate(() => window.kaiwaBus.emit('auth.user.logout', { userId: 'u', timestamp: new Date() }));
});

test('a Proxy payload whose traps throw: export works, its row shows it, search keeps the list alive', async ({ page }) => {
	await page.evaluate(() => {
		const hostile = new Proxy(
			{},
			{
				getPrototypeOf() {
					throw new Error('trap says no');
				},
				ownKeys() {
					throw new Error('trap says no');
				}
			}
		);
		try {
			window.kaiwaBus.emit('auth.user.login', hostile);
		} catch {
			// refused; the record is kept
		}
	});
	await waitForRows(page, 1);
	const [kept] = await page.evaluate(() => window.kaiwaBus.getEventHistory().map((r) => ({ id: r.id, status: r.status })));
	const exported = await page.evaluate(() => JSON.parse(document.querySelector('kaiwa-devtools').exportJSON()));
	assert.equal(exported.records[0].payload, '[unreadable: Error: trap says no]');
	await clickRow(page, kept.id);
	assert.match(await inPanel(page, '.detail .payload').innerText(), /\[unreadable: Error: trap says no\]/);
	await setFilter(page, 'text', 'no such text');
	await waitForRows(page, 0);
	await setFilter(page, 'text', 'unreadable');
	await waitForRows(page, 1);
	await setFilter(page, 'text', '');
	await emitMetrics(page, 2);
	await waitForRows(page, 3);
});

const DEEP = 26;
test(
	'a payload reusing sub-objects 26 deep: search, export and the tree stay quick and bounded',
	async ({ page }) => {
		await page.evaluate((depth) => {
			let node = { leaf: 'bottom' };
			for (let i = 0; i < depth; i++) node = { a: node, b: node };
			window.kaiwaBus.emit('e2e.shared.deep', node); // an unknown event: delivered with a warning
		}, DEEP);
		await emitMetrics(page, 1);
		await waitForRows(page, 2);
		// One typed character: 'b' is in the shared payload only (its key "b", its "bottom").
		const typing = await timed(page, () => setFilter(page, 'text', 'b'));
		await waitForRows(page, 1);
		measured(`typing one character with the ${DEEP}-deep shared payload`, typing);
		let size = 0;
		const exporting = await timed(page, async () => {
			size = await page.evaluate(() => document.querySelector('kaiwa-devtools').exportJSON().length);
		});
		measured(`exporting it (${size} characters)`, exporting);
		assert.ok(size < 5_000_000, `the export is bounded: ${size} characters`);
		const [row] = await panelRows(page);
		await clickRow(page, row.id);
		assert.match(await inPanel(page, '.detail .payload').innerText(), /a: \{2 keys\}/);
	},
	{ allowLogs: [/^console\.warning: .*e2e\.shared\.deep/] }
);

test('an imported 20,000-dot name is refused; a long legal one keeps the domain menu short', async ({ page }) => {
	const dots = `a${'.b'.repeat(10_000)}`;
	let banner = '';
	const refusing = await timed(page, async () => {
		banner = await importFile(page, historyFile([record(1, 'auth.user.login'), record(2, dots)]));
	});
	measured('importing a record with a 20,000-dot name', refusing);
	assert.equal(banner, 'Could not import hostile.json: record 2: "name" is 20001 bytes long; the limit is 1024 bytes');
	const legal = `a${'.b'.repeat(511)}`; // 1023 bytes, 511 dots
	const opening = await timed(page, () => importFile(page, historyFile([record(1, 'auth.user.login'), record(2, legal)])));
	measured('importing a 511-dot name and building the domain menu', opening);
	const domains = await inPanel(page, '[data-filter=domain] option').evaluateAll((options) => options.map((o) => o.value));
	assert.deepEqual(
		domains.filter((d) => d.startsWith('a.')),
		['a.*', 'a.b.*', 'a.b.b.*', 'a.b.b.b.*'],
		'four levels of the long name, not 511'
	);
	await setFilter(page, 'domain', 'a.b.b.*');
	await waitForRows(page, 1);
});

test(
	'the user and event-name menus hold what the kept records hold',
	async ({ page }) => {
		await page.evaluate(() => document.querySelector('kaiwa-devtools').configure({ maxRecords: 50 }));
		for (let frame = 0; frame < 4; frame++) {
			await page.evaluate((f) => {
				for (let i = 0; i < 100; i++) {
					window.kaiwaBus.emit('auth.user.logout', { userId: `user-${f}-${i}`, timestamp: new Date() });
					window.kaiwaBus.emit(`e2e.name${f}.n${i}`, {});
				}
			}, frame);
			await settle(page);
		}
		await waitForRows(page, 50);
		const users = await inPanel(page, 'datalist option').evaluateAll((options) => options.map((o) => o.value));
		const names = await inPanel(page, '[data-filter=name] option').evaluateAll((options) =>
			options.map((o) => o.value).filter((v) => v.startsWith('e2e.'))
		);
		const kept = await page.evaluate(() => {
			const history = window.kaiwaBus.getEventHistory().slice(-50);
			const userIds = history.map((r) => r.payload?.userId).filter((u) => typeof u === 'string');
			return { users: new Set(userIds).size, names: history.filter((r) => r.name.startsWith('e2e.')).map((r) => r.name) };
		});
		assert.ok(kept.users > 0, 'the kept records have users');
		assert.equal(users.length, kept.users, `the user menu offers the ${kept.users} userIds of the 50 kept records`);
		assert.deepEqual(names, [...kept.names].sort(), 'the name menu offers the kept names, and the schemas');
	},
	{ allowLogs: [/^console\.warning: .*e2e\.name/] }
);

test('an imported file with a duplicate id is refused, naming it', async ({ page }) => {
	const banner = await importFile(page, historyFile([record(1, 'first.event'), record(2, 'second.event'), record(1, 'third.event')]));
	assert.equal(banner, 'Could not import hostile.json: record 3: duplicate "id" 1 (record 1 has it)');
	// Out of order is fine: the file is read in id order, and a click selects that record.
	await importFile(page, historyFile([record(3, 'third.event'), record(1, 'first.event'), record(2, 'second.event')]));
	for (const [id, name] of [
		[1, 'first.event'],
		[2, 'second.event'],
		[3, 'third.event']
	]) {
		await clickRow(page, id);
		assert.equal(await inPanel(page, '.detail h3 .name').innerText(), name);
	}
});

test(
	"with a CSP of style-src 'self' the panel is styled, and nothing is refused",
	async ({ page }) => {
		const style = await page.evaluate(() => {
			const root = document.querySelector('kaiwa-devtools').shadowRoot;
			const panel = getComputedStyle(root.querySelector('.panel'));
			return { position: panel.position, background: panel.backgroundColor };
		});
		assert.deepEqual(style, { position: 'fixed', background: 'rgb(15, 20, 25)' }, 'the panel is styled');
		// The CSP is in force: the demo's own inline style attributes (app.html's
		// wrapper, SvelteKit's route announcer) are refused. Nothing of the panel is.
		const refused = await page.evaluate(() => window.__cspViolations);
		assert.ok(refused.length > 0, 'the page has a CSP that refuses inline styles');
		const demo = [/^display: contents$/, /^position: absolute; left: 0; top: 0; cli/];
		assert.deepEqual(
			refused.filter((v) => !demo.some((re) => re.test(v.sample))),
			[],
			'no inline style of the panel was refused'
		);
		await page.getByRole('button', { name: 'Sign in', exact: true }).click();
		await waitForRows(page, 2);
		await page.screenshot({ path: `${SHOTS}/panel-csp.png` });
	},
	// The demo's hydration script is inline, and the bus's compiled reader uses
	// new Function: script-src allows both, so that only style-src is tested.
	// 'report-sample' puts the refused style's first characters in each report.
	{
		csp: "default-src 'self'; connect-src 'self' ws://127.0.0.1:*; script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval'; style-src 'self' 'report-sample'",
		allowLogs: [
			/^console\.error: Applying inline style violates the following Content Security Policy directive 'style-src 'self' 'report-sample''/,
			// The page this test serves through page.route has no loopback address of its own, so Chromium's
			// Local Network Access checks block its socket to the relay on 127.0.0.1 (a real page from 127.0.0.1 connects).
			/^console\.error: WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/v1\/ws' failed: .*ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS/
		]
	}
);

test('each record shows where it came from, and the list filters by it', async ({ page }) => {
	await importFile(
		page,
		historyFile([
			record(1, 'a.one'),
			record(2, 'a.two', { source: 'tab' }),
			record(3, 'a.three', { source: 'remote', offset: '1732615200000-0' }),
			record(4, 'a.four', { source: 'restored', offset: 4 })
		])
	);
	assert.equal(await sourceColumn(page), 'block', 'records from elsewhere: the Source column shows');
	assert.deepEqual(
		(await panelRows(page)).map((r) => [r.id, r.source]),
		[
			[4, 'restored'],
			[3, 'remote'],
			[2, 'tab'],
			[1, 'local']
		]
	);
	await setFilter(page, 'source', 'tab');
	assert.deepEqual(
		(await panelRows(page)).map((r) => r.id),
		[2]
	);
	await setFilter(page, 'source', '');
	await clickRow(page, 3);
	assert.match(await detailText(page), /Source\sremote \(offset 1732615200000-0\)/);
	const exported = await page.evaluate(() => JSON.parse(document.querySelector('kaiwa-devtools').exportJSON()));
	assert.deepEqual(
		exported.records.map((r) => [r.source, r.offset]),
		[
			['local', undefined],
			['tab', undefined],
			['remote', '1732615200000-0'],
			['restored', 4]
		]
	);
	await inPanel(page, '[data-action=live]').click();
	await emitMetrics(page, 1);
	await waitForRows(page, 1);
	const [live] = await panelRows(page);
	const source = await page.evaluate(() => window.kaiwaBus.getEventHistory()[0].source ?? 'local');
	assert.equal(live.source, source, 'a live record shows its source; none means local');
	if (source === 'local') assert.equal(await sourceColumn(page), 'none', 'only local records: no Source column');
});
