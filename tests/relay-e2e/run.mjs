// End-to-end tests of kaiwa-bus/relay in headless Chromium against a real
// kaiwa-relay: the tabs of one browser share one WebSocket, see each other's
// events and the relay's exactly once, post a follower's publishes to the
// leader after the emitting task, hand the socket over when the leader tab closes, keep what they emit while the relay is down, and refuse what
// a hostile script posts on their channel. Prints one line per test and
// `# relay-e2e: N passed, N failed`.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createRelayBus } from '#kaiwa-relay';
import { runBrowserSuite } from '../../scripts/lib/browser-suite.mjs';
import { startRedis, startRelay, until } from '../relay-js/servers.js';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const metric = (sessionId) => ({ sessionId, metric: 'm', value: 1, unit: 'n', timestamp: new Date() });

async function openTab(context, url, relay, { outbox = 'memory', waitOpen = true } = {}) {
	const page = await context.newPage();
	page.setDefaultTimeout(15_000);
	page.complaints = [];
	page.on('pageerror', (e) => page.complaints.push(`page error: ${e.message}`));
	await page.goto(`${url}/tests/relay-e2e/page.html?relay=${encodeURIComponent(relay.url)}&outbox=${outbox}`);
	await page.waitForSelector('body[data-ready=yes]', { state: 'attached' });
	if (waitOpen) await page.waitForFunction(() => window.bus.connection.state === 'open');
	return page;
}

const seen = (page) => page.evaluate(() => window.seen);
// Emits in the tab without waiting for the relay's ack (it may be down).
const emit = (page, sessionId) =>
	page.evaluate((s) => {
		window.bus.emit('analytics.performance.metric', { sessionId: s, metric: 'm', value: 1, unit: 'n', timestamp: new Date() });
	}, sessionId);
// What the outside client gets from the relay (its own emits are dispatched locally too: left out).
function received(bus) {
	const got = [];
	bus.on('*', (p) => p.sessionId.startsWith('out') || got.push(p.sessionId));
	return got;
}
async function connections(relay) {
	const text = await (await fetch(`${relay.http}/metrics`)).text();
	return Number(text.match(/^kaiwa_relay_connections (\d+)/m)?.[1]);
}

test('two tabs get each other\'s events exactly once, over one WebSocket at the relay', async ({ context, url, relay }) => {
	const [a, b] = [await openTab(context, url, relay), await openTab(context, url, relay)];
	const leaders = await Promise.all([a, b].map((p) => p.evaluate(() => window.bus.connection.leader)));
	assert.deepEqual(leaders.sort(), [false, true], 'one leader');
	assert.equal(await connections(relay), 1, 'one socket for the two tabs');
	const outside = createRelayBus({ url: relay.url, token: null, WebSocket });
	await until(() => outside.connection.state === 'open', 'the outside client');
	const got = received(outside);
	await emit(a, 'from-a');
	await emit(b, 'from-b');
	await outside.emit('analytics.performance.metric', metric('out-side'));
	await until(() => got.length === 2, 'the tabs\' events outside');
	await a.waitForFunction(() => window.seen.length === 3);
	await b.waitForFunction(() => window.seen.length === 3);
	await new Promise((r) => setTimeout(r, 200));
	for (const page of [a, b]) {
		assert.deepEqual((await seen(page)).sort(), ['analytics.performance.metric:from-a', 'analytics.performance.metric:from-b', 'analytics.performance.metric:out-side']);
	}
	assert.deepEqual(got.sort(), ['from-a', 'from-b']);
	outside.close();
	await Promise.all([a.close(), b.close()]);
});

test('buses of two identities in one browser never share a socket; buses of one identity do; getToken needs an identity', async ({ context, url, relay }) => {
	const page = await openTab(context, url, relay);
	const result = await page.evaluate(async (relayUrl) => {
		// A static token's sub and admin claims are its identity (unverified: only to tell them apart).
		const jwt = (claims) => `e30.${btoa(JSON.stringify(claims)).replace(/=+$/, '')}.sig`;
		const made = [
			{ identity: 'user-a' },
			{ identity: 'user-a' },
			{ identity: 'admin' },
			{ identity: 'user-a', subscribe: ['auth.*'] },
			{ token: jwt({ sub: 'b', exp: 1 }) },
			{ token: jwt({ sub: 'b', exp: 2 }) },
			{ token: jwt({ sub: 'b', admin: true }) }
		].map((options) => window.createRelayBus({ url: relayUrl, token: null, share: true, ...options }));
		await new Promise((r) => setTimeout(r, 300));
		const got = made.map((bus) => bus.connection.leader);
		for (const bus of made) bus.close();
		// getToken without identity: whose tokens it gets is unknown until it has one.
		const getToken = () => null;
		let refused = null;
		try {
			window.createRelayBus({ url: relayUrl, getToken });
		} catch (error) {
			refused = `${error.name}: ${error.message}`;
		}
		window.createRelayBus({ url: relayUrl, getToken, share: false }).close();
		return { got, refused };
	}, relay.url);
	assert.match(result.refused ?? 'no error', /^TypeError: .*options\.identity/);
	assert.deepEqual(result.got, [true, false, true, true, true, false, true]);
	await page.close();
});

test('a follower tab\'s burst of emits posts nothing while it runs, then reaches the relay through the leader once each, in order', async ({ context, url, relay }) => {
	const [a, b] = [await openTab(context, url, relay), await openTab(context, url, relay)];
	const follower = (await a.evaluate(() => window.bus.connection.leader)) ? b : a;
	const outside = createRelayBus({ url: relay.url, token: null, WebSocket });
	await until(() => outside.connection.state === 'open', 'the outside client');
	const got = received(outside);
	const { postedDuring, refused } = await follower.evaluate(async () => {
		let posted = 0;
		const post = BroadcastChannel.prototype.postMessage;
		BroadcastChannel.prototype.postMessage = function (message) {
			posted++;
			return post.call(this, message);
		};
		const metric = (s, extra) => ({ sessionId: s, metric: 'm', value: 1, unit: 'n', timestamp: new Date(), ...extra });
		const sent = [];
		for (let i = 0; i < 20; i++) sent.push(window.bus.emit('analytics.performance.metric', metric(`burst-${i}`)));
		// A function cannot be cloned to the leader: that emit alone is refused.
		const bad = window.bus.emit('analytics.performance.metric', metric('burst-bad', { f: () => 1 }));
		const postedDuring = posted;
		BroadcastChannel.prototype.postMessage = post;
		await Promise.all(sent);
		const refused = await bad.then(() => null, (e) => e.kind);
		return { postedDuring, refused };
	});
	assert.equal(postedDuring, 0, 'no message posted during the emits');
	assert.equal(refused, 'malformed');
	await until(() => got.length === 20, 'the burst outside');
	assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `burst-${i}`));
	outside.close();
	await Promise.all([a.close(), b.close()]);
});

test('closing the leader tab hands the socket over with no event lost or doubled', async ({ context, url, relay }) => {
	const [a, b] = [await openTab(context, url, relay), await openTab(context, url, relay)];
	const [leader, follower] = (await a.evaluate(() => window.bus.connection.leader)) ? [a, b] : [b, a];
	const outside = createRelayBus({ url: relay.url, token: null, WebSocket });
	await until(() => outside.connection.state === 'open', 'the outside client');
	const got = received(outside);
	// Events from outside before, during and after the handover; the follower emits during it too.
	const sent = [];
	const burst = (async () => {
		for (let i = 0; i < 60; i++) {
			sent.push(`out-${i}`);
			outside.emit('analytics.performance.metric', metric(`out-${i}`));
			await new Promise((r) => setTimeout(r, 10));
		}
	})();
	await new Promise((r) => setTimeout(r, 150));
	await leader.close({ runBeforeUnload: false });
	for (let i = 0; i < 10; i++) await emit(follower, `tab-${i}`);
	await burst;
	await follower.waitForFunction(() => window.bus.connection.leader && window.bus.connection.state === 'open');
	await follower.waitForFunction((n) => window.seen.length >= n, 70);
	await until(() => got.length >= 10, 'the follower\'s events outside');
	await new Promise((r) => setTimeout(r, 300));
	const mine = (await seen(follower)).map((s) => s.split(':')[1]);
	assert.deepEqual(mine.filter((s) => s.startsWith('out-')), sent, 'every outside event once, in order');
	assert.deepEqual(mine.filter((s) => s.startsWith('tab-')), Array.from({ length: 10 }, (_, i) => `tab-${i}`));
	assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `tab-${i}`), 'the follower\'s events reached the relay once each, in order');
	assert.equal(await follower.evaluate(() => window.bus.connection.leader), true, 'the follower leads now');
	outside.close();
	await follower.close();
});

test('a hostile script posting on the tabs\' channel is refused and breaks nothing', async ({ context, url, relay }) => {
	const [a, b] = [await openTab(context, url, relay), await openTab(context, url, relay)];
	const refused = await a.evaluate(async (relayUrl) => {
		const channel = new BroadcastChannel(`relay:${relayUrl}`);
		channel.postMessage({ nope: true });
		channel.postMessage({ v: 1, kind: 'events', from: 'x', events: [{ name: 'analytics.performance.metric', payload: { sessionId: 7 } }] });
		channel.postMessage({ v: 1, kind: 'remote', from: 'x', name: 'auth.user.login', offset: 'o', payload: { userId: 1 } });
		channel.postMessage({ v: 1, kind: 'settled', from: 'x', ref: 'r' });
		channel.close();
		await new Promise((r) => setTimeout(r, 200));
		return true;
	}, relay.url);
	assert.ok(refused);
	assert.deepEqual(await seen(b), [], 'nothing hostile was dispatched');
	await emit(a, 'after');
	await b.waitForFunction(() => window.seen.length === 1);
	assert.deepEqual(await seen(b), ['analytics.performance.metric:after']);
	await Promise.all([a.close(), b.close()]);
});

test('redis: the relay stopped, emits made, the relay back: all delivered once, in order', async ({ context, url }) => {
	const redis = await startRedis();
	let relay = await startRelay({ engine: 'redis', redisUrl: redis.url, insecure: true });
	const port = relay.port;
	try {
		const tab = await openTab(context, url, relay);
		const outside = createRelayBus({ url: relay.url, token: null, WebSocket });
		await until(() => outside.connection.state === 'open', 'the outside client');
		const got = received(outside);
		await relay.kill();
		await tab.waitForFunction(() => window.bus.connection.state === 'connecting');
		for (let i = 0; i < 5; i++) await emit(tab, `offline-${i}`);
		assert.equal(await tab.evaluate(() => window.bus.connection.outbox), 5);
		relay = await startRelay({ port, engine: 'redis', redisUrl: redis.url, insecure: true });
		await until(() => got.length === 5, 'the offline events', 20_000);
		await new Promise((r) => setTimeout(r, 300));
		assert.deepEqual(got, Array.from({ length: 5 }, (_, i) => `offline-${i}`));
		assert.equal(await tab.evaluate(() => window.bus.connection.outbox), 0);
		outside.close();
		await tab.close();
	} finally {
		await relay.kill();
		await redis.kill();
	}
});

test("outbox 'indexeddb': emits made offline, the tab closed, reopened with the relay back: each delivered once, in order", async ({ context, url }) => {
	const redis = await startRedis();
	let relay = await startRelay({ engine: 'redis', redisUrl: redis.url, insecure: true });
	const port = relay.port;
	await relay.kill();
	try {
		const offline = await openTab(context, url, relay, { outbox: 'indexeddb', waitOpen: false });
		for (let i = 0; i < 5; i++) await emit(offline, `kept-${i}`);
		await new Promise((r) => setTimeout(r, 200)); // the tasks that emitted have ended: written
		await offline.close({ runBeforeUnload: false });

		relay = await startRelay({ port, engine: 'redis', redisUrl: redis.url, insecure: true });
		const outside = createRelayBus({ url: relay.url, token: null, WebSocket });
		await until(() => outside.connection.state === 'open', 'the outside client');
		const got = received(outside);
		const reopened = await openTab(context, url, relay, { outbox: 'indexeddb' });
		await until(() => got.length === 5, 'the kept events', 20_000);
		await reopened.waitForFunction(() => window.bus.connection.outbox === 0);
		await new Promise((r) => setTimeout(r, 300));
		assert.deepEqual(got, Array.from({ length: 5 }, (_, i) => `kept-${i}`));
		assert.deepEqual(await seen(reopened), [], 'not dispatched again in the reopened tab');
		outside.close();
		await reopened.close();
	} finally {
		await relay.kill();
		await redis.kill();
	}
});

// Each test gets a fresh memory relay (some start their own too).
await runBrowserSuite('relay-e2e', tests, async (run) => {
	const relay = await startRelay({ insecure: true });
	try {
		await run({ relay });
	} finally {
		await relay.kill();
	}
});
