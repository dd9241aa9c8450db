// The relay bus (kaiwa-bus/relay) in Node against real kaiwa-relay processes,
// with both engines: delivery with Dates revived and no echo, refusals
// mapped to errors, the outbox across a relay restart, a gap made visible,
// a rejected token, and publish() over HTTP. Runs on Node 20 with the `ws`
// package's WebSocket, and on Node 22 with its own. The failure paths (the
// relay's limits, close codes, rate and unavailable refusals, expiring
// tokens) are in failures.test.js.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import WsWebSocket from 'ws';
import { ValidationError } from '#kaiwa';
import { RelayError, createRelayBus, publish } from '#kaiwa-relay';
import { GAP_EVENT } from '../../pkg/history/index.js';
import { IndexedDbOutbox } from '../../pkg/relay/outbox.js';
import { owned, startRedis, startRelay, token, until } from './servers.js';

// Node 22 has a WebSocket of its own (make test runs this file on Node 22
// too); Node 20 takes the `ws` package's.
const WebSocket = globalThis.WebSocket ?? WsWebSocket;
const at = new Date('2026-11-30T10:00:00.000Z');
const login = (userId) => ({ userId, email: `${userId}@example.com`, tier: 'pro', timestamp: at });
const own = owned(after);

function relayBus(url, options = {}) {
	return own.bus(createRelayBus({ url, WebSocket, token: null, ...options }));
}

async function relay(options) {
	return own.server(await startRelay(options));
}

const open = (bus) =>
	until(() => bus.connection.state === 'open', 'the connection to open').catch((error) => {
		throw new Error(`${error.message}: ${JSON.stringify(bus.connection)}`);
	});

for (const engine of ['memory', 'redis']) {
	test(`${engine}: an event reaches the other client with its Dates, once; the publisher's promise gives its offset; no echo`, async () => {
		const redis = engine === 'redis' ? await startRedis() : null;
		if (redis) own.server(redis);
		const server = await relay({ engine, redisUrl: redis?.url, insecure: true });
		const a = relayBus(server.url);
		const b = relayBus(server.url);
		await Promise.all([open(a), open(b)]);
		const seenA = [];
		const seenB = [];
		const metaB = [];
		a.on('auth.user.login', (p) => seenA.push(p));
		b.on('auth.user.login', (p, meta) => (seenB.push(p), metaB.push(meta)));
		const { offset } = await a.emit('auth.user.login', login('u1'));
		assert.equal(typeof offset, 'string');
		await until(() => seenB.length === 1, 'the event at b');
		assert.ok(seenB[0].timestamp instanceof Date, 'the Date field arrives as a Date');
		assert.equal(seenB[0].timestamp.getTime(), at.getTime());
		assert.equal(b.connection.offset, offset);
		assert.equal(metaB[0].source, 'remote');
		assert.equal(metaB[0].offset, offset);
		assert.equal(b.getEventHistory().at(-1).source, 'remote', 'recorded with its source');
		// A round trip: b's event reaches a after anything the relay sent a before it.
		await b.emit('auth.user.login', login('u2'));
		await until(() => seenA.length === 2, "b's event at a");
		assert.deepEqual(
			seenA.map((p) => p.userId),
			['u1', 'u2'],
			'a saw its own event once, locally, not back from the relay'
		);
		assert.deepEqual(
			seenB.map((p) => p.userId),
			['u1', 'u2']
		);
	});
}

test('the emits of one task are sent after it, one publish per frame, in order, each once; a payload JSON cannot carry is refused alone', async () => {
	const server = await relay({ insecure: true, extra: ['--rate', '1000000'] });
	const frames = [];
	// Counts what goes out on the socket, as it goes.
	class Watched extends WebSocket {
		send(data) {
			frames.push(JSON.parse(String(data)));
			return super.send(data);
		}
	}
	const a = relayBus(server.url, { WebSocket: Watched });
	const b = relayBus(server.url);
	await Promise.all([open(a), open(b)]);
	const seen = [];
	b.on('auth.user.login', (p) => seen.push(p.userId));
	frames.length = 0;
	const ids = Array.from({ length: 50 }, (_, i) => `u${i}`);
	const payloads = ids.map(login);
	const sent = payloads.map((p) => a.emit('auth.user.login', p));
	const bad = a.emit('auth.user.login', { ...login('bad'), extra: 10n });
	const late = a.emit('auth.user.login', login('late'));
	assert.equal(frames.length, 0, 'nothing is written to the socket while the task emits');
	assert.equal(a.connection.outbox, 52);
	await Promise.resolve();
	payloads[0].userId = 'changed after the task';
	assert.deepEqual(
		frames.map((f) => [f.type, f.payload.userId]),
		[...ids, 'late'].map((id) => ['publish', id]),
		'one publish per frame, in order, at the end of the task'
	);
	const refused = await bad.then(
		() => null,
		(e) => e
	);
	assert.ok(refused instanceof RelayError && refused.kind === 'malformed', `got ${refused}`);
	const offsets = (await Promise.all([...sent, late])).map((r) => r.offset);
	assert.equal(new Set(offsets).size, 51, 'each stored once');
	await until(() => seen.length === 51, 'the events at b');
	assert.deepEqual(seen, [...ids, 'late']);
	assert.equal(a.connection.outbox, 0);
});

test('refusals map to errors: validation (with the relay issues), unknown, forbidden; the local emit still ran', async () => {
	const strict = await relay({ mode: 'strict' });
	// A bus with no catalog lets the payload through locally, so the relay is the one to refuse it.
	const loose = relayBus(strict.url, { catalog: false, token: token({ sub: 'u1', publish: ['*'] }) });
	await open(loose);
	let ran = 0;
	loose.on('*', () => ran++);
	const validation = await loose.emit('auth.user.login', { userId: 'u1', email: 1 }).then(
		() => null,
		(e) => e
	);
	assert.ok(validation instanceof ValidationError, `got ${validation}`);
	assert.ok(
		validation.issues.some((i) => i.path === 'email' && i.expected === 'string' && i.received === 'number'),
		JSON.stringify(validation.issues)
	);
	const unknown = await loose.emit('app.thing.happened', {}).then(
		() => null,
		(e) => e
	);
	assert.ok(unknown instanceof RelayError && unknown.kind === 'unknown', `got ${unknown}`);
	assert.equal(ran, 2, 'both were dispatched locally before the relay answered');

	const readOnly = relayBus(strict.url, { token: token({ sub: 'u2' }) });
	await open(readOnly);
	const forbidden = await readOnly.emit('auth.user.logout', { userId: 'u2', timestamp: at }).then(
		() => null,
		(e) => e
	);
	assert.ok(forbidden instanceof RelayError && forbidden.kind === 'forbidden', `got ${forbidden}`);
	assert.equal(readOnly.connection.outbox, 0);
});

test('redis: emits made while the relay is down wait in the outbox, then are delivered once each, in order', async () => {
	const redis = await startRedis();
	own.server(redis);
	const server = await relay({ engine: 'redis', redisUrl: redis.url, insecure: true });
	const port = server.port;
	const a = relayBus(server.url);
	const b = relayBus(server.url);
	await Promise.all([open(a), open(b)]);
	const seen = [];
	b.on('auth.user.login', (p) => seen.push(p.userId));
	await a.emit('auth.user.login', login('before'));
	await until(() => seen.length === 1, 'the first event');

	await server.kill();
	await until(() => a.connection.state === 'connecting', 'a to notice');
	const pending = ['u1', 'u2', 'u3'].map((id) => a.emit('auth.user.login', login(id)));
	assert.equal(a.connection.outbox, 3);
	await relay({ port, engine: 'redis', redisUrl: redis.url, insecure: true });
	const offsets = (await Promise.all(pending)).map((r) => r.offset);
	assert.equal(new Set(offsets).size, 3);
	// A round trip after them: anything sent twice would reach b before it.
	await a.emit('auth.user.login', login('end'));
	await until(() => seen.includes('end'), 'the outbox at b');
	assert.deepEqual(seen, ['before', 'u1', 'u2', 'u3', 'end']);
	assert.equal(a.connection.outbox, 0);
	assert.deepEqual(b.gaps, [], 'a Redis relay restart loses nothing: no gap');
});

test('memory: a relay restart loses its log; the resume is not recovered and the gap is visible', async () => {
	const server = await relay({ insecure: true });
	const port = server.port;
	const b = relayBus(server.url);
	await open(b);
	const states = [];
	b.onConnection((connection, gap) => states.push(gap ? 'gap' : connection.state));
	const added = [];
	b.onRecord((record, change) => change === 'added' && added.push(record));
	const handled = [];
	b.on(GAP_EVENT, (payload, meta) => handled.push({ payload, meta }));
	const before = b.connection.epoch;
	const lastSeen = b.connection.offset;
	await server.kill();
	await relay({ port, insecure: true });
	await until(() => b.gaps.length === 1, 'the gap');
	assert.notEqual(b.connection.epoch, before);
	assert.ok(states.includes('gap') && states.at(-1) === 'open', states.join());
	// The gap is a record in the history, announced to onRecord listeners, and an event.
	const [gap] = b.gaps;
	const record = b.getEventHistory().find((r) => r.name === GAP_EVENT);
	assert.ok(record, 'a gap record in the history');
	assert.equal(record.status, 'delivered');
	assert.equal(record.source, 'remote');
	assert.deepEqual(record.payload, { epoch: gap.epoch, offset: gap.offset, lostAfter: lastSeen });
	assert.deepEqual(
		added.map((r) => r.name),
		[GAP_EVENT],
		'onRecord listeners got it'
	);
	assert.equal(handled.length, 1);
	assert.equal(handled[0].meta.source, 'remote');
	assert.equal(handled[0].meta.offset, gap.offset);
});

test('a token the relay rejects (4001) makes the client ask getToken for a new one and reconnect', async () => {
	const server = await relay();
	let calls = 0;
	const bus = relayBus(server.url, { getToken: () => (++calls === 1 ? 'not-a-jwt' : token({ sub: 'u1', publish: ['*'] })) });
	await open(bus);
	assert.ok(calls >= 2);
	const { offset } = await bus.emit('auth.user.logout', { userId: 'u1', timestamp: at });
	assert.equal(typeof offset, 'string');
});

test('publish() posts events from server code; a user sees only their own', async () => {
	const server = await relay();
	const u1 = relayBus(server.url, { token: token({ sub: 'u1' }) });
	const u2 = relayBus(server.url, { token: token({ sub: 'u2' }) });
	await Promise.all([open(u1), open(u2)]);
	const seen = { u1: [], u2: [] };
	u1.on('subscription.renewed', (p) => seen.u1.push(p));
	u2.on('subscription.renewed', (p) => seen.u2.push(p));
	const results = await publish(server.http, token({ sub: 'billing', admin: true, publish: ['*'] }), [
		{ name: 'subscription.renewed', payload: { userId: 'u1', subscriptionId: 's1', nextBillingDate: at, timestamp: at } },
		{ name: 'subscription.renewed', payload: { userId: 'u1', subscriptionId: 1 } }
	]);
	assert.equal(typeof results[0].offset, 'string');
	assert.equal(results[1].refused.kind, 'validation');
	await until(() => seen.u1.length === 1, 'u1 to get the renewal');
	assert.ok(seen.u1[0].nextBillingDate instanceof Date);
	// A renewal of u2's after it: u2 gets it, and would have got u1's before it.
	await publish(server.http, token({ sub: 'billing', admin: true, publish: ['*'] }), [
		{ name: 'subscription.renewed', payload: { userId: 'u2', subscriptionId: 's2', nextBillingDate: at, timestamp: at } }
	]);
	await until(() => seen.u2.length === 1, 'u2 to get its renewal');
	assert.deepEqual(
		seen.u2.map((p) => p.subscriptionId),
		['s2'],
		'u2 does not see u1 events'
	);
});

test("outbox: 'indexeddb': events emitted while the relay is down survive the bus being closed, and the next bus sends them once each, in order", async () => {
	const { indexedDB } = await import('fake-indexeddb');
	const redis = await startRedis();
	own.server(redis);
	let server = await relay({ engine: 'redis', redisUrl: redis.url, insecure: true });
	const port = server.port;
	await server.kill();
	const outbox = { outbox: 'indexeddb', outboxName: `outbox-${Date.now()}`, indexedDB };
	const first = relayBus(server.url, outbox);
	await first.ready;
	const local = [];
	first.on('*', (p) => local.push(p.userId));
	for (const id of ['o1', 'o2', 'o3']) first.emit('auth.user.login', login(id));
	assert.deepEqual(local, ['o1', 'o2', 'o3'], 'dispatched here at once, relay or not');
	const stored = new IndexedDbOutbox({ name: outbox.outboxName, indexedDB });
	await until(async () => (await stored.load()).length === 3, 'the three in IndexedDB');
	stored.close();
	first.close(); // the tab goes away with the relay still down

	server = await relay({ port, engine: 'redis', redisUrl: redis.url, insecure: true });
	const watcher = relayBus(server.url);
	await open(watcher);
	const seen = [];
	watcher.on('auth.user.login', (p) => seen.push(p.userId));
	const second = relayBus(server.url, outbox);
	const again = [];
	second.on('*', (p) => again.push(p.userId));
	await second.ready;
	await until(() => seen.length === 3, 'the outbox at the watcher');
	await until(() => second.connection.outbox === 0, 'the outbox to drain');
	// A round trip: the watcher's event reaches the second bus after anything sent before it.
	await watcher.emit('auth.user.login', login('w'));
	await until(() => again.includes('w'), "the watcher's event at the second bus");
	assert.deepEqual(seen, ['o1', 'o2', 'o3', 'w'], 'once each, in order (and w, locally)');
	assert.deepEqual(again, ['w'], 'not dispatched again where they were sent from');
	// Nothing left for a third bus, once the acks are written.
	const left = new IndexedDbOutbox({ name: outbox.outboxName, indexedDB });
	await until(async () => (await left.load()).length === 0, 'the outbox in IndexedDB to empty');
	left.close();
	const third = relayBus(server.url, outbox);
	await third.ready;
	assert.equal(third.connection.outbox, 0);
});

// A client that closes (bus.close(), a tab closing: Chromium sends 1001 on its
// own) stops counting at the relay at once. It used to stay counted (its TCP
// socket open, its close frame unanswered) for 30 s, while the relay's
// connection waited for a writer task that waited for a close request.
test('a client that closes stops being counted at the relay (not 30 s later)', async () => {
	const server = await relay({ insecure: true });
	const count = async () => Number((await (await fetch(`${server.http}/metrics`)).text()).match(/^kaiwa_relay_connections (\d+)/m)?.[1]);
	const bus = relayBus(server.url);
	await open(bus);
	assert.equal(await count(), 1);
	bus.close();
	await until(async () => (await count()) === 0, 'the relay to stop counting it', 5000);
});

test('bad options are clear errors', () => {
	assert.throws(() => createRelayBus({ url: 'http://x', WebSocket }), /ws:\/\/ or wss:\/\//);
	if (typeof globalThis.WebSocket !== 'function')
		assert.throws(() => createRelayBus({ url: 'ws://127.0.0.1:1/v1/ws', WebSocket: undefined }), /ws` package/);
	assert.throws(() => createRelayBus({ url: 'ws://127.0.0.1:1/v1/ws', WebSocket, getToken: 'x' }), /getToken must be a function/);
	assert.throws(() => createRelayBus({ url: 'ws://127.0.0.1:1/v1/ws', WebSocket, outbox: 'disk' }), /options.outbox/);
});
