// PersistentEventBus when a call or a write goes wrong (issue 25 items 1-4,
// issue 19 item 16 is in store.test.js): a refused call, a payload
// IndexedDB cannot copy, clearStored() after a fallback to memory, and
// replay's cost. Node runs it on fake-indexeddb, Chromium on its IndexedDB.

import { EventBus, ValidationError } from '#kaiwa';
import { IndexedDbEventStore, PersistentEventBus, StoreError, createPersistentBus } from '#kaiwa-store';
import { assert, captureConsole, inNode, test, unhandledRejections, withGetter } from './harness.js';

const idb = inNode ? (await import('fake-indexeddb')).indexedDB : globalThis.indexedDB;
let dbCount = 0;
const dbName = () => `kaiwa-failures-test-${Date.now()}-${++dbCount}`;
const at = new Date('2026-11-30T10:00:00Z');
const login = (userId) => ({ userId, email: `${userId}@example.com`, tier: 'pro', timestamp: at });

async function replayed(bus, filter) {
	const out = [];
	for await (const event of bus.replay(filter)) out.push(event.userId);
	return out;
}

test('batched: a call the bus refuses before recording it is not queued: the writes after it are stored, nothing goes unhandled', async () => {
	const bus = createPersistentBus({ name: dbName(), indexedDB: idb });
	await bus.ready;
	const unhandled = await unhandledRejections(async () => {
		assert.throws(() => bus.emit(undefined, login('x')), TypeError);
		for (const id of ['a', 'b', 'c']) bus.emit('auth.user.login', login(id));
		await bus.flush();
	});
	assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection');
	assert.equal(bus.persistence.kind, 'indexeddb', 'still stored in IndexedDB');
	assert.equal(await bus.storedCount(), 3);
	assert.deepEqual(await replayed(bus), ['a', 'b', 'c']);
	// A refusal the bus records (the schema's) is stored, as rejected.
	assert.throws(() => bus.emit('auth.user.login', { userId: 1 }), ValidationError);
	bus.bus.dispose();
	assert.throws(() => bus.emit('auth.user.login', login('d')), /disposed/);
	await bus.flush();
	assert.equal(await bus.storedCount(), 4, 'the rejected one; not the call on a disposed bus');
	await bus.clearStored();
	assert.equal(await bus.storedCount(), 0);
});

test('batched: a payload IndexedDB cannot copy is stored as its JSON-safe copy, and only that one', async () => {
	const name = dbName();
	const bus = createPersistentBus({ name, indexedDB: idb });
	await bus.ready;
	// A field no schema reads, so the bus accepts it; the structured clone reads it and throws.
	const odd = withGetter(login('odd'), 'extra', () => {
		throw new Error('not cloneable');
	});
	bus.emit('auth.user.login', login('a'));
	bus.emit('auth.user.login', odd);
	bus.emit('auth.user.login', login('b'));
	await bus.flush();
	bus.emit('auth.user.login', login('later'));
	await bus.flush();
	assert.equal(bus.persistence.kind, 'indexeddb', 'persistence goes on');
	// What IndexedDB holds, read by a store of its own, as the next load would.
	const store = new IndexedDbEventStore({ name, indexedDB: idb });
	const stored = await store.read();
	assert.deepEqual(
		stored.map((e) => e.userId),
		['a', 'odd', 'b', 'later']
	);
	assert.equal(stored[1].payload.extra, '[getter threw: Error: not cloneable]');
	assert.equal(stored[1].payload.timestamp, at.toISOString(), 'the JSON-safe copy');
	assert.match(stored[1].errors[0], /could not be stored as it is \(Error: not cloneable\), only its JSON-safe copy/);
	assert.ok(stored[0].payload.timestamp instanceof Date && stored[2].payload.timestamp instanceof Date, 'the others as they are');
	assert.deepEqual(stored[0].errors, []);
	store.close();
});

// An IndexedDB store whose writes fail as a full disk does; `clear` as given.
function failingWrites(name, clear) {
	const store = new IndexedDbEventStore({ name, indexedDB: idb });
	store.append = async () => {
		throw new StoreError('quota', 'a write failed: storage is full (QuotaExceededError)');
	};
	if (clear) store.clear = clear;
	return store;
}

// A bus on a database holding one event ('before'), that falls back to memory on its first write.
async function fallenBack(name, clear) {
	const first = createPersistentBus({ name, indexedDB: idb });
	await first.ready;
	first.emit('auth.user.login', login('before'));
	await first.flush();
	const bus = new PersistentEventBus(new EventBus(), failingWrites(name, clear));
	await bus.ready;
	assert.deepEqual(
		bus.getEventHistory().map((r) => r.payload.userId),
		['before'],
		'restored from IndexedDB'
	);
	await captureConsole(async () => {
		bus.emit('auth.user.login', login('after'));
		await bus.flush();
	});
	assert.equal(bus.persistence.kind, 'memory-fallback');
	return bus;
}

test('clearStored() after a fallback to memory clears IndexedDB too: nothing comes back on the next load', async () => {
	const name = dbName();
	const bus = await fallenBack(name);
	await bus.clearStored();
	assert.equal(await bus.storedCount(), 0);
	const next = new IndexedDbEventStore({ name, indexedDB: idb });
	assert.equal(await next.count(), 0, 'the next load finds nothing');
	next.close();
});

test('clearStored() after a fallback, when IndexedDB cannot be cleared, rejects and says so', async () => {
	const name = dbName();
	const bus = await fallenBack(name, async () => {
		throw new StoreError('failed', 'a readwrite transaction failed: UnknownError');
	});
	const error = await bus.clearStored().then(
		() => null,
		(e) => e
	);
	assert.ok(error instanceof StoreError, `got ${error}`);
	assert.match(
		error.message,
		/the events in memory were cleared, but not those stored before the fallback to memory, which will come back on the next load \(failed: a readwrite transaction failed: UnknownError\)/
	);
	assert.equal(await bus.storedCount(), 0, 'memory is cleared');
	const next = new IndexedDbEventStore({ name, indexedDB: idb });
	assert.equal(await next.count(), 1, 'what the message says: it is still there');
	next.close();
});

test('replay reads each stored chunk about once, not again from the first for every page', async () => {
	const name = dbName();
	const store = new IndexedDbEventStore({ name, indexedDB: idb });
	await store.append(Array.from({ length: 20_000 }, (_, i) => ({ name: 'auth.user.login', payload: login(`u${i}`), timestamp: at })));
	const bus = new PersistentEventBus(new EventBus(), store, { restore: 0 });
	await bus.ready;
	// Counts the chunks the cursors visit, through the cursor prototype of this IndexedDB.
	const cursorProto = await cursorPrototype();
	const next = cursorProto.continue;
	let visits = 0;
	cursorProto.continue = function (...args) {
		visits++;
		return next.apply(this, args);
	};
	let ids;
	try {
		ids = await replayed(bus);
	} finally {
		cursorProto.continue = next;
	}
	assert.equal(ids.length, 20_000);
	assert.equal(ids[19_999], 'u19999');
	// 40 pages of 500 over 20 chunks: each page visits its one or two chunks
	// (and jumps once); from the first chunk every time, it is some 420.
	assert.ok(visits > 20 && visits <= 3 * 40, `${visits} cursor steps for 40 pages`);
});

// The prototype of this IndexedDB's cursors (fake-indexeddb's in Node, Chromium's own).
async function cursorPrototype() {
	const db = await new Promise((resolve, reject) => {
		const request = idb.open(dbName(), 1);
		request.onupgradeneeded = () => request.result.createObjectStore('s', { autoIncrement: true }).add(1);
		request.onsuccess = () => resolve(request.result);
		request.onerror = () => reject(request.error);
	});
	const proto = await new Promise((resolve) => {
		const request = db.transaction('s').objectStore('s').openCursor();
		request.onsuccess = () => resolve(Object.getPrototypeOf(request.result));
	});
	db.close();
	return proto;
}
