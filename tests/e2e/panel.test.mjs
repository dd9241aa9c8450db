// The end-to-end tests of the devtools panel in the www demo. Each test gets
// a fresh page of the demo (see helpers.mjs openDemo) unless it says
// `browser: false`; the runner is run.mjs.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import {
	FLOW,
	NOISY_HANDLER_ERROR,
	SHOTS,
	USER,
	busHistory,
	clickRow,
	clickThrough,
	countFrames,
	countMutations,
	detailText,
	emitMetrics,
	inPanel,
	panelRows,
	setFilter,
	settle,
	waitForRows,
	waitReady
} from './helpers.mjs';

export const tests = [];
const test = (name, run, options = {}) => tests.push({ name, run, ...options });

// The panel's duration format: '—' for null (not timed, or rejected).
const formatMs = (ms) => (ms === null ? '—' : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);
const statusOf = (row) => row.status.split(' ').at(-1); // '✓ delivered' -> 'delivered'
const ids = (rows) => rows.map((r) => r.id);
const shot = (page, name) => page.screenshot({ path: `${SHOTS}/${name}` });

test('the server renders the page without bus or panel; the browser adds both', async ({ page, url }) => {
	for (let i = 0; i < 2; i++) {
		const html = await (await fetch(url)).text();
		assert.match(html, /<h2 id="auth-title">Account/, 'the features are server-rendered');
		assert.match(html, /data-bus="loading"/, 'no bus on the server, request after request');
		assert.doesNotMatch(html, /kaiwa-devtools/, 'no panel on the server');
	}
	// The server build holds the bus only as kaiwa-bus's Node entries (the payment webhook's publish()),
	// and no page imports it statically: rendering a page loads no bus.
	const serverFiles = readdirSync('www/build/server', { recursive: true }).filter((f) => f.endsWith('.js'));
	const withBus = serverFiles.filter((file) => /BusCore|kaiwa_bus_bg/.test(readFileSync(`www/build/server/${file}`, 'utf8')));
	assert.ok(
		withBus.length > 0 && withBus.every((file) => /(^|\/)(relay-)?node\.js-[^/]+\.js$/.test(file)),
		`only kaiwa-bus/relay holds the bus: ${withBus}`
	);
	// Everything a page's module imports statically, transitively (dynamic import() runs in the browser only).
	const loaded = new Set();
	const visit = (file) => {
		if (loaded.has(file)) return;
		loaded.add(file);
		for (const [, spec] of readFileSync(`www/build/server/${file}`, 'utf8').matchAll(/^import\s[^;]*?["'](\.[^"']+)["']/gm)) {
			visit(relative('www/build/server', resolve('www/build/server', dirname(file), spec)));
		}
	};
	const pages = serverFiles.filter((f) => f.includes('entries/pages/'));
	for (const file of pages) visit(file);
	assert.ok(loaded.size > pages.length, `the pages' imports were followed: ${[...loaded]}`);
	assert.deepEqual(
		withBus.filter((file) => loaded.has(file)),
		[],
		'rendering a page loads no bus'
	);
	assert.equal(await page.locator('kaiwa-devtools').count(), 1);
	assert.equal(await page.locator('kaiwa-devtools').getAttribute('open'), '', 'the panel starts open');
	const bus = await page.evaluate(() => ({ names: window.kaiwaBus.getSchemaNames(), mode: window.kaiwaBus.mode }));
	assert.equal(bus.mode, 'development');
	assert.equal(bus.names.length, 22, "window.kaiwaBus is the bus, with the seed catalog and the demo's one event");
	assert.ok(bus.names.includes('app.notice.posted'), "$lib/events.js's events registered once the page is ready");
	assert.equal(await inPanel(page, '.empty').innerText(), 'No events yet.');
});

test(
	'a click-through is listed newest first with statuses, handler counts and durations',
	async ({ page }) => {
		await clickThrough(page);
		const rows = await panelRows(page);
		const history = await busHistory(page);
		assert.deepEqual(
			rows.map((r) => [r.name, statusOf(r)]),
			[...FLOW].reverse(),
			'the panel lists the flow newest first'
		);
		assert.deepEqual(ids(rows), ids(history).reverse(), 'one row per record, by id, newest first');
		for (const [i, row] of rows.entries()) {
			const record = history.at(-1 - i);
			assert.equal(row.handlers, String(record.handlerCount), `handlers of #${record.id}`);
			assert.equal(row.duration, formatMs(record.durationMs), `duration of #${record.id}`);
		}
		// The bus times a sample of emits (its `timing` option): untimed ones show '—'.
		assert.ok(
			history.some((r) => r.durationMs !== null && r.status !== 'rejected'),
			'some emits are timed'
		);
		assert.ok(
			history.some((r) => r.durationMs === null && r.status !== 'rejected'),
			'some are not (nested emits of a task)'
		);
		const colors = await page.evaluate(() => {
			const root = document.querySelector('kaiwa-devtools').shadowRoot;
			return ['delivered', 'failed', 'rejected'].map(
				(s) => getComputedStyle(root.querySelector(`.row[data-status=${s}] .status`)).color
			);
		});
		assert.equal(new Set(colors).size, 3, `each status has its own colour: ${colors}`);
		await clickRow(page, history.find((r) => r.status === 'failed').id);
		await inPanel(page, '.list').evaluate((list) => {
			list.scrollTop = 0; // the newest on top, in the picture
		});
		await settle(page);
		await shot(page, 'panel-open.png');
	},
	{ allowLogs: [NOISY_HANDLER_ERROR] }
);

test(
	'filters narrow the list by domain, name, free text and user',
	async ({ page }) => {
		await clickThrough(page);
		const history = await busHistory(page);
		const expect = async (what, keep) => {
			const want = history
				.filter(keep)
				.map((r) => r.id)
				.reverse();
			assert.ok(want.length > 0 && want.length < history.length, `${what}: the case must narrow the list`);
			assert.deepEqual(ids(await panelRows(page)), want, what);
		};

		await setFilter(page, 'domain', 'auth.*');
		await expect('domain auth.*', (r) => r.name.startsWith('auth.'));
		await setFilter(page, 'domain', '');

		await setFilter(page, 'name', 'conversation.message.sent');
		await expect('name', (r) => r.name === 'conversation.message.sent');
		await setFilter(page, 'name', '');

		await setFilter(page, 'text', 'GATOS');
		await expect('free text', (r) => JSON.stringify(r.payload).toLowerCase().includes('gatos'));

		await setFilter(page, 'domain', 'vocabulary.*');
		await expect('domain and text together', (r) => r.name.startsWith('vocabulary.') && JSON.stringify(r.payload).includes('gatos'));
		await setFilter(page, 'domain', '');
		await setFilter(page, 'text', '');

		await setFilter(page, 'user', USER);
		const flow = await page.evaluate((user) => window.kaiwaBus.getEventFlow(user).map((r) => r.id), USER);
		await expect('user', (r) => flow.includes(r.id));
		await setFilter(page, 'user', '');

		assert.equal((await panelRows(page)).length, history.length, 'no filter, every event');
	},
	{ allowLogs: [NOISY_HANDLER_ERROR] }
);

test('a rejected event shows its validation issues, refusal and schema', async ({ page }) => {
	await page.getByRole('button', { name: 'Send an invalid payload' }).click();
	await waitForRows(page, 1);
	const [record] = await busHistory(page);
	assert.equal(record.status, 'rejected');
	await clickRow(page, record.id);
	const issues = await inPanel(page, '.detail table.issues tbody tr').evaluateAll((trs) =>
		trs.map((tr) => [...tr.cells].map((td) => td.textContent))
	);
	assert.deepEqual(
		issues,
		record.issues.map((i) => [i.path || '(payload)', i.expected, i.received]),
		'the issues table is the record’s issues'
	);
	assert.deepEqual(issues, [
		['userId', 'string', 'number'],
		['tier', 'string', 'undefined'],
		['timestamp', 'Date', 'string']
	]);
	const text = await detailText(page);
	for (const error of record.errors) assert.ok(text.includes(error), `the refusal is shown: ${error}`);
	const schema = await page.evaluate(() => window.kaiwaBus.getSchema('auth.user.login'));
	assert.equal(await inPanel(page, '.detail .schema-head').innerText(), `auth.user.login v${schema.version} — ${schema.description}`);
	const fields = await inPanel(page, '.detail table.schema tbody tr').evaluateAll((trs) =>
		trs.map((tr) => [...tr.cells].map((td) => td.textContent))
	);
	assert.deepEqual(fields, Object.entries(schema.payload));
	const subscribers = await inPanel(page, '.detail dl.subscribers').innerText();
	const handlers = await page.evaluate(() => window.kaiwaBus.getHandlerCount('auth.user.login'));
	assert.ok(handlers >= 4 && subscribers.includes(`auth.user.login\n${handlers}`), `handler count ${handlers} shown: ${subscribers}`);
	await shot(page, 'panel-rejected.png');
});

test(
	'a failed event shows the handler error that arrived after the emit',
	async ({ page }) => {
		await page.getByRole('button', { name: 'Sign in', exact: true }).click();
		await page.getByLabel('Noisy room').check();
		await page.getByRole('button', { name: 'Record' }).click();
		await page.getByRole('button', { name: 'Stop recording' }).click();
		// Delivered at emit; the async handler rejects a microtask later ('updated').
		const failed = inPanel(page, '.row[data-status=failed]');
		await failed.waitFor();
		assert.equal(await failed.locator('.name').innerText(), 'audio.transcription.completed');
		await failed.click();
		const text = await detailText(page);
		assert.match(text, /HANDLER ERRORS/i);
		assert.match(text, /Error: transcript confidence 0\.31 is below 0\.6: no words taken from it/);
		assert.match(text, /confidence: 0\.31/);
	},
	{ allowLogs: [NOISY_HANDLER_ERROR] }
);

test('the payload tree shows nested values, collapsed until opened', async ({ page }) => {
	await page.getByRole('button', { name: 'Sign in', exact: true }).click();
	await waitForRows(page, 2);
	const [, used] = await busHistory(page);
	assert.equal(used.name, 'analytics.feature.used');
	await clickRow(page, used.id);
	const tree = inPanel(page, '.detail .payload');
	assert.match(await tree.innerText(), /feature: "conversation"/);
	assert.match(await tree.innerText(), /timestamp: Date \d{4}-\d\d-\d\dT/);
	const properties = tree.locator('details.branch details.branch');
	assert.equal(await properties.locator('summary').innerText(), 'properties: {1 key}');
	assert.equal(await properties.locator('.leaf').count(), 0, 'a nested object is built only when opened');
	await properties.locator('summary').click();
	assert.equal(await properties.locator('.leaf').innerText(), 'tier: "free"');
});

test(
	'export saves JSON that parses back to the same records; import shows it read-only',
	async ({ page }) => {
		await clickThrough(page);
		const [download] = await Promise.all([page.waitForEvent('download'), inPanel(page, '[data-action=export]').click()]);
		assert.match(download.suggestedFilename(), /^kaiwa-bus-history-.*\.json$/);
		const file = `${SHOTS}/export.json`;
		await download.saveAs(file);
		const doc = JSON.parse(readFileSync(file, 'utf8'));
		assert.equal(doc.format, 'kaiwa-bus/history');
		assert.equal(doc.version, 1);
		const history = await busHistory(page);
		assert.equal(history.length, FLOW.length);
		assert.deepEqual(doc.records, history, 'the export is the bus history, record for record');

		const before = await panelRows(page);
		await inPanel(page, 'input[data-file=import]').setInputFiles(file);
		await inPanel(page, '.banner', { hasText: 'Viewing' }).waitFor();
		assert.equal(await inPanel(page, '.banner span').innerText(), `Viewing export.json (${FLOW.length} events), read-only.`);
		await emitMetrics(page, 3); // live events do not enter an imported view
		await settle(page);
		assert.deepEqual(await panelRows(page), before, 'the imported file shows the same rows');
		await clickRow(page, history.find((r) => r.status === 'rejected').id);
		assert.match(await detailText(page), /VALIDATION ISSUES/i);

		await inPanel(page, '[data-action=live]').click();
		await waitForRows(page, FLOW.length + 3);

		await inPanel(page, 'input[data-file=import]').setInputFiles({
			name: 'bad.json',
			mimeType: 'application/json',
			buffer: Buffer.from('{"nope": 1}')
		});
		await inPanel(page, '.banner.error').waitFor();
		assert.match(await inPanel(page, '.banner').innerText(), /Could not import bad\.json: not a kaiwa-bus history export/);
	},
	{ allowLogs: [NOISY_HANDLER_ERROR] }
);

const XSS = '<img src=x onerror="window.__xss=1;alert(1)">';
test(
	'payload, name and error text is shown as text and runs nothing',
	async ({ page }) => {
		await page.getByRole('button', { name: 'Sign in', exact: true }).click();
		await page.getByRole('button', { name: 'Start conversation' }).click();
		await page.getByRole('textbox', { name: 'Message' }).fill(XSS);
		await page.getByRole('button', { name: 'Send', exact: true }).click();
		await page.evaluate((html) => {
			const bus = window.kaiwaBus;
			bus.emit(html, { note: `<script>window.__xss = 2</script>${html}` }); // an unknown event: a warning in development mode
			bus.on('analytics.error.occurred', () => {
				throw new Error(html);
			});
			bus.emit('analytics.error.occurred', { sessionId: 's', error: html, context: { html }, timestamp: new Date() });
		}, XSS);
		await settle(page);
		const rows = await panelRows(page);
		await page.waitForTimeout(300); // time for a broken image to fire onerror, were there one
		const message = (await busHistory(page)).find((r) => r.name === 'conversation.message.sent' && r.payload.content === XSS);
		await clickRow(page, message.id);
		assert.ok((await detailText(page)).includes(`content: ${JSON.stringify(XSS)}`), 'the payload shows the characters');
		assert.ok(
			rows.some((r) => r.name === XSS),
			'an HTML event name is shown as characters'
		);
		await clickRow(page, rows.find((r) => r.name === 'analytics.error.occurred').id);
		assert.ok(
			(await inPanel(page, '.detail ul.errors').innerText()).includes(`Error: ${XSS}`),
			'a handler error is shown as characters'
		);
		const found = await page.evaluate(() => ({
			xss: window.__xss,
			inPanel: document.querySelector('kaiwa-devtools').shadowRoot.querySelectorAll('img, script').length,
			inPage: document.querySelectorAll('body img').length
		}));
		assert.deepEqual(found, { xss: undefined, inPanel: 0, inPage: 0 });
		await shot(page, 'panel-xss.png');
	},
	{
		allowLogs: [
			/^console\.warning: .*<img src=x onerror=/, // the bus's development-mode warning about the unknown event
			/^console\.error: Event handler error for analytics\.error\.occurred: Error: <img src=x onerror=/
		]
	}
);

test('pause holds the list; resume catches up', async ({ page }) => {
	await emitMetrics(page, 2);
	await waitForRows(page, 2);
	await inPanel(page, '[data-action=pause]').click();
	assert.equal(await inPanel(page, '[data-action=pause]').innerText(), 'Resume');
	assert.match(await inPanel(page, '.footer').innerText(), /paused/);
	await emitMetrics(page, 3);
	await settle(page);
	assert.equal((await panelRows(page)).length, 2, 'paused: the list stands still');
	await inPanel(page, '[data-action=pause]').click();
	await waitForRows(page, 5);
});

test('clear empties the list and the bus history', async ({ page }) => {
	await emitMetrics(page, 4);
	await waitForRows(page, 4);
	await inPanel(page, '[data-action=clear]').click();
	await waitForRows(page, 0);
	assert.equal(await inPanel(page, '.empty').innerText(), 'No events yet.');
	assert.equal(await page.evaluate(() => window.kaiwaBus.getEventHistory().length), 0);
	await emitMetrics(page, 1);
	await waitForRows(page, 1);
});

test(
	'the statistics table is getPerformanceStats(); a row filters the list',
	async ({ page }) => {
		await clickThrough(page);
		await inPanel(page, '[data-tab=stats]').click();
		const table = await inPanel(page, '.stats tbody tr').evaluateAll((trs) =>
			trs.map((tr) => [...tr.cells].map((td) => td.textContent))
		);
		const stats = await page.evaluate(() => window.kaiwaBus.getPerformanceStats());
		assert.deepEqual(
			table.map(([name]) => name),
			Object.keys(stats).sort()
		);
		for (const [name, count, timed, average, min, max] of table) {
			const s = stats[name];
			assert.equal(Number(count), s.count, `${name} count`);
			assert.equal(Number(timed), s.timedCount, `${name} timed count`);
			for (const [text, value] of [
				[average, s.averageDuration],
				[min, s.minDuration],
				[max, s.maxDuration]
			]) {
				assert.equal(text, formatMs(value), `${name}`);
			}
		}
		assert.equal(Number(table.find(([n]) => n === 'auth.user.login')[1]), 1, 'the rejected login is not counted');
		assert.equal(Number(table.find(([n]) => n === 'vocabulary.word.encountered')[1]), 4);
		await shot(page, 'panel-stats.png');
		await inPanel(page, '.stats tr[data-name="vocabulary.word.encountered"]').click();
		await settle(page);
		const rows = await panelRows(page);
		assert.equal(rows.length, 4);
		assert.ok(rows.every((r) => r.name === 'vocabulary.word.encountered'));
	},
	{ allowLogs: [NOISY_HANDLER_ERROR] }
);

test('collapsed, the panel does no work per event and stays collapsed after a reload', async ({ page }) => {
	await emitMetrics(page, 1);
	await waitForRows(page, 1);
	await inPanel(page, '[data-action=collapse]').click();
	assert.ok(await inPanel(page, '.launcher').isVisible(), 'the small button shows');
	assert.ok(!(await inPanel(page, '.panel').isVisible()), 'the panel hides');
	await settle(page);

	const frames = await countFrames(page);
	const mutations = await countMutations(page);
	await emitMetrics(page, 100);
	assert.equal(await frames(), 0, 'no frame requested while collapsed');
	await settle(page);
	assert.equal(await mutations(), 0, 'no DOM change while collapsed');

	const before = await frames();
	await inPanel(page, '.launcher').click(); // the control: open, the same probes see work
	await waitForRows(page, 101);
	assert.ok((await frames()) > before && (await mutations()) > 0, 'open, the panel draws');

	await inPanel(page, '[data-action=collapse]').click();
	await page.reload();
	await waitReady(page);
	assert.ok(await inPanel(page, '.launcher').isVisible(), 'still collapsed after a reload');
	await shot(page, 'panel-collapsed.png');
	await page.keyboard.press('Alt+Shift+KeyK');
	assert.ok(await inPanel(page, '.panel').isVisible(), 'Alt+Shift+K opens it');
	await page.reload();
	await waitReady(page);
	assert.ok(await inPanel(page, '.panel').isVisible(), 'and it stays open after a reload');
});

test('dock edge and size are remembered', async ({ page }) => {
	const viewport = page.viewportSize();
	await inPanel(page, 'select[data-action=dock]').selectOption('right');
	const panel = inPanel(page, '.panel');
	let box = await panel.boundingBox();
	assert.equal(Math.round(box.x + box.width), viewport.width, 'docked to the right edge');
	assert.equal(Math.round(box.height), viewport.height, 'full height');
	const y = box.y + box.height / 2;
	await page.mouse.move(box.x + 1, y);
	await page.mouse.down();
	await page.mouse.move(box.x - 99, y, { steps: 5 });
	await page.mouse.up();
	const width = (await panel.boundingBox()).width;
	assert.ok(Math.abs(width - (box.width + 100)) <= 2, `dragging the edge resizes: ${box.width} -> ${width}`);
	await page.reload();
	await waitReady(page);
	assert.equal(await page.locator('kaiwa-devtools').getAttribute('dock'), 'right');
	box = await panel.boundingBox();
	assert.ok(Math.abs(box.width - width) <= 1, `the width is remembered: ${box.width} vs ${width}`);
	await page.getByRole('button', { name: 'Sign in', exact: true }).click();
	await waitForRows(page, 2);
	await clickRow(page, (await busHistory(page))[0].id);
	await shot(page, 'panel-docked-right.png');
});

test('a burst of 500 events is drawn in one frame, with rows only for what is in view', async ({ page }) => {
	const frames = await countFrames(page);
	await page.getByRole('button', { name: 'Burst of 500 events' }).click();
	await waitForRows(page, 500);
	assert.equal(await frames(), 1, 'one redraw for the whole burst');
	const drawn = await page.evaluate(() => document.querySelector('kaiwa-devtools').shadowRoot.querySelectorAll('.window .row').length);
	assert.ok(drawn > 5 && drawn < 40, `${drawn} row elements: a view's worth, not 500`);
	const history = await busHistory(page);
	assert.deepEqual(ids(await panelRows(page)), ids(history).reverse(), 'scrolled through, all 500, newest first');
	await page.getByRole('button', { name: 'Burst of 500 events' }).click();
	await page.getByRole('button', { name: 'Burst of 500 events' }).click();
	await waitForRows(page, 1000);
	assert.match(await inPanel(page, '.footer').innerText(), /^1000 events kept · 1000 matches/, 'at most maxRecords (1000) kept');
});

test('scrolled down, older rows stay put as new events arrive; arrow keys move the selection', async ({ page }) => {
	await emitMetrics(page, 300);
	await waitForRows(page, 300);
	const firstShown = () =>
		page.evaluate(() => {
			const root = document.querySelector('kaiwa-devtools').shadowRoot;
			const top = root.querySelector('.list').scrollTop;
			const rows = [...root.querySelectorAll('.window .row:not([hidden])')];
			return Number(rows.find((r) => (r.getAttribute('aria-rowindex') - 2) * 22 >= top).dataset.id);
		});
	await inPanel(page, '.list').evaluate((list) => {
		list.scrollTop = 22 * 100;
	});
	await settle(page);
	const before = await firstShown();
	await emitMetrics(page, 7);
	await waitForRows(page, 307);
	await settle(page);
	assert.equal(await firstShown(), before, 'the row at the top of the view is the same record');

	await inPanel(page, '.list').evaluate((list) => {
		list.scrollTop = 0;
	});
	await settle(page);
	const newest = (await busHistory(page)).at(-1).id;
	await inPanel(page, '.list').focus();
	await page.keyboard.press('ArrowDown'); // nothing selected: the newest
	await page.keyboard.press('ArrowDown');
	await page.keyboard.press('ArrowDown');
	await page.keyboard.press('ArrowUp');
	await settle(page);
	assert.match(await inPanel(page, '.detail h3').innerText(), new RegExp(`#${newest - 1}$`));
	for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowDown'); // past the bottom of the view
	await settle(page);
	const selected = inPanel(page, '.window .row[aria-selected=true]');
	assert.equal(await selected.getAttribute('data-id'), String(newest - 31));
	const [row, list] = await Promise.all([selected.boundingBox(), inPanel(page, '.list').boundingBox()]);
	assert.ok(row.y >= list.y && row.y + row.height <= list.y + list.height + 1, 'the selection is scrolled into view');
});

test(
	'features import none of the others',
	() => {
		const root = resolve('www/src/lib/features');
		const features = readdirSync(root);
		assert.ok(features.length >= 6, `features: ${features}`);
		for (const feature of features) {
			for (const file of readdirSync(join(root, feature), { recursive: true })) {
				const path = join(root, feature, file);
				if (!/\.(js|svelte)$/.test(path)) continue;
				const source = readFileSync(path, 'utf8');
				for (const match of source.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g)) {
					const spec = match[1] ?? match[2];
					const target = spec.startsWith('.')
						? relative(root, resolve(dirname(path), spec))
						: spec.replace(/^\$lib\/features\//, '');
					const other = target.split(sep)[0].split('/')[0];
					const crosses = (spec.startsWith('.') || spec.startsWith('$lib/features/')) && other !== feature;
					assert.ok(!crosses, `${relative('.', path)} imports ${spec}, another feature`);
				}
			}
		}
	},
	{ browser: false }
);

test(
	'the demo runs the packed tarball, not a path into the repository',
	() => {
		const installed = 'www/node_modules/kaiwa-bus';
		assert.ok(!lstatSync(installed).isSymbolicLink(), 'a copy, not a link');
		const lock = JSON.parse(readFileSync('www/node_modules/.package-lock.json', 'utf8'));
		assert.match(lock.packages['node_modules/kaiwa-bus'].resolved, /target\/pack\/kaiwa-bus-[^/]+\.tgz$/);
		const app = JSON.parse(readFileSync('www/package.json', 'utf8'));
		assert.equal(
			{ ...app.dependencies, ...app.devDependencies }['kaiwa-bus'],
			undefined,
			'not in package.json: the lock file stays stable'
		);
		const assets = readdirSync('www/build/client/_app/immutable/assets');
		assert.ok(
			assets.some((f) => /^kaiwa_bus_bg\..+\.wasm$/.test(f)),
			'the client build carries the .wasm'
		);
		const client = readdirSync('www/build/client/_app/immutable', { recursive: true }).filter((f) => f.endsWith('.js'));
		assert.ok(
			client.some((f) => readFileSync(`www/build/client/_app/immutable/${f}`, 'utf8').includes('kaiwa-devtools')),
			'and the panel'
		);
		// Server code may import both entries: neither touches the DOM in Node.
		const node = execFileSync(
			'node',
			[
				'--input-type=module',
				'-e',
				`import { EventBus } from 'kaiwa-bus';
				import * as devtools from 'kaiwa-bus/devtools';
				new EventBus();
				let refused = '';
				try { devtools.mountDevtools(null); } catch (error) { refused = error.message; }
				console.log(Object.keys(devtools).sort().join(' ') + ' | ' + refused);`
			],
			{ cwd: 'www', encoding: 'utf8' }
		).trim();
		assert.equal(
			node,
			'KaiwaDevtools defineDevtools mountDevtools | kaiwa-bus devtools: custom elements need a browser (call this in the browser only, e.g. in onMount)'
		);
	},
	{ browser: false }
);

test(
	'the devtools types compile for a TypeScript consumer',
	() => {
		try {
			execFileSync('node_modules/.bin/tsc', ['-p', 'tests/e2e/types'], { encoding: 'utf8', stdio: 'pipe' });
		} catch (error) {
			assert.fail(`tsc: ${error.stdout}${error.stderr}`);
		}
	},
	{ browser: false }
);
