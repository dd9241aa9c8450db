// PersistentEventBus (kaiwa-bus/store): the seed's PersistentEventBus(bus,
// store) and storeEvent, both durability orders, restore after a "reload"
// (a new bus on the same database), replay, and what the user sees when
// storage fails. Node runs it on fake-indexeddb, Chromium on its IndexedDB.

import { EventBus, ValidationError, createEventBus } from '#kaiwa';
import { MemoryEventStore, PersistentEventBus, StoreError, createPersistentBus } from '#kaiwa-store';
import { assert, captureConsole, inNode, test } from './harness.js';

const idb = inNode ? (await import('fake-indexeddb')).indexedDB : globalThis.indexedDB;
let dbCount = 0;
const dbName = () => `kaiwa-persistent-test-${Date.now()}-${++dbCount}`;
const at = new Date('2026-11-30T10:00:00Z');
const login = (userId) => ({ userId, email: `${userId}@example.com`, tier: 'pro', timestamp: at });

// Runs fn with the console captured: its result and the warnings it printed.
async function withWarnings(fn) {
	let result;
	const calls = await captureConsole(async () => {
		result = await fn();
	});
	return { result, warnings: calls.warn.map((args) => args.join(' ')) };
}

// A store whose every call fails as a full disk does.
class FullStore extends MemoryEventStore {
	async append() {
		throw new StoreError('quota', 'a write failed: storage is full (QuotaExceededError)');
	}
}

test("the seed's shape: new PersistentEventBus(bus, store) stores each emitted event, and store.storeEvent works alone", async () => {
	const store = new MemoryEventStore();
	const bus = new PersistentEventBus(new EventBus(), store);
	await bus.ready;
	const seen = [];
	bus.on('auth.user.login', (p) => seen.push(p.userId));
	bus.emit('auth.user.login', login('u1'));
	assert.deepEqual(seen, ['u1'], 'batched: dispatched at once, synchronously');
	await bus.flush();
	const [stored] = await store.read();
	assert.equal(stored.name, 'auth.user.login');
	assert.equal(stored.status, 'delivered');
	assert.ok(stored.payload.timestamp instanceof Date);
	await store.storeEvent('auth.user.logout', { userId: 'u1', timestamp: at });
	assert.equal(await store.count(), 2);
});

test("batched: every event of one task is written in one append, in order (a handler's emits after its own); a refused event is stored as rejected", async () => {
	const store = new MemoryEventStore();
	const appends = [];
	const append = store.append.bind(store);
	store.append = (events) => (appends.push([...events].map((e) => e.name)), append(events));
	const bus = new PersistentEventBus(new EventBus(), store);
	await bus.ready;
	bus.on('auth.user.logout', () => bus.emit('audio.playback.started', { sessionId: 's', audioId: 'bye', timestamp: at }));
	bus.emit('auth.user.login', login('a'));
	assert.throws(() => bus.emit('auth.user.login', { userId: 1 }), ValidationError);
	bus.emit('auth.user.logout', { userId: 'a', timestamp: at });
	await bus.flush();
	assert.deepEqual(appends, [['auth.user.login', 'auth.user.login', 'auth.user.logout', 'audio.playback.started']]);
	const stored = await store.read();
	assert.deepEqual(
		stored.map((e) => e.status),
		['delivered', 'rejected', 'delivered', 'delivered']
	);
	assert.ok(stored[1].errors[0].includes('userId: expected string, received number'), stored[1].errors[0]);
	assert.deepEqual(stored[1].issues[0], { path: 'userId', expected: 'string', received: 'number' });
});

test('store-first: stored before any handler runs; emit resolves after dispatch', async () => {
	const store = new MemoryEventStore();
	const bus = new PersistentEventBus(new EventBus(), store, { durability: 'store-first' });
	await bus.ready;
	const storedWhenHandled = [];
	bus.on('auth.user.login', async () => storedWhenHandled.push(await store.count()));
	const pending = bus.emit('auth.user.login', login('a'));
	assert.ok(pending instanceof Promise);
	await pending;
	await bus.flush();
	assert.deepEqual(storedWhenHandled, [1]);
	assert.equal(await store.count(), 1, 'stored once, not again after dispatch');
	const refused = await bus.emit('auth.user.login', { userId: 1 }).then(
		() => null,
		(e) => e
	);
	assert.ok(refused instanceof ValidationError, `got ${refused}`);
});

test('store-first: a store that fails means no handler ran, the caller is told, and the bus goes on in memory', async () => {
	const bus = new PersistentEventBus(new EventBus(), new FullStore(), { durability: 'store-first' });
	await bus.ready;
	let ran = 0;
	bus.on('auth.user.login', () => ran++);
	const { warnings, result } = await withWarnings(() =>
		bus.emit('auth.user.login', login('a')).then(
			() => null,
			(e) => e
		)
	);
	assert.ok(result instanceof StoreError && result.kind === 'quota', `got ${result}`);
	assert.equal(ran, 0);
	assert.equal(bus.persistence.kind, 'memory-fallback');
	assert.ok(bus.persistence.reason.includes('quota'));
	assert.equal(warnings.length, 1, 'one clear warning');
	await bus.emit('auth.user.login', login('b'));
	assert.equal(ran, 1, 'later emits go on, in memory');
});

test('batched: over quota, one warning, the bus goes on in memory and nothing is thrown at the user', async () => {
	const bus = new PersistentEventBus(new EventBus(), new FullStore());
	await bus.ready;
	const { warnings } = await withWarnings(async () => {
		for (let i = 0; i < 3; i++) bus.emit('auth.user.login', login(`u${i}`));
		await bus.flush();
		bus.emit('auth.user.login', login('later'));
		await bus.flush();
	});
	assert.equal(warnings.length, 1);
	assert.ok(warnings[0].includes('memory only'), warnings[0]);
	assert.deepEqual(bus.persistence.kind, 'memory-fallback');
	const replayed = [];
	for await (const event of bus.replay()) replayed.push(event.userId);
	assert.deepEqual(replayed, ['u0', 'u1', 'u2', 'later'], 'the failed batch was kept in memory');
});

test('after a reload, the stored records come back first, marked restored, in getEventHistory and getEventFlow', async () => {
	const name = dbName();
	const first = createPersistentBus({ name, indexedDB: idb });
	await first.ready;
	first.emit('auth.user.login', login('u1'));
	first.emit('auth.user.logout', { userId: 'u1', timestamp: at });
	await first.flush();

	// The "reload": a new bus on the same database.
	const second = createPersistentBus({ name, indexedDB: idb });
	const announced = [];
	second.onRecord((record, change) => announced.push(`${change}:${record?.source}`));
	await second.ready;
	second.emit('auth.user.login', login('u1'));
	const history = second.getEventHistory();
	assert.deepEqual(
		history.map((r) => `${r.name}:${r.source ?? 'local'}`),
		['auth.user.login:restored', 'auth.user.logout:restored', 'auth.user.login:local']
	);
	assert.ok(history[0].payload.timestamp instanceof Date, 'restored Dates are Dates');
	assert.ok(history[0].id < history[1].id && history[1].id < history[2].id, 'ids increase and never clash');
	assert.equal(second.getEventFlow('u1').length, 3);
	assert.deepEqual(announced.slice(0, 2), ['added:restored', 'added:restored']);
	assert.equal(second.persistence.kind, 'indexeddb');
});

test('restore brings back only the newest historyLimit records', async () => {
	const name = dbName();
	const first = createPersistentBus({ name, indexedDB: idb });
	await first.ready;
	for (let i = 0; i < 5; i++) first.emit('auth.user.login', login(`u${i}`));
	await first.flush();
	const second = createPersistentBus({ name, indexedDB: idb, historyLimit: 2 });
	await second.ready;
	assert.deepEqual(
		second.getEventHistory().map((r) => r.payload.userId),
		['u3', 'u4']
	);
});

test('replay(filter) iterates stored events oldest first, across pages', async () => {
	const bus = new PersistentEventBus(new EventBus(), new MemoryEventStore());
	await bus.ready;
	for (let i = 0; i < 1200; i++) bus.emit('auth.user.login', login(`u${i}`));
	bus.emit('auth.user.logout', { userId: 'u7', timestamp: at });
	const all = [];
	for await (const event of bus.replay({ name: 'auth.user.login' })) all.push(event.userId);
	assert.equal(all.length, 1200);
	assert.equal(all[0], 'u0');
	assert.equal(all.at(-1), 'u1199');
	const u7 = [];
	for await (const event of bus.replay({ userId: 'u7' })) u7.push(event.name);
	assert.deepEqual(u7, ['auth.user.login', 'auth.user.logout']);
});

test('no IndexedDB: ready resolves, persistence says memory-fallback with the reason, the bus works', async () => {
	const { warnings, result: bus } = await withWarnings(async () => {
		const b = createPersistentBus({ name: dbName(), indexedDB: null });
		await b.ready;
		return b;
	});
	assert.equal(bus.persistence.kind, 'memory-fallback');
	assert.ok(bus.persistence.reason.includes('not available'), bus.persistence.reason);
	assert.equal(warnings.length, 1);
	let got = null;
	bus.on('auth.user.login', (p) => (got = p.userId));
	bus.emit('auth.user.login', login('x'));
	assert.equal(got, 'x');
});

test('bad arguments are clear errors', () => {
	assert.throws(() => new PersistentEventBus(null, new MemoryEventStore()), /bus must be an EventBus/);
	assert.throws(() => new PersistentEventBus(new EventBus(), {}), /store must be an EventStore/);
	assert.throws(() => new PersistentEventBus(new EventBus(), new MemoryEventStore(), { durability: 'later' }), /durability/);
});

test("createEventBus('persistent', options), the seed's factory, once kaiwa-bus/store is imported; defineEvents' events too", async () => {
	const bus = createEventBus('persistent', { name: dbName(), indexedDB: idb, mode: 'strict' });
	assert.ok(bus instanceof PersistentEventBus);
	await bus.ready;
	assert.equal(bus.persistence.kind, 'indexeddb');
	bus.emit('auth.user.login', login('f1'));
	await bus.flush();
	const replayed = [];
	for await (const event of bus.replay()) replayed.push(event.userId);
	assert.deepEqual(replayed, ['f1']);
});
