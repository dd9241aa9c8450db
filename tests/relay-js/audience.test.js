// Audiences through the relay client (protocol 2), on both engines: the
// relay's --schemas file is JSON.stringify(events.schemas) of the app's own
// defineEvents, and an event is private to its user unless its definition
// says otherwise. And a client that meets a protocol-1 relay (which sent an
// event without a userId to everyone) stops before publishing anything.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WsWebSocket, { WebSocketServer } from 'ws';
import { defineEvents } from '#kaiwa';
import { RelayError, createRelayBus } from '#kaiwa-relay';
import { startRedis, startRelay, token, until } from './servers.js';

const WebSocket = globalThis.WebSocket ?? WsWebSocket;
const buses = [];
const servers = [];
after(async () => {
	for (const bus of buses) bus.close();
	for (const server of servers) await (server.kill?.() ?? server.close());
});

const events = defineEvents({
	'cart.item.added': { itemId: 'string' },
	'app.notice.posted': { audience: 'all', description: 'A maintenance notice', payload: { text: 'string' } }
});

function bus(url, sub) {
	const b = createRelayBus({ url, WebSocket, share: false, token: token({ sub, publish: ['*'] }) });
	buses.push(b);
	for (const schema of events.schemas) b.registerSchema(schema);
	const seen = [];
	b.on('*', (payload, meta) => meta.source === 'remote' && seen.push(`${meta.name} ${JSON.stringify(payload)}`));
	return { bus: b, seen };
}

const open = (b) => until(() => b.connection.state === 'open', 'the connection to open');

for (const engine of ['memory', 'redis']) {
	test(`${engine}: an event is its user's unless its definition says 'all'; the relay reads that from events.schemas`, async () => {
		const redis = engine === 'redis' ? await startRedis() : null;
		if (redis) servers.push(redis);
		const file = join(mkdtempSync(join(tmpdir(), 'kaiwa-schemas-')), 'schemas.json');
		writeFileSync(file, JSON.stringify(events.schemas));
		const server = await startRelay({ engine, redisUrl: redis?.url, mode: 'strict', extra: ['--schemas', file] });
		servers.push(server);
		const alice = bus(server.url, 'alice');
		const alicePhone = bus(server.url, 'alice');
		const bob = bus(server.url, 'bob');
		await Promise.all([alice, alicePhone, bob].map((c) => open(c.bus)));
		await alice.bus.emit('cart.item.added', { itemId: 'book' });
		await alice.bus.emit('app.notice.posted', { text: 'down at 2am' });
		const cart = 'cart.item.added {"itemId":"book"}';
		const notice = 'app.notice.posted {"text":"down at 2am"}';
		await until(() => alicePhone.seen.length === 2 && bob.seen.length === 1, "alice's phone and bob");
		assert.deepEqual(alicePhone.seen, [cart, notice], 'her other device gets both');
		// The notice was stored after the cart event, and events arrive in order: bob got the notice, never the cart.
		assert.deepEqual(bob.seen, [notice]);
		assert.deepEqual(alice.seen, [], 'no echo');
	});
}

test('a relay that speaks protocol 1 is refused before anything is published to it', async () => {
	const frames = [];
	const old = new WebSocketServer({ host: '127.0.0.1', port: 0 });
	servers.push(old);
	old.on('connection', (socket) =>
		socket.on('message', (data) => {
			const frame = JSON.parse(String(data));
			frames.push(frame);
			// A protocol-1 relay's welcome: no `protocol`.
			if (frame.type === 'hello')
				socket.send(JSON.stringify({ type: 'welcome', epoch: 'e', offset: '1-0', recovered: false, user: 'alice' }));
		})
	);
	await new Promise((resolve) => old.once('listening', resolve));
	const { bus: b } = bus(`ws://127.0.0.1:${old.address().port}/v1/ws`, 'alice');
	const emitted = b.emit('cart.item.added', { itemId: 'book' });
	const error = await emitted.then(
		() => null,
		(e) => e
	);
	assert.ok(error instanceof RelayError, String(error));
	assert.equal(b.connection.state, 'closed');
	assert.match(b.connection.error, /protocol 1.*upgrade kaiwa-relay/);
	assert.deepEqual(
		frames.map((f) => [f.type, f.protocol]),
		[['hello', 2]],
		'a hello that says protocol 2, and no publish'
	);
});
