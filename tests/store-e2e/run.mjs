// End-to-end tests of kaiwa-bus/store in headless Chromium, on its real
// IndexedDB: a reload restores the history (and the panel shows it), a tab
// closed mid-burst leaves a whole prefix of its events, two tabs writing at
// once store each event once, and retention trims. Prints one line per test
// and `# store-e2e: N passed, N failed`.

import assert from 'node:assert/strict';
import { runBrowserSuite } from '../../scripts/lib/browser-suite.mjs';
import { blockedTests } from './blocked.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

async function openPage(context, url) {
	const page = await context.newPage();
	page.setDefaultTimeout(15_000);
	const complaints = [];
	page.on('pageerror', (e) => complaints.push(`page error: ${e.message}`));
	page.on('console', (m) => m.type() === 'error' && complaints.push(`console.error: ${m.text()}`));
	await page.goto(`${url}/tests/store-e2e/page.html`);
	await page.waitForSelector('body[data-ready=yes]', { state: 'attached' });
	page.complaints = complaints;
	return page;
}

// Reads the store `name` from a page, oldest first.
const readStore = (page, name) =>
	page.evaluate(async (name) => {
		const store = new window.kaiwa.IndexedDbEventStore({ name });
		const events = await store.read();
		store.close();
		return events.map((e) => ({
			eid: e.eid,
			name: e.name,
			i: e.payload?.i ?? null,
			source: e.source,
			status: e.status,
			date: e.payload?.timestamp instanceof Date
		}));
	}, name);

test('emit, reload: the history and the panel show the earlier records as restored', async ({ context, url }) => {
	const page = await openPage(context, url);
	await page.evaluate(async () => {
		const bus = window.kaiwa.createPersistentBus({ name: 'reload' });
		await bus.ready;
		bus.emit('auth.user.login', { userId: 'u1', email: 'u1@example.com', tier: 'pro', timestamp: new Date() });
		bus.emit('auth.user.logout', { userId: 'u1', timestamp: new Date() });
		await bus.flush();
	});
	await page.reload();
	await page.waitForSelector('body[data-ready=yes]', { state: 'attached' });
	const after = await page.evaluate(async () => {
		const bus = window.kaiwa.createPersistentBus({ name: 'reload' });
		window.kaiwa.mountDevtools(bus, { open: true, remember: false });
		await bus.ready;
		bus.emit('auth.user.login', { userId: 'u1', email: 'u1@example.com', tier: 'pro', timestamp: new Date() });
		await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
		const root = document.querySelector('kaiwa-devtools').shadowRoot;
		const rows = [...root.querySelectorAll('.row:not([hidden]) .name')].map((el) => el.textContent);
		return {
			history: bus.getEventHistory().map((r) => `${r.name}:${r.source ?? 'local'}:${r.payload.timestamp instanceof Date}`),
			flow: bus.getEventFlow('u1').length,
			rows
		};
	});
	assert.deepEqual(after.history, ['auth.user.login:restored:true', 'auth.user.logout:restored:true', 'auth.user.login:local:true']);
	assert.equal(after.flow, 3);
	assert.equal(after.rows.filter((n) => n === 'auth.user.logout').length, 1, `the panel lists the restored logout: ${after.rows}`);
	assert.equal(after.rows.filter((n) => n === 'auth.user.login').length, 2, `the panel lists both logins: ${after.rows}`);
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('a tab closed during a burst (no unload handlers) leaves a contiguous prefix of the burst, none torn', async ({ context, url }) => {
	const page = await openPage(context, url);
	// 2,000 events, one task each, so that many transactions are in flight
	// when the tab goes away.
	await page.evaluate(async () => {
		const bus = window.kaiwa.createPersistentBus({ name: 'burst' });
		await bus.ready;
		let i = 0;
		const next = () => {
			bus.emit('analytics.performance.metric', { sessionId: 's', metric: 'burst', value: i, unit: 'n', timestamp: new Date(), i });
			if (++i < 2000) setTimeout(next, 0);
		};
		next();
		await new Promise((r) => setTimeout(r, 150));
	});
	await page.close({ runBeforeUnload: false });
	const reader = await openPage(context, url);
	const events = await readStore(reader, 'burst');
	assert.ok(events.length > 0, 'some of the burst was stored before the tab closed');
	assert.deepEqual(
		events.map((e) => e.i),
		events.map((_, i) => i),
		'the stored events are 0..n-1: a prefix, with no hole'
	);
	assert.ok(
		events.every((e) => e.name === 'analytics.performance.metric' && e.status === 'delivered' && e.date),
		'every stored record is whole'
	);
	console.log(`#   ${events.length} of 2000 events were stored before the tab closed`);
	await reader.close();
});

test('two tabs writing at once: each event is stored once, and both read the same log', async ({ context, url }) => {
	const [a, b] = await Promise.all([openPage(context, url), openPage(context, url)]);
	const burst = (page, tab) =>
		page.evaluate(async (tab) => {
			const bus = window.kaiwa.createPersistentBus({ name: 'two-tabs' });
			await bus.ready;
			for (let i = 0; i < 300; i++) {
				bus.emit('analytics.feature.used', { sessionId: tab, feature: 'f', action: 'a', properties: {}, timestamp: new Date(), i });
				if (i % 50 === 0) await new Promise((r) => setTimeout(r, 0));
			}
			await bus.flush();
		}, tab);
	await Promise.all([burst(a, 'a'), burst(b, 'b')]);
	const [fromA, fromB] = [await readStore(a, 'two-tabs'), await readStore(b, 'two-tabs')];
	assert.equal(fromA.length, 600);
	assert.equal(new Set(fromA.map((e) => e.eid)).size, 600, 'no event stored twice');
	assert.deepEqual(fromA, fromB, 'both tabs read the same log');
	await Promise.all([a.close(), b.close()]);
});

test('retention trims the store to its limits, in the background', async ({ context, url }) => {
	const page = await openPage(context, url);
	const counts = await page.evaluate(async () => {
		const retain = { maxEvents: 100 };
		// A first session that keeps everything...
		const first = window.kaiwa.createPersistentBus({ name: 'retain' });
		await first.ready;
		for (let i = 0; i < 300; i++)
			first.emit('analytics.feature.used', { sessionId: 's', feature: 'f', action: 'a', properties: {}, timestamp: new Date(), i });
		await first.flush();
		const store = new window.kaiwa.IndexedDbEventStore({ name: 'retain' });
		const before = await store.count();
		// ...and a next one that keeps 100 trims when the page is idle.
		const second = window.kaiwa.createPersistentBus({ name: 'retain', retain });
		await second.ready;
		let after = before;
		for (let tries = 0; tries < 100 && after > retain.maxEvents; tries++) {
			await new Promise((r) => setTimeout(r, 50));
			after = await store.count();
		}
		const oldest = (await store.read({ limit: 1 }))[0].payload.i;
		store.close();
		return { before, after, oldest };
	});
	assert.equal(counts.before, 300);
	assert.equal(counts.after, 100);
	assert.equal(counts.oldest, 200, 'the oldest went first');
	await page.close();
});

tests.push(...blockedTests(openPage));

await runBrowserSuite('store-e2e', tests);
