// One rule for lone surrogates, the local bus's and the relay's: a payload
// string cut inside an emoji (what `text.slice` does) is emitted by the bus,
// and reaches the other client as it was, over WebSocket and over HTTP. The
// relay refused it before as `malformed`, "lone leading surrogate in hex
// escape". A real kaiwa-relay process.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import WsWebSocket from 'ws';
import { createRelayBus, publish } from '#kaiwa-relay';
import { startRelay, token, until } from './servers.js';

const WebSocket = globalThis.WebSocket ?? WsWebSocket;
const closing = [];
after(async () => {
	for (const close of closing) await close();
});

test('a payload string cut inside an emoji passes the bus and the relay alike, and arrives as it was sent', async () => {
	const server = await startRelay();
	closing.push(() => server.kill());
	const bus = (sub) => {
		const b = createRelayBus({ url: server.url, WebSocket, token: token({ sub, admin: true, publish: ['*'] }) });
		closing.push(() => b.close());
		return b;
	};
	const [a, b] = [bus('a'), bus('b')];
	await until(() => a.connection.state === 'open' && b.connection.state === 'open', 'both connections to open');
	const seen = [];
	b.on('chat.message.sent', (payload) => seen.push(payload.text));
	const cut = '😀 hello'.slice(0, 1);
	assert.equal(cut.isWellFormed?.() ?? false, false, 'the text holds a lone surrogate');
	// The local bus takes it (its payload strings are not checked for that).
	const { offset } = await a.emit('chat.message.sent', { text: cut });
	assert.equal(typeof offset, 'string');
	await until(() => seen.length === 1, 'the event at the other client');
	assert.equal(seen[0], cut);
	// So does POST /v1/events.
	const [posted] = await publish(server.http, token({ sub: 'server', admin: true, publish: ['*'] }), [
		{ name: 'chat.message.sent', payload: { text: `${cut}!` } }
	]);
	assert.equal(typeof posted.offset, 'string', JSON.stringify(posted));
	await until(() => seen.length === 2, 'the posted event');
	assert.equal(seen[1], `${cut}!`);
});
