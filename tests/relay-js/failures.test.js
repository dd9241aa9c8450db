// The relay client's failure paths (docs/transports.md, "What happens when
// things fail") against real kaiwa-relay processes and a real redis-server:
// the relay's limits (an emit over them refused here and never sent, also
// from an outbox an older version left), a 1009 close that is not a retry
// loop, 4003 and 4400 that stop, 4008 that resumes at once with no gap,
// `rate` and `unavailable` refusals retried in emit order with the same ref,
// tokens: one that really expires, one that lives 90 days, and the client's
// own refs sent as an idempotent producer and seq.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import WsWebSocket from 'ws';
import { RelayError, createRelayBus } from '#kaiwa-relay';
import { IndexedDbOutbox } from '../../pkg/relay/outbox.js';
import { owned, startRedis, startRelay, token, until } from './servers.js';

const WebSocket = globalThis.WebSocket ?? WsWebSocket;
const at = new Date('2026-11-30T10:00:00.000Z');
const own = owned(after);
const start = own.server;

function relayBus(url, options = {}) {
	return own.bus(createRelayBus({ url, WebSocket, token: null, ...options }));
}

const open = (bus) => until(() => bus.connection.state === 'open', 'the connection to open');
const failure = (promise) =>
	promise.then(
		() => null,
		(error) => error
	);
const blob = (id, bytes) => ({ id, blob: 'x'.repeat(bytes) });

/**
 * A WebSocket class that logs what goes through it: sockets opened, frames
 * sent and received (parsed), close codes. `edit(frame, socket)` may change
 * a frame before the client sees it (to play an older relay), or drop it
 * (null); `socket` counts the sockets from 0.
 */
function watched(Base = WebSocket, edit = (frame) => frame) {
	const log = { sockets: [], sent: [], received: [], closes: [] };
	class Watched extends Base {
		constructor(...args) {
			super(...args);
			log.sockets.push(this);
			this.addEventListener('close', (event) => log.closes.push(event.code));
		}

		send(data) {
			log.sent.push(JSON.parse(String(data)));
			return super.send(data);
		}

		set onmessage(handler) {
			super.onmessage = (message) => {
				const frame = edit(JSON.parse(String(message.data)), log.sockets.indexOf(this));
				if (frame === null) return;
				log.received.push(frame);
				handler({ data: JSON.stringify(frame) });
			};
		}

		get onmessage() {
			return super.onmessage;
		}
	}
	return { WebSocket: Watched, log };
}

const publishes = (log) => log.sent.filter((f) => f.type === 'publish');

test('limits: the welcome says what the relay takes; an emit over them is refused at once (too-large), never sent, and the ones after it go on', async () => {
	const server = await start(await startRelay({ insecure: true, extra: ['--max-payload', '1000'] }));
	const { WebSocket: Watched, log } = watched();
	const bus = relayBus(server.url, { WebSocket: Watched });
	const watcher = relayBus(server.url);
	await Promise.all([open(bus), open(watcher)]);
	assert.deepEqual(bus.connection.limits, { payload: 1000, frame: 2000 + 65_536, ref: 256 });
	const seen = [];
	watcher.on('app.blob.added', (p) => seen.push(p.id));
	// Over --max-payload, and over the largest frame the relay reads at all (1009 on the wire).
	const over = bus.emit('app.blob.added', blob('over', 1500));
	const huge = bus.emit('app.blob.added', blob('huge', 100_000));
	const after = bus.emit('app.blob.added', blob('after', 10));
	for (const [error, bytes] of [
		[await failure(over), 1523],
		[await failure(huge), 100_023]
	]) {
		assert.ok(error instanceof RelayError && error.kind === 'too-large', `got ${error}`);
		assert.match(
			error.message,
			new RegExp(`app.blob.added: the payload is ${bytes} bytes of JSON; this relay takes at most 1000 bytes`)
		);
	}
	await after;
	await until(() => seen.includes('after'), 'the event after them');
	assert.deepEqual(seen, ['after']);
	assert.deepEqual(
		publishes(log).map((f) => f.payload.id),
		['after'],
		'neither was sent'
	);
	assert.equal(log.sockets.length, 1, 'no reconnect');
	// Bytes are counted in UTF-8, as the relay counts them: 400 'é' are 802 bytes of JSON, 600 are 1202.
	await bus.emit('app.blob.added', { id: 'é', blob: 'é'.repeat(400) });
	assert.equal((await failure(bus.emit('app.blob.added', { id: 'é', blob: 'é'.repeat(600) }))).kind, 'too-large');
	assert.equal(bus.connection.outbox, 0);
});

test('a relay that closes with 1009 (it announced no limits) costs the frame it could not read, once: no reconnect loop, the others are delivered', async () => {
	const server = await start(await startRelay({ insecure: true }));
	// An older relay: its welcome has no limits.
	const { WebSocket: Older, log } = watched(WebSocket, (frame) => (frame.type === 'welcome' ? { ...frame, limits: undefined } : frame));
	const bus = relayBus(server.url, { WebSocket: Older });
	const watcher = relayBus(server.url);
	await Promise.all([open(bus), open(watcher)]);
	assert.equal(bus.connection.limits, null);
	const seen = [];
	watcher.on('app.blob.added', (p) => seen.push(p.id));
	const sent = ['before', 'huge', 'after'].map((id) => bus.emit('app.blob.added', blob(id, id === 'huge' ? 300_000 : 10)));
	const error = await failure(sent[1]);
	assert.ok(error instanceof RelayError && error.kind === 'too-large', `got ${error}`);
	assert.match(error.message, /closed the connection \(1009\)/);
	await Promise.all([sent[0], sent[2]]);
	await until(() => seen.length === 2, 'the two others');
	assert.deepEqual(seen, ['before', 'after']);
	assert.deepEqual(log.closes, [1009]);
	assert.equal(log.sockets.length, 2, 'one reconnect');
	// What the client learned: a frame that large is not sent again, on this relay or the next.
	assert.equal((await failure(bus.emit('app.blob.added', blob('again', 300_000)))).kind, 'too-large');
	assert.equal(log.sockets.length, 2);
});

test("an oversized entry an older version left in an 'indexeddb' outbox is refused, never sent: the others go, the outbox drains, no reconnect", async () => {
	const { indexedDB } = await import('fake-indexeddb');
	const outboxName = `outbox-old-${Date.now()}`;
	const old = new IndexedDbOutbox({ name: outboxName, indexedDB });
	for (const [ref, bytes] of [
		['old-1', 10],
		['old-2', 300_000],
		['old-3', 10]
	])
		old.add(ref, 'app.blob.added', blob(ref, bytes));
	await old.flush();
	old.close();
	const server = await start(await startRelay({ insecure: true }));
	const watcher = relayBus(server.url);
	await open(watcher);
	const seen = [];
	watcher.on('app.blob.added', (p) => seen.push(p.id));
	const { WebSocket: Watched, log } = watched();
	const bus = relayBus(server.url, { WebSocket: Watched, outbox: 'indexeddb', outboxName, indexedDB });
	await bus.ready;
	await until(() => seen.length === 2, 'the two that fit');
	await until(() => bus.connection.outbox === 0, 'the outbox to drain');
	assert.deepEqual(seen, ['old-1', 'old-3']);
	assert.deepEqual(
		publishes(log).map((f) => f.ref),
		['old-1', 'old-3'],
		'old-2 was never sent'
	);
	assert.equal(log.sockets.length, 1);
	const left = new IndexedDbOutbox({ name: outboxName, indexedDB });
	await until(async () => (await left.load()).length === 0, 'the outbox in IndexedDB to be empty');
	left.close();
});

test('4003 (a pattern the token may not subscribe to) and 4400 (a pattern the relay cannot read) stop the client: no reconnect loop; emits reject as closed', async () => {
	const server = await start(await startRelay());
	for (const [code, options] of [
		[4003, { token: token({ sub: 'u1', subscribe: ['auth.*'] }), subscribe: ['*'] }],
		[4400, { token: token({ sub: 'u1' }), subscribe: ['auth*'] }]
	]) {
		const { WebSocket: Watched, log } = watched();
		const bus = relayBus(server.url, { WebSocket: Watched, ...options });
		await until(() => bus.connection.state === 'closed', `the ${code} close`);
		assert.deepEqual(log.closes, [code]);
		assert.match(bus.connection.error, new RegExp(`\\(${code}\\)`));
		const error = await failure(bus.emit('auth.user.logout', { userId: 'u1', timestamp: at }));
		assert.ok(error instanceof RelayError && error.kind === 'closed', `got ${error}`);
		// close() cleared every timer: nothing is left that could reconnect.
		assert.equal(log.sockets.length, 1);
	}
});

test('4008: a client that stopped reading is closed as lagging, resumes at once, and gets every event once, in order, with no gap', async () => {
	const server = await start(await startRelay({ insecure: true, extra: ['--queue', '8', '--rate', '1000000'] }));
	// The `ws` package's WebSocket can stop reading (pause), like a tab whose main thread is busy.
	const { WebSocket: Watched, log } = watched(WsWebSocket);
	const slow = relayBus(server.url, { WebSocket: Watched });
	const publisher = relayBus(server.url);
	await Promise.all([open(slow), open(publisher)]);
	const seen = [];
	slow.on('app.blob.added', (p) => seen.push(p.id));
	log.sockets[0].pause();
	// Throws when the metric is missing: NaN would end the loop below as a close would.
	const lagging = async () => {
		const line = (await (await fetch(`${server.http}/metrics`)).text()).match(/^kaiwa_relay_lagging_closes_total (\d+)/m);
		assert.ok(line, 'kaiwa_relay_lagging_closes_total is missing from /metrics');
		return Number(line[1]);
	};
	const ids = [];
	// 60 KB events until the relay gives up on the paused client (the kernel's buffers hold some MB first).
	while ((await lagging()) === 0) {
		const burst = Array.from({ length: 50 }, (_, i) => `e${ids.length + i}`);
		ids.push(...burst);
		await Promise.all(burst.map((id) => publisher.emit('app.blob.added', blob(id, 60_000))));
		assert.ok(ids.length < 5000, 'the relay never closed the paused client');
	}
	log.sockets[0].resume();
	await until(() => seen.length === ids.length, 'every event at the slow client', 30_000).catch((error) => {
		throw new Error(
			`${error.message}: ${seen.length} of ${ids.length}, closes ${log.closes}, sockets ${log.sockets.length}, ${JSON.stringify(slow.connection)} ${JSON.stringify(log.received.filter((f) => f.type !== 'event'))} ${JSON.stringify(log.sent.filter((f) => f.type === 'hello'))} last ${seen.at(-1)} offsets ${log.received
				.filter((f) => f.type === 'event')
				.slice(-3)
				.map((f) => f.offset)}`
		);
	});
	assert.deepEqual(seen, ids, 'every event once, in order');
	assert.deepEqual(log.closes, [4008]);
	assert.equal(log.sockets.length, 2, 'one reconnect, with resume');
	assert.ok(log.sent.filter((f) => f.type === 'hello')[1].resume, 'the reconnect resumed');
	assert.equal(log.received.filter((f) => f.type === 'welcome')[1].recovered, true);
	assert.deepEqual(slow.gaps, []);
});

test('a reconnect with publishes unanswered: the resume replays those the relay stored, and they are not delivered back to the client that sent them', async () => {
	const server = await start(await startRelay({ insecure: true }));
	// The first socket's acks are lost: the relay stored the events, the client never heard.
	const { WebSocket: Watched, log } = watched(WebSocket, (frame, socket) => (socket === 0 && frame.type === 'ack' ? null : frame));
	const bus = relayBus(server.url, { WebSocket: Watched });
	const watcher = relayBus(server.url);
	await Promise.all([open(bus), open(watcher)]);
	const seen = [];
	bus.on('app.counter.added', (p, meta) => seen.push(`${p.id}/${meta.source}`));
	const got = [];
	watcher.on('app.counter.added', (p) => got.push(p.id));
	const sent = ['u1', 'u2', 'u3'].map((id) => bus.emit('app.counter.added', { id }));
	await until(() => got.length === 3, 'the three stored');
	log.sockets[0].close(); // the connection drops
	const offsets = (await Promise.all(sent)).map((r) => r.offset);
	assert.equal(log.sockets.length, 2);
	assert.ok(log.sent.filter((f) => f.type === 'hello')[1].resume, 'the reconnect resumed');
	// Positive control and round trip: the watcher's event reaches the bus after the replay.
	await watcher.emit('app.counter.added', { id: 'end' });
	await until(() => seen.includes('end/remote'), "the watcher's event at the bus");
	const replayed = log.received.filter((f) => f.type === 'event' && offsets.includes(f.offset));
	assert.equal(replayed.length, 3, 'the relay did replay the three to the client that sent them');
	assert.deepEqual(seen, ['u1/local', 'u2/local', 'u3/local', 'end/remote'], 'each once, where it was emitted');
	assert.deepEqual(got, ['u1', 'u2', 'u3', 'end'], 'stored once each (and end, locally)');
});

test('rate: 400 emits at --rate 100 are stored once each, in emit order, retried with their own refs after one shared back-off', async () => {
	const server = await start(await startRelay({ insecure: true, extra: ['--rate', '100'] }));
	const { WebSocket: Watched, log } = watched();
	const bus = relayBus(server.url, { WebSocket: Watched });
	const watcher = relayBus(server.url);
	await Promise.all([open(bus), open(watcher)]);
	const seen = [];
	watcher.on('app.counter.added', (p) => seen.push(p.n));
	const n = Array.from({ length: 400 }, (_, i) => i);
	const offsets = (await Promise.all(n.map((i) => bus.emit('app.counter.added', { n: i })))).map((r) => r.offset);
	assert.equal(new Set(offsets).size, 400);
	await until(() => seen.length === 400, 'the 400 events at the watcher');
	assert.deepEqual(seen, n, 'stored in emit order');
	const sent = publishes(log);
	const refs = new Map();
	for (const frame of sent) refs.set(frame.ref, [...(refs.get(frame.ref) ?? []), frame.payload.n]);
	assert.equal(refs.size, 400, 'a retry keeps its ref');
	assert.ok([...refs.values()].every((ns) => ns.every((x) => x === ns[0])));
	const refused = log.received.filter((f) => f.type === 'refused');
	assert.ok(refused.length > 0 && refused.every((f) => f.kind === 'rate'), 'the relay did refuse some');
	const perEvent = sent.length / 400;
	console.log(`# rate: ${sent.length} publish frames for 400 events (${perEvent.toFixed(2)} per event), ${refused.length} refused`);
	// Each refused on its own timer, as before, took about 7.
	assert.ok(perEvent < 2.5, `${perEvent} frames per event`);
});

test('unavailable: emits refused while Redis is down are retried with the same refs once it is back, and stored once each, in order', async () => {
	const redis = await start(await startRedis());
	const server = await start(await startRelay({ engine: 'redis', redisUrl: redis.url, insecure: true }));
	const { WebSocket: Watched, log } = watched();
	const bus = relayBus(server.url, { WebSocket: Watched });
	await open(bus);
	await redis.kill();
	const sent = ['u1', 'u2', 'u3', 'u4', 'u5'].map((id) => bus.emit('app.counter.added', { id }));
	await until(() => log.received.some((f) => f.type === 'refused' && f.kind === 'unavailable'), 'an unavailable refusal');
	const back = await start(await startRedis(redis.port));
	await Promise.all(sent);
	const stored = execFileSync('redis-cli', ['-p', String(back.port), 'XRANGE', '{kaiwa}:events', '-', '+'], { encoding: 'utf8' });
	const ids = [...stored.matchAll(/"id":"(u\d)"/g)].map((m) => m[1]);
	assert.deepEqual(ids, ['u1', 'u2', 'u3', 'u4', 'u5'], `stored once each, in order:\n${stored}`);
	const refs = new Set(publishes(log).map((f) => f.ref));
	assert.equal(refs.size, 5, 'retried with the same refs');
	assert.ok(publishes(log).length > 5, 'some were sent again');
});

test('a token that really expires: refreshed before it does, the connection stays open past its expiry', async () => {
	const server = await start(await startRelay());
	const expiries = [];
	const getToken = () => {
		const t = token({ sub: 'u1', publish: ['*'] }, 3);
		expiries.push(JSON.parse(Buffer.from(t.split('.')[1], 'base64url')).exp * 1000);
		return t;
	};
	const { WebSocket: Watched, log } = watched();
	const bus = relayBus(server.url, { WebSocket: Watched, getToken });
	await open(bus);
	await until(() => Date.now() > expiries[0] + 1000, 'the first token to expire', 10_000);
	await bus.emit('auth.user.logout', { userId: 'u1', timestamp: at });
	assert.equal(bus.connection.state, 'open');
	assert.equal(log.sockets.length, 1, 'never reconnected');
	assert.ok(
		log.sent.some((f) => f.type === 'auth'),
		'a fresh token was sent'
	);
});

test('a token that expires with no fresh one to be had: the relay closes with 4001 at expiry, and the client reconnects with resume, missing nothing', async () => {
	const server = await start(await startRelay());
	let shortExpiry = 0;
	const getToken = () => {
		if (shortExpiry === 0) {
			shortExpiry = (Math.floor(Date.now() / 1000) + 2) * 1000;
			return token({ sub: 'u1', exp: shortExpiry / 1000 });
		}
		if (Date.now() < shortExpiry) throw new Error('the token endpoint is down');
		return token({ sub: 'u1' });
	};
	const { WebSocket: Watched, log } = watched();
	const bus = relayBus(server.url, { WebSocket: Watched, getToken });
	await open(bus);
	const seen = [];
	bus.on('subscription.renewed', (p) => seen.push(p.subscriptionId));
	const admin = relayBus(server.url, { token: token({ sub: 'billing', admin: true, publish: ['*'] }) });
	await open(admin);
	const renew = (id) => admin.emit('subscription.renewed', { userId: 'u1', subscriptionId: id, nextBillingDate: at, timestamp: at });
	await renew('before');
	await until(() => log.closes.includes(4001), 'the 4001 at expiry', 10_000);
	await renew('while-away');
	await until(() => log.sockets.length === 2 && bus.connection.state === 'open', 'the reconnect');
	await renew('after');
	await until(() => seen.length === 3, 'the three renewals');
	assert.deepEqual(seen, ['before', 'while-away', 'after']);
	assert.deepEqual(bus.gaps, []);
	assert.ok(log.sent.filter((f) => f.type === 'hello')[1].resume, 'the reconnect resumed');
});

test('a token valid for 90 days: no refresh storm (the refresh is further away than setTimeout can wait)', async () => {
	const server = await start(await startRelay());
	const warnings = [];
	const warned = (warning) => warnings.push(warning.name);
	process.on('warning', warned);
	let calls = 0;
	const { WebSocket: Watched, log } = watched();
	const bus = relayBus(server.url, {
		WebSocket: Watched,
		getToken: () => (calls++, token({ sub: 'u1', publish: ['*'] }, 90 * 24 * 3600))
	});
	await open(bus);
	// Twenty round trips: a refresh timer that fires at once would have run many times by then.
	for (let i = 0; i < 20; i++) await bus.emit('auth.user.logout', { userId: 'u1', timestamp: at });
	process.off('warning', warned);
	assert.equal(calls, 1, 'getToken called once');
	assert.equal(log.sent.filter((f) => f.type === 'auth').length, 0, 'no auth frame');
	assert.ok(!warnings.includes('TimeoutOverflowWarning'), warnings.join());
});

test("the client's refs go as an idempotent producer and seq: an 'indexeddb' outbox entry stored but never acknowledged is sent again by the next page, to another relay of the Redis, as the same producer and seq, and stored once", async () => {
	const { indexedDB } = await import('fake-indexeddb');
	const outboxName = `outbox-producer-${Date.now()}`;
	const redis = await start(await startRedis());
	const server = await start(await startRelay({ engine: 'redis', redisUrl: redis.url, insecure: true }));
	const other = await start(await startRelay({ engine: 'redis', redisUrl: redis.url, insecure: true }));
	const redisCli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' });
	const xlen = () => Number(redisCli('XLEN', '{kaiwa}:events'));
	// The first page never hears its acks (as if it closed before they came).
	const first = watched(WebSocket, (frame) => (frame.type === 'ack' ? null : frame));
	const page = relayBus(server.url, { WebSocket: first.WebSocket, outbox: 'indexeddb', outboxName, indexedDB });
	await open(page);
	for (const id of ['p1', 'p2', 'p3']) page.emit('app.blob.added', blob(id, 10)).catch(() => {});
	await until(() => xlen() === 3, 'the three stored');
	const sentFirst = publishes(first.log);
	assert.deepEqual(
		sentFirst.map((f) => [f.ref, f.seq]),
		sentFirst.map((f, i) => [`~${f.producer}-${i + 1}`, i + 1]),
		'each ref is sent as its producer and seq, numbered in emit order'
	);
	page.close();
	const left = new IndexedDbOutbox({ name: outboxName, indexedDB });
	await until(async () => (await left.load()).length === 3, 'the outbox to hold the three');
	left.close();
	const next = watched();
	const reloaded = relayBus(other.url, { WebSocket: next.WebSocket, outbox: 'indexeddb', outboxName, indexedDB });
	await reloaded.ready;
	await until(() => next.log.received.filter((f) => f.type === 'ack').length === 3, 'the three acknowledged');
	assert.deepEqual(
		publishes(next.log).map((f) => [f.ref, f.producer, f.seq]),
		sentFirst.map((f) => [f.ref, f.producer, f.seq]),
		'the same producer and seqs'
	);
	const ids = [...redisCli('XRANGE', '{kaiwa}:events', '-', '+').matchAll(/^(\d+-\d+)$/gm)].map((m) => m[1]);
	assert.deepEqual(
		next.log.received.filter((f) => f.type === 'ack').map((f) => f.offset),
		ids,
		'acknowledged with their first offsets'
	);
	assert.equal(xlen(), 3, 'stored once each');
	assert.equal(redisCli('HLEN', '{kaiwa}:refs').trim(), '0', 'no ref written for them');
});
