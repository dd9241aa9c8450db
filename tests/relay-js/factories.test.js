// Every bus takes the same options (js/core/bus-options.js): each factory, and a
// persistent bus over a relay bus, made with the app's own events in strict
// mode, keeps mode, historyLimit and timing, accepts the app's events, and
// hands on their Dates as Dates: from another tab (a BroadcastChannel), from
// the relay (a real kaiwa-relay, strict, with the app's schemas file) and
// from the store (fake-indexeddb, reopened). A misspelt option is an error
// (but for the core entry's memory bus: see js/core/bus-options.js).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory } from 'fake-indexeddb';
import WsWebSocket from 'ws';
import { createEventBus, defineEvents } from '#kaiwa';
import { createBroadcastBus, createRelayBus } from '#kaiwa-relay';
import { createPersistentBus } from '#kaiwa-store';
import { startRelay, token, until } from './servers.js';

const WebSocket = globalThis.WebSocket ?? WsWebSocket;
const events = defineEvents({
	'shop.order.placed': { orderId: 'string', at: 'Date', note: 'string?' },
	'shop.notice.posted': { payload: { text: 'string', at: 'Date' }, version: '1.1.0' }
});
const BUS = { events, mode: 'strict', historyLimit: 7, timing: 'every' };
const order = (orderId) => ({ orderId, at: new Date('2026-12-01T09:30:00.000Z') });

let relay;
let dir;
const closing = [];
before(async () => {
	// The relay validates with the same definitions: JSON.stringify(events.schemas), what `kaiwa-bus schemas` writes.
	dir = mkdtempSync(join(tmpdir(), 'kaiwa-factories-'));
	writeFileSync(join(dir, 'schemas.json'), JSON.stringify(events.schemas));
	relay = await startRelay({ mode: 'strict', extra: ['--schemas', join(dir, 'schemas.json')] });
});
after(async () => {
	for (const bus of closing) bus.close?.();
	await relay?.kill();
	if (dir) rmSync(dir, { recursive: true, force: true });
});

const relayOptions = (user) => ({ url: relay.url, WebSocket, token: token({ sub: user, publish: ['shop.*'] }) });
const track = (bus) => (closing.push(bus.close ? bus : bus.bus), bus);

// Each factory, as a user calls it, with the bus options (and `extra`).
const FACTORIES = {
	memory: (extra) => createEventBus('memory', { ...BUS, ...extra }),
	broadcast: (extra) => track(createBroadcastBus({ channel: 'factories-a', ...BUS, ...extra })),
	"createEventBus('broadcast')": (extra) => track(createEventBus('broadcast', { channel: 'factories-b', ...BUS, ...extra })),
	relay: (extra) => track(createRelayBus({ ...relayOptions('u1'), ...BUS, ...extra })),
	"createEventBus('redis')": (extra) => track(createEventBus('redis', { ...relayOptions('u1'), ...BUS, ...extra })),
	persistent: (extra) => createPersistentBus({ name: 'factories', indexedDB: new IDBFactory(), ...BUS, ...extra }),
	"createEventBus('persistent')": (extra) =>
		createEventBus('persistent', { name: 'factories', indexedDB: new IDBFactory(), ...BUS, ...extra }),
	'persistent over relay': (extra) =>
		createPersistentBus({
			name: 'factories',
			indexedDB: new IDBFactory(),
			bus: track(createRelayBus({ ...relayOptions('u1'), ...BUS })),
			...extra
		})
};

for (const [name, create] of Object.entries(FACTORIES)) {
	test(`${name}: takes the bus options; strict mode accepts the app's events and refuses others`, () => {
		const bus = create();
		assert.deepEqual([bus.mode, bus.historyLimit, bus.timing], ['strict', 7, 'every']);
		assert.equal(bus.getSchema('shop.notice.posted')?.version, '1.1.0', 'the long form is registered too');
		const got = [];
		bus.on('shop.*', (payload) => got.push(payload));
		bus.emit('shop.order.placed', order('o1'));
		assert.equal(got.length, 1);
		assert.ok(got[0].at instanceof Date);
		assert.throws(() => bus.emit('shop.order.lost', { orderId: 'o1' }), { name: 'UnknownEventError' });
		assert.throws(() => bus.emit('shop.order.placed', { orderId: 1, at: new Date() }), { name: 'ValidationError' });
	});

	// Not the core entry's memory bus: that check would cost the core's size budget (TypeScript flags it there).
	if (name === 'memory') continue;
	test(`${name}: a misspelt option is a TypeError naming it, not ignored`, () => {
		assert.throws(
			() => create({ evnts: events }),
			/unknown option "evnts"; it takes the bus options \(events, mode, historyLimit, timing, catalog\)/
		);
	});
}

test('from a tab: two broadcast buses in strict mode hand on the Date as a Date', async () => {
	const [a, b] = [0, 1].map(() => track(createBroadcastBus({ channel: 'factories-tabs', ...BUS })));
	const got = [];
	b.on('shop.order.placed', (payload, meta) => got.push({ payload, meta }));
	a.emit('shop.order.placed', order('o2'));
	await until(() => got.length === 1, 'the event in the other tab');
	assert.equal(got[0].meta.source, 'tab');
	assert.ok(got[0].payload.at instanceof Date);
	assert.equal(got[0].payload.at.toISOString(), '2026-12-01T09:30:00.000Z');
});

const open = (bus) => until(() => bus.connection.state === 'open', 'the relay connection');

test("from the relay: a strict relay with the app's schemas, and two strict relay buses of one user: the Date arrives as a Date", async () => {
	const a = track(createRelayBus({ ...relayOptions('u2'), ...BUS }));
	const b = track(createRelayBus({ ...relayOptions('u2'), ...BUS }));
	await Promise.all([open(a), open(b)]);
	const got = [];
	b.on('shop.order.placed', (payload, meta) => got.push({ payload, meta }));
	const { offset } = await a.emit('shop.order.placed', order('o3'));
	await until(() => got.length === 1, 'the event at the other relay bus');
	assert.deepEqual([got[0].meta.source, got[0].meta.offset], ['remote', offset]);
	assert.ok(got[0].payload.at instanceof Date, `a Date, got ${JSON.stringify(got[0].payload.at)}`);
	assert.equal(got[0].payload.at.toISOString(), '2026-12-01T09:30:00.000Z');
});

test('from the store: a persistent bus reopened gives back its events with their Dates', async () => {
	const indexedDB = new IDBFactory();
	const first = createPersistentBus({ name: 'factories-store', indexedDB, ...BUS });
	await first.ready;
	first.emit('shop.order.placed', order('o4'));
	await first.flush();
	const second = createPersistentBus({ name: 'factories-store', indexedDB, ...BUS });
	await second.ready;
	const restored = second.getEventHistory().filter((r) => r.source === 'restored');
	assert.equal(restored.length, 1);
	assert.ok(restored[0].payload.at instanceof Date);
	assert.equal(second.mode, 'strict');
});

test('a persistent bus over a relay bus: stored and restored with Dates, and the relay delivers them as Dates', async () => {
	const indexedDB = new IDBFactory();
	const peer = track(createRelayBus({ ...relayOptions('u3'), ...BUS }));
	const bus = createPersistentBus({ name: 'factories-both', indexedDB, bus: track(createRelayBus({ ...relayOptions('u3'), ...BUS })) });
	await Promise.all([bus.ready, open(bus.bus), open(peer)]);
	const got = [];
	peer.on('shop.order.placed', (payload) => got.push(payload));
	bus.emit('shop.order.placed', order('o5'));
	await until(() => got.length === 1, 'the event at the peer');
	assert.ok(got[0].at instanceof Date);
	await bus.flush();
	const reopened = createPersistentBus({ name: 'factories-both', indexedDB, ...BUS });
	await reopened.ready;
	const [restored] = reopened.getEventHistory();
	assert.equal(restored.source, 'restored');
	assert.ok(restored.payload.at instanceof Date);
	assert.throws(
		() => createPersistentBus({ bus: peer, mode: 'strict' }),
		/options\.mode beside options\.bus: .*give mode to the factory that made it/
	);
});
