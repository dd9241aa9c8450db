// End-to-end tests of the devtools panel on the buses that wrap an
// EventBus, in headless Chromium, on tests/e2e/buses.html (the built
// package, pkg/, served from the repo root):
//   a PersistentEventBus on the real IndexedDB: restored records set apart
//     in the list, where and how many events are stored in the statistics,
//     Clear stored history, and the memory fallback's reason;
//   a RelayBus on a real kaiwa-relay (target/debug/kaiwa-relay, built by
//     `cargo build -p kaiwa-relay`): connection state and outbox in the
//     header through a relay restart, the gap it causes, and no
//     onConnection listener while the panel is collapsed or removed.
//   node tests/e2e/buses.test.mjs [name filter]
// Prints one line per test and `# panel-buses: N passed, N failed`; exits 1
// on a failure or if no test ran. Screenshots go to test-output/e2e-buses/.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { runBrowserSuite } from '../../scripts/lib/browser-suite.mjs';
import { startRelay, until } from '../relay-js/servers.js';

const SHOTS = 'test-output/e2e-buses';
mkdirSync(SHOTS, { recursive: true });

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

async function openPage(context, url, query = '') {
	const page = await context.newPage();
	page.setDefaultTimeout(15_000);
	page.complaints = [];
	page.on('pageerror', (e) => page.complaints.push(`page error: ${e.message}`));
	page.on('console', (m) => m.type() === 'error' && page.complaints.push(`console.error: ${m.text()}`));
	await page.goto(`${url}/tests/e2e/buses.html${query}`);
	await page.waitForSelector('body[data-ready=yes]', { state: 'attached' });
	return page;
}

// Playwright's locators pierce the open shadow root of <kaiwa-devtools>.
const panel = (page, selector) => page.locator(`kaiwa-devtools ${selector}`);
const login = (userId) => ({ userId, email: `${userId}@example.com`, tier: 'pro', timestamp: new Date() });

test('store: restored records are set apart in the list, with a separator above the newest of them', async ({ context, url }) => {
	const name = `panel-restored-${Date.now()}`;
	const page = await openPage(context, url);
	await page.evaluate(
		async ({ name, logins }) => {
			const bus = window.kaiwa.createPersistentBus({ name });
			await bus.ready;
			for (const l of logins) bus.emit('auth.user.login', { ...l, timestamp: new Date(l.timestamp) });
			await bus.flush();
		},
		{ name, logins: ['old1', 'old2', 'old3'].map(login) }
	);
	await page.reload();
	await page.waitForSelector('body[data-ready=yes]', { state: 'attached' });
	await page.evaluate(async (name) => {
		const bus = window.kaiwa.createPersistentBus({ name });
		window.bus = bus;
		window.kaiwa.mountDevtools(bus, { open: true, storageKey: false });
		await bus.ready;
		bus.emit('auth.user.logout', { userId: 'new1', timestamp: new Date() });
		bus.emit('auth.user.logout', { userId: 'new2', timestamp: new Date() });
	}, name);
	await panel(page, '.window .row[data-source=restored]').first().waitFor();
	const rows = await page.evaluate(() => {
		const root = document.querySelector('kaiwa-devtools').shadowRoot;
		return [...root.querySelectorAll('.window .row:not([hidden])')]
			.sort((a, b) => new DOMMatrix(getComputedStyle(a).transform).f - new DOMMatrix(getComputedStyle(b).transform).f)
			.map((row) => ({
				name: row.querySelector('.name').textContent,
				source: row.dataset.source,
				boundary: row.hasAttribute('data-boundary'),
				style: `${getComputedStyle(row.querySelector('.name')).fontStyle} ${getComputedStyle(row).borderTopStyle}`
			}));
	});
	const line = (r) => `${r.name}:${r.source}${r.boundary ? ':boundary' : ''}`;
	assert.deepEqual(rows.map(line), [
		'auth.user.logout:local',
		'auth.user.logout:local',
		'auth.user.login:restored:boundary',
		'auth.user.login:restored',
		'auth.user.login:restored'
	]);
	assert.notEqual(rows[0].style, rows[2].style, 'a restored row looks unlike one of this session');
	assert.equal(rows[2].style.split(' ')[1], 'dashed', 'the separator is a line above the newest restored record');
	// The source filter on 'restored' keeps only them: no separator without a row of this session above.
	await panel(page, 'select.source').selectOption('restored');
	await page.waitForFunction(
		() => document.querySelector('kaiwa-devtools').shadowRoot.querySelectorAll('.window .row:not([hidden])').length === 3
	);
	assert.equal(await panel(page, '.window .row[data-boundary]:not([hidden])').count(), 0);
	await panel(page, 'select.source').selectOption('');
	await panel(page, '.window .row[data-boundary]').waitFor();
	await page.screenshot({ path: `${SHOTS}/restored.png` });
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('store: the statistics show where and how many events are stored; Clear stored history empties the store', async ({
	context,
	url
}) => {
	const name = `panel-stats-${Date.now()}`;
	const page = await openPage(context, url);
	await page.evaluate(async (name) => {
		const bus = window.kaiwa.createPersistentBus({ name });
		window.bus = bus;
		await bus.ready;
		for (let i = 0; i < 5; i++) bus.emit('auth.user.logout', { userId: `u${i}`, timestamp: new Date() });
		window.kaiwa.mountDevtools(bus, { open: true, storageKey: false });
	}, name);
	assert.equal(await panel(page, '.store').isVisible(), false, 'no storage section in the events view');
	await panel(page, '.tabs button[data-tab=stats]').click();
	await panel(page, '.store').waitFor();
	assert.match(await panel(page, '.store-where').textContent(), /^Stored in IndexedDB; keeps everything$/);
	await page.waitForFunction(
		() => document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.store-count').textContent === '5 events stored'
	);
	await page.screenshot({ path: `${SHOTS}/store-stats.png` });
	await panel(page, 'button[data-action=clear-stored]').click();
	await page.waitForFunction(
		() => document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.store-count').textContent === '0 events stored'
	);
	assert.equal(await page.evaluate(() => window.bus.storedCount()), 0, 'the store is empty');
	assert.equal(await page.evaluate(() => window.bus.getEventHistory().length), 5, "this session's history stays");
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('store: in memory as a fallback, the statistics say so and why; a plain EventBus has no storage section nor connection', async ({
	context,
	url
}) => {
	const page = await openPage(context, url);
	await page.evaluate(async () => {
		const indexedDB = {
			open() {
				throw new Error('IndexedDB refused by the test');
			}
		};
		const bus = window.kaiwa.createPersistentBus({ name: 'panel-fallback', indexedDB });
		await bus.ready;
		bus.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
		window.kaiwa.mountDevtools(bus, { open: true, storageKey: false });
	});
	await panel(page, '.tabs button[data-tab=stats]').click();
	await panel(page, '.store').waitFor();
	assert.match(
		await panel(page, '.store-where').textContent(),
		/^Stored in memory, as a fallback \(lost on reload\): .*IndexedDB refused by the test.*; keeps the newest 100,000 events$/
	);
	await page.waitForFunction(
		() => document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.store-count').textContent === '1 event stored'
	);
	assert.equal(await panel(page, '.connection').isVisible(), false, 'a store has no connection');
	// The same panel switched to a plain EventBus.
	await page.evaluate(() => {
		document.querySelector('kaiwa-devtools').bus = new window.kaiwa.EventBus();
	});
	await page.waitForFunction(() => document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.store').hidden);
	assert.equal(await panel(page, '.connection').isVisible(), false);
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('relay: the header shows the connection and the outbox through a relay restart, and the gap it causes; no listener while collapsed', async ({
	context,
	url
}) => {
	let relay = await startRelay({ insecure: true });
	const port = relay.port;
	const page = await openPage(context, url);
	try {
		await page.evaluate((relayUrl) => {
			const bus = window.kaiwa.createRelayBus({ url: relayUrl, token: null });
			// Counts the onConnection listeners alive.
			window.listeners = 0;
			const onConnection = bus.onConnection.bind(bus);
			bus.onConnection = (listener) => {
				window.listeners++;
				const off = onConnection(listener);
				let on = true;
				return () => {
					if (on) window.listeners--;
					on = false;
					off();
				};
			};
			window.bus = bus;
			window.panel = window.kaiwa.mountDevtools(bus, { open: true, storageKey: false });
		}, relay.url);
		const header = panel(page, '.toolbar .connection');
		await page.waitForFunction(() => window.bus.connection.state === 'open');
		await panel(page, '.connection[data-state=open]').waitFor();
		assert.equal(await header.textContent(), 'openoutbox 0');
		assert.equal(await page.evaluate(() => window.listeners), 1);
		await page.evaluate(() => window.bus.emit('auth.user.logout', { userId: 'before', timestamp: new Date() }));

		await relay.kill();
		await panel(page, '.connection[data-state=connecting]').waitFor();
		await page.evaluate(() => {
			for (const id of ['a', 'b', 'c']) window.bus.emit('auth.user.logout', { userId: id, timestamp: new Date() });
		});
		await page.waitForFunction(
			() => document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.outbox').textContent === 'outbox 3'
		);
		assert.equal(await panel(page, '.gaps').isVisible(), false, 'no gap yet');
		await page.screenshot({ path: `${SHOTS}/relay-down.png` });

		// A memory relay restarted has lost its log: the resume is a gap.
		relay = await startRelay({ port, insecure: true });
		await panel(page, '.connection[data-state=open] .gaps:not([hidden])').waitFor();
		await page.waitForFunction(
			() => document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.outbox').textContent === 'outbox 0'
		);
		const gap = await page.evaluate(() => window.bus.gaps.at(-1).at.toTimeString().slice(0, 8));
		assert.match(await panel(page, '.gaps').textContent(), new RegExp(`^⚠ 1 gap, last ${gap}\\.\\d{3}$`));
		// The gap is also a record, a marker row in the list.
		const gapRow = panel(page, '.window .row[data-gap]');
		await gapRow.waitFor();
		assert.equal(await gapRow.locator('.name').textContent(), '⚠ gap: events missed');
		assert.equal(await gapRow.locator('.source').textContent(), 'remote');
		await page.screenshot({ path: `${SHOTS}/relay-gap.png` });

		// Collapsed: no listener, and the header is not touched; open again: current again.
		await page.evaluate(() => window.panel.close());
		assert.equal(await page.evaluate(() => window.listeners), 0, 'collapsed, the panel does not listen to the connection');
		await relay.kill();
		await until(() => page.evaluate(() => window.bus.connection.state !== 'open'), 'the bus to notice');
		await page.evaluate(() => {
			window.bus.emit('auth.user.logout', { userId: 'while-collapsed', timestamp: new Date() }); // resolves once the relay is back: not awaited
		});
		assert.equal(
			await page.evaluate(() => document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.outbox').textContent),
			'outbox 0'
		);
		await page.evaluate(() => window.panel.open());
		assert.equal(await page.evaluate(() => window.listeners), 1);
		assert.equal(
			await page.evaluate(() => document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.outbox').textContent),
			'outbox 1'
		);
		await page.evaluate(() => window.panel.remove());
		assert.equal(await page.evaluate(() => window.listeners), 0, 'removed, the panel does not listen');
		// Chromium logs each refused WebSocket as an error; the bus itself logs none.
		assert.deepEqual(
			page.complaints.filter((c) => !/WebSocket connection to .* failed/.test(c)),
			[]
		);
	} finally {
		await page.close();
		await relay.kill();
	}
});

const only = process.argv[2]; // a part of a test's name: run only those
await runBrowserSuite('panel-buses', only ? tests.filter((t) => t.name.includes(only)) : tests);
