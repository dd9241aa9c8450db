// End-to-end tests of kaiwa-bus/relay in headless Chromium against a real
// kaiwa-relay: the tabs of one browser share one WebSocket, see each other's
// events and the relay's exactly once, post a follower's publishes to the
// leader after the emitting task, hand the socket over when the leader tab
// closes or crashes (nothing lost or doubled, nothing from before a tab
// opened), keep what they emit while the relay is down, and refuse what a
// hostile script posts on their channel. Prints one line per test and
// `# relay-e2e: N passed, N failed`.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createRelayBus } from '#kaiwa-relay';
import { runBrowserSuite } from '../../scripts/lib/browser-suite.mjs';
import { startRedis, startRelay, until } from '../relay-js/servers.js';

const tests = [];
const test = (name, fn) => (!process.env.ONLY || new RegExp(process.env.ONLY).test(name)) && tests.push({ name, fn });
const metric = (sessionId) => ({ sessionId, metric: 'm', value: 1, unit: 'n', timestamp: new Date() });

async function openTab(context, url, relay, { outbox = 'memory', waitOpen = true, bus = true } = {}) {
	const page = await context.newPage();
	page.setDefaultTimeout(15_000);
	page.complaints = [];
	page.warnings = [];
	page.on('pageerror', (e) => page.complaints.push(`page error: ${e.message}`));
	page.on('console', (m) => m.type() === 'warning' && page.warnings.push(m.text()));
	await page.goto(`${url}/tests/relay-e2e/page.html?relay=${encodeURIComponent(relay.url)}&outbox=${outbox}${bus ? '' : '&bus=none'}`);
	await page.waitForSelector('body[data-ready=yes]', { state: 'attached' });
	if (bus && waitOpen) await page.waitForFunction(() => window.bus.connection.state === 'open');
	return page;
}

const seen = (page) => page.evaluate(() => window.seen);
// Emits in the tab without waiting for the relay's ack (it may be down);
// with `stored`, waits for it.
const emit = (page, sessionId, stored = false) =>
	page.evaluate(
		async ([s, stored]) => {
			const sent = window.bus.emit('analytics.performance.metric', {
				sessionId: s,
				metric: 'm',
				value: 1,
				unit: 'n',
				timestamp: new Date()
			});
			if (stored) await sent;
		},
		[sessionId, stored]
	);
// The tabs, the leader first.
async function byRole(...pages) {
	const leads = await Promise.all(pages.map((p) => p.evaluate(() => window.bus.connection.leader)));
	assert.equal(leads.filter(Boolean).length, 1, 'one leader');
	return [pages[leads.indexOf(true)], ...pages.filter((_, i) => !leads[i])];
}
// A round trip through the relay: an event the outside client publishes
// after everything before it, waited for in every tab.
async function roundTrip(outside, pages, id) {
	await outside.emit('analytics.performance.metric', metric(id));
	for (const page of pages) await page.waitForFunction((s) => window.seen.includes(s), `analytics.performance.metric:${id}`);
}
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

test("two tabs get each other's events exactly once, over one WebSocket at the relay", async ({ context, url, relay }) => {
	const [a, b] = [await openTab(context, url, relay), await openTab(context, url, relay)];
	const leaders = await Promise.all([a, b].map((p) => p.evaluate(() => window.bus.connection.leader)));
	assert.deepEqual(leaders.sort(), [false, true], 'one leader');
	assert.equal(await connections(relay), 1, 'one socket for the two tabs');
	const outside = createRelayBus({ url: relay.url, token: null, WebSocket });
	await until(() => outside.connection.state === 'open', 'the outside client');
	const got = received(outside);
	await emit(a, 'from-a', true);
	await emit(b, 'from-b', true);
	await outside.emit('analytics.performance.metric', metric('out-side'));
	await until(() => got.length === 2, "the tabs' events outside");
	// Anything doubled (a tab's event back through the relay) arrives before this.
	await roundTrip(outside, [a, b], 'out-end');
	for (const page of [a, b]) {
		assert.deepEqual(
			(await seen(page)).sort(),
			['from-a', 'from-b', 'out-end', 'out-side'].map((s) => `analytics.performance.metric:${s}`)
		);
	}
	assert.deepEqual(got.sort(), ['from-a', 'from-b']);
	outside.close();
	await Promise.all([a.close(), b.close()]);
});

test('buses of two identities in one browser never share a socket; buses of one identity do; getToken needs an identity', async ({
	context,
	url,
	relay
}) => {
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
		// Five groups, five leaders once elected; a follower cannot lead while its leader holds the lock.
		while (made.filter((bus) => bus.connection.leader).length < 5) await new Promise((r) => setTimeout(r, 10));
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

test("a follower tab's burst of emits posts nothing while it runs, then reaches the relay through the leader once each, in order", async ({
	context,
	url,
	relay
}) => {
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
		const refused = await bad.then(
			() => null,
			(e) => e.kind
		);
		return { postedDuring, refused };
	});
	assert.equal(postedDuring, 0, 'no message posted during the emits');
	assert.equal(refused, 'malformed');
	await until(() => got.length === 20, 'the burst outside');
	assert.deepEqual(
		got,
		Array.from({ length: 20 }, (_, i) => `burst-${i}`)
	);
	outside.close();
	await Promise.all([a.close(), b.close()]);
});

// The leader goes away (closed, no unload handler of ours runs; or its
// renderer crashed) while the other tabs emit every few ms (so that some of
// their publishes are in flight: stored by the relay, not yet settled), and
// an outside client publishes. Before it, the tabs published events of their
// own (the relay never sends those back to the leader, so the position the
// next leader resumes from stays before them: its replay holds them), and a
// third tab opened after them.
async function handover(context, url, relay, end) {
	const outside = createRelayBus({ url: relay.url, token: null, WebSocket });
	await until(() => outside.connection.state === 'open', 'the outside client');
	const got = received(outside);
	const [a, b] = [await openTab(context, url, relay), await openTab(context, url, relay)];
	await roundTrip(outside, [a, b], 'out-pre');
	for (let i = 0; i < 5; i++) {
		await emit(a, `pre-a-${i}`, true);
		await emit(b, `pre-b-${i}`, true);
	}
	const late = await openTab(context, url, relay);
	const [leader, follower] = await byRole(a, b);
	// The late tab has heard from the leader (its status, with what it has seen).
	await late.waitForFunction(() => window.bus.connection.epoch !== null);
	const tabs = [follower, late];
	const stream = (page, prefix) =>
		page.evaluate((prefix) => {
			let i = 0;
			const timer = setInterval(
				() =>
					window.bus.emit('analytics.performance.metric', {
						sessionId: `${prefix}-${i++}`,
						metric: 'm',
						value: 1,
						unit: 'n',
						timestamp: new Date()
					}),
				3
			);
			window.stop = () => (clearInterval(timer), i);
		}, prefix);
	await Promise.all([stream(follower, 'tab-f'), stream(late, 'tab-l')]);
	await follower.waitForFunction(() => window.seen.filter((s) => s.includes(':tab-l-')).length >= 10);
	await end(leader);
	const sent = [];
	const burst = (async () => {
		for (let i = 0; i < 40; i++) {
			sent.push(`out-${i}`);
			outside.emit('analytics.performance.metric', metric(`out-${i}`));
			await new Promise((r) => setTimeout(r, 10));
		}
	})();
	await until(
		async () =>
			(await Promise.all(tabs.map((t) => t.evaluate(() => window.bus.connection)))).some((c) => c.leader && c.state === 'open'),
		'a new leader'
	);
	await burst;
	const [f, l] = await Promise.all(tabs.map((t) => t.evaluate(() => window.stop())));
	await until(() => got.filter((s) => s.startsWith('tab-')).length >= f + l, "the tabs' events outside", 20_000);
	await roundTrip(outside, tabs, 'out-end');
	const ids = (n, prefix) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
	for (const [tab, name] of [
		[follower, 'the old follower'],
		[late, 'the tab that opened late']
	]) {
		const mine = (await seen(tab)).map((s) => s.split(':')[1]);
		const twice = mine.filter((s, i) => mine.indexOf(s) !== i);
		assert.deepEqual(twice, [], `${name} got these twice`);
		assert.deepEqual(
			mine.filter((s) => s.startsWith('out-') && s !== 'out-pre'),
			[...sent, 'out-end'],
			`${name}: every outside event once, in order`
		);
		assert.deepEqual(
			mine.filter((s) => s.startsWith('tab-f-')),
			ids(f, 'tab-f'),
			name
		);
		assert.deepEqual(
			mine.filter((s) => s.startsWith('tab-l-')),
			ids(l, 'tab-l'),
			name
		);
		if (tab === late)
			assert.deepEqual(
				mine.filter((s) => s.includes('pre')),
				[],
				'the late tab got nothing from before it opened'
			);
	}
	assert.deepEqual(
		got.filter((s) => s.startsWith('tab-')).sort(),
		[...ids(f, 'tab-f'), ...ids(l, 'tab-l')].sort(),
		"the tabs' events reached the relay once each"
	);
	outside.close();
	await Promise.all(tabs.map((t) => t.close()));
}

test('the leader tab closes with publishes in flight: the socket is handed over; every tab gets each event once, and a tab that opened late nothing from before it opened', async ({
	context,
	url,
	relay
}) => {
	await handover(context, url, relay, (leader) => leader.close({ runBeforeUnload: false }));
});

test('the leader tab crashes with publishes in flight: the same', async ({ context, url, relay }) => {
	await handover(context, url, relay, async (leader) => {
		// chrome://crash ends the tab's renderer process (only this tab's).
		const crashed = new Promise((resolve) => leader.once('crash', resolve));
		await leader.goto('chrome://crash').catch(() => {});
		await crashed;
		await leader.close();
	});
});

// What a script of the origin in another page can post on the tabs' own
// channel, and what it may get through: a tab event (any tab may emit), but
// no relay message, unless it comes from the leader.
test("a hostile script on the tabs' channel: a tab event gets through (the channel is the real one); forged relay events, statuses, settlements, gaps and leader claims are refused, warned about, never dispatched, and move no position", async ({
	context,
	url
}) => {
	const redis = await startRedis();
	let relay = await startRelay({ engine: 'redis', redisUrl: redis.url, insecure: true });
	try {
		const tabs = [await openTab(context, url, relay), await openTab(context, url, relay), await openTab(context, url, relay)];
		// `other`, a live follower whose id the script borrows; `follower`, the tab under attack.
		const [leader, other, follower] = await byRole(...tabs);
		const evil = await openTab(context, url, relay, { bus: false });
		// It listens first, to learn the tabs' ids and refs, as a real one would.
		await evil.evaluate((channel) => {
			window.channel = new BroadcastChannel(channel);
			window.heard = [];
			window.channel.onmessage = ({ data }) => window.heard.push(data);
			window.forge = (message) => window.channel.postMessage({ v: 1, ...message });
		}, `relay:${relay.url}||*`);
		await emit(other, 'hello-from-other', true);
		const otherId = await evil.evaluate(() => window.heard.find((m) => m.kind === 'events').from);

		// The positive control: a well-formed tab event from anyone is dispatched, as from a tab.
		await evil.evaluate(() =>
			window.forge({
				kind: 'events',
				from: 'x',
				events: [
					{
						name: 'analytics.performance.metric',
						payload: { sessionId: 'control', metric: 'm', value: 1, unit: 'n', timestamp: new Date() }
					}
				]
			})
		);
		for (const tab of tabs) await tab.waitForFunction(() => window.seen.includes('analytics.performance.metric:control'));

		const payload = (s) => ({ sessionId: s, metric: 'm', value: 1, unit: 'n', timestamp: new Date().toISOString() });
		await evil.evaluate(
			([otherId, p]) => {
				const forged = (s) => ({ ...p, sessionId: s });
				window.forge({ kind: 'events', from: 'x', events: [{ name: 'analytics.performance.metric', payload: { sessionId: 7 } }] });
				window.forge({
					kind: 'remote',
					from: 'x',
					name: 'analytics.performance.metric',
					offset: '9999999999999-0',
					payload: forged('remote-x')
				});
				window.forge({
					kind: 'remote',
					from: otherId,
					name: 'analytics.performance.metric',
					offset: '9999999999999-1',
					payload: forged('remote-f')
				});
				window.forge({
					kind: 'status',
					from: 'y',
					status: { state: 'closed', epoch: 'forged', offset: '9999999999999-2', outbox: 99, error: 'forged' }
				});
				window.forge({ kind: 'gap', from: 'z', gap: { epoch: 'forged', offset: '9999999999999-3', lostAfter: null } });
				window.forge({ kind: 'leader', from: 'w' });
				window.forge({
					kind: 'remote',
					from: 'w',
					name: 'analytics.performance.metric',
					offset: '9999999999999-4',
					payload: forged('remote-w')
				});
			},
			[otherId, payload('')]
		);
		// Each refused with a warning, in the follower (and in the leader: it leads).
		const expected = [
			/refused analytics\.performance\.metric from another tab/,
			/refused a remote message from a tab that does not hold the relay socket/,
			/refused a remote message from a tab that does not hold the relay socket/,
			/refused a status message from a tab that does not hold the relay socket/,
			/refused a gap message from a tab that does not hold the relay socket/,
			/refused a leader message from a tab that does not hold the relay socket/,
			/refused a remote message from a tab that does not hold the relay socket/
		];
		const count = (page, re) => page.warnings.filter((w) => re.test(w)).length;
		const want = (re) => expected.filter((e) => e.source === re.source).length;
		await until(() => expected.every((re) => count(follower, re) >= want(re)), "the follower's warnings", 10_000).catch((error) => {
			throw new Error(`${error.message}: ${follower.warnings.join('\n')}`);
		});
		await until(() => count(leader, /while this tab holds the relay socket/) >= 6, "the leader's warnings", 10_000);

		// A settlement forged for a publish the follower has in flight: the relay is away, so it stays in flight.
		await relay.kill();
		await follower.waitForFunction(() => window.bus.connection.state === 'connecting');
		await follower.evaluate(() => {
			window.pending = 'pending';
			window.bus
				.emit('analytics.performance.metric', { sessionId: 'in-flight', metric: 'm', value: 1, unit: 'n', timestamp: new Date() })
				.then(
					({ offset }) => (window.pending = offset),
					(error) => (window.pending = `refused: ${error.kind}`)
				);
		});
		const ref = await evil.evaluate(async () => {
			while (!window.heard.some((m) => m.kind === 'publish' && m.payload.sessionId === 'in-flight'))
				await new Promise((r) => setTimeout(r, 10));
			const { ref } = window.heard.find((m) => m.kind === 'publish' && m.payload.sessionId === 'in-flight');
			window.forge({ kind: 'settled', from: 'x', ref, offset: '9999999999999-5' });
			window.forge({ kind: 'settled', from: 'x', ref, error: { kind: 'forbidden', message: 'forged', issues: [] } });
			return ref;
		});
		assert.match(ref, /-\d+$/);
		await until(
			() => count(follower, /refused a settled message from a tab that does not hold the relay socket/) === 2,
			'the settlements refused'
		);
		assert.equal(await follower.evaluate(() => window.pending), 'pending', 'the forged settlements settled nothing');
		relay = await startRelay({ port: relay.port, engine: 'redis', redisUrl: redis.url, insecure: true });
		await follower.waitForFunction(() => window.pending !== 'pending');
		assert.match(await follower.evaluate(() => window.pending), /^\d+-\d+$/, 'settled by the relay');

		// Nothing forged was dispatched, and the position is the relay's: the
		// follower takes over from it with no gap.
		for (const tab of tabs) {
			assert.deepEqual(
				(await seen(tab)).filter((s) => /remote-|:7$/.test(s)),
				[],
				'nothing forged was dispatched'
			);
		}
		const outside = createRelayBus({ url: relay.url, token: null, WebSocket });
		await until(() => outside.connection.state === 'open', 'the outside client');
		await leader.close({ runBeforeUnload: false });
		await outside.emit('analytics.performance.metric', metric('while-no-leader'));
		await until(
			async () =>
				(await Promise.all([other, follower].map((t) => t.evaluate(() => window.bus.connection)))).some(
					(c) => c.leader && c.state === 'open'
				),
			'a new leader'
		);
		await roundTrip(outside, [other, follower], 'after');
		for (const tab of [other, follower]) {
			assert.deepEqual(await tab.evaluate(() => window.bus.gaps), [], 'resumed from the real position: no gap');
			assert.equal((await seen(tab)).filter((s) => s.endsWith(':while-no-leader')).length, 1);
		}
		outside.close();
		await Promise.all([other.close(), follower.close(), evil.close()]);
	} finally {
		await relay.kill();
		await redis.kill();
	}
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
		// Anything sent twice reaches the outside client before this.
		await emit(tab, 'end', true);
		await until(() => got.includes('end'), 'the last event');
		assert.deepEqual(got, [...Array.from({ length: 5 }, (_, i) => `offline-${i}`), 'end']);
		assert.equal(await tab.evaluate(() => window.bus.connection.outbox), 0);
		outside.close();
		await tab.close();
	} finally {
		await relay.kill();
		await redis.kill();
	}
});

test("outbox 'indexeddb': emits made offline, the tab closed, reopened with the relay back: each delivered once, in order", async ({
	context,
	url
}) => {
	const redis = await startRedis();
	let relay = await startRelay({ engine: 'redis', redisUrl: redis.url, insecure: true });
	const port = relay.port;
	await relay.kill();
	try {
		const offline = await openTab(context, url, relay, { outbox: 'indexeddb', waitOpen: false });
		for (let i = 0; i < 5; i++) await emit(offline, `kept-${i}`);
		// Written: the five are in the outbox's database.
		await offline.waitForFunction(
			() =>
				new Promise((resolve) => {
					const open = indexedDB.open('kaiwa-bus-outbox');
					open.onsuccess = () => {
						const db = open.result;
						const count = db.transaction('outbox').objectStore('outbox').count();
						count.onsuccess = () => resolve(count.result === 5);
						count.transaction.oncomplete = () => db.close();
					};
					open.onerror = () => resolve(false);
				})
		);
		await offline.close({ runBeforeUnload: false });

		relay = await startRelay({ port, engine: 'redis', redisUrl: redis.url, insecure: true });
		const outside = createRelayBus({ url: relay.url, token: null, WebSocket });
		await until(() => outside.connection.state === 'open', 'the outside client');
		const got = received(outside);
		const reopened = await openTab(context, url, relay, { outbox: 'indexeddb' });
		await until(() => got.length === 5, 'the kept events', 20_000);
		await reopened.waitForFunction(() => window.bus.connection.outbox === 0);
		// Anything sent twice reaches the outside client, and anything echoed the tab, before these.
		await emit(reopened, 'end', true);
		await until(() => got.includes('end'), 'the last event');
		await roundTrip(outside, [reopened], 'out-end');
		assert.deepEqual(got, [...Array.from({ length: 5 }, (_, i) => `kept-${i}`), 'end']);
		assert.deepEqual(
			await seen(reopened),
			['end', 'out-end'].map((s) => `analytics.performance.metric:${s}`),
			'not dispatched again in the reopened tab'
		);
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
