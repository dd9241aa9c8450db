// The Event Store (kaiwa-bus/store): MemoryEventStore, and IndexedDbEventStore
// on fake-indexeddb in Node and on Chromium's real IndexedDB in the browser.
// The same cases run against both stores: what one promises, the other keeps.

import { IndexedDbEventStore, MemoryEventStore, STORED_EVENT_VERSION, StoreError } from '#kaiwa-store';
import { IndexedDbOutbox } from '../../pkg/relay/outbox.js';
import { assert, inNode, test } from './harness.js';

// A fresh IndexedDB factory in Node; the page's own in Chromium.
const idb = inNode ? (await import('fake-indexeddb')).indexedDB : globalThis.indexedDB;
let dbCount = 0;
const dbName = () => `kaiwa-store-test-${Date.now()}-${++dbCount}`;

const at = (iso) => new Date(iso);
const login = (userId, timestamp = at('2026-11-30T10:00:00Z')) => ({
	name: 'auth.user.login',
	payload: { userId, email: `${userId}@example.com`, tier: 'pro', timestamp },
	timestamp
});

const stores = {
	memory: () => new MemoryEventStore({ retain: {} }),
	indexeddb: () => new IndexedDbEventStore({ name: dbName(), indexedDB: idb })
};

for (const [kind, make] of Object.entries(stores)) {
	test(`${kind}: storeEvent(name, payload), the seed's call, stores and reads back the payload with its Dates`, async () => {
		const store = make();
		const when = at('2026-11-30T09:00:00Z');
		const stored = await store.storeEvent('auth.user.logout', { userId: 'u1', timestamp: when });
		assert.equal(stored.name, 'auth.user.logout');
		assert.equal(stored.v, STORED_EVENT_VERSION);
		assert.equal(stored.source, 'local');
		const [back] = await store.read();
		assert.equal(back.name, 'auth.user.logout');
		assert.ok(back.payload.timestamp instanceof Date, 'a Date payload field comes back a Date');
		assert.equal(back.payload.timestamp.getTime(), when.getTime());
		assert.equal(back.userId, 'u1');
		assert.equal(back.seq, stored.seq);
		store.close();
	});

	test(`${kind}: append keeps order, gives increasing seq, and stores an eid once`, async () => {
		const store = make();
		const first = await store.append([login('a'), login('b'), { ...login('c'), eid: 'same' }]);
		assert.deepEqual(
			first.map((e) => e.payload.userId),
			['a', 'b', 'c']
		);
		assert.ok(first[0].seq < first[1].seq && first[1].seq < first[2].seq);
		const again = await store.append([{ ...login('c'), eid: 'same' }, login('d')]);
		assert.deepEqual(
			again.map((e) => e.payload.userId),
			['d'],
			'the repeated eid is skipped, the batch goes on'
		);
		assert.deepEqual(
			(await store.read()).map((e) => e.payload.userId),
			['a', 'b', 'c', 'd']
		);
		assert.equal(await store.count(), 4);
		store.close();
	});

	test(`${kind}: read by name, pattern, userId, time, afterSeq and eid; newest n in order`, async () => {
		const store = make();
		const added = await store.append([
			login('a', at('2026-11-30T10:00:00Z')),
			{
				name: 'auth.user.logout',
				payload: { userId: 'a', timestamp: at('2026-11-30T10:01:00Z') },
				timestamp: at('2026-11-30T10:01:00Z')
			},
			{ name: 'audio.recording.started', payload: { sessionId: 's' }, timestamp: at('2026-11-30T10:02:00Z') },
			login('b', at('2026-11-30T10:03:00Z'))
		]);
		const names = (list) => list.map((e) => `${e.name}:${e.userId}`);
		assert.deepEqual(names(await store.read({ name: 'auth.user.login' })), ['auth.user.login:a', 'auth.user.login:b']);
		assert.deepEqual(names(await store.read({ pattern: 'auth.*' })), ['auth.user.login:a', 'auth.user.logout:a', 'auth.user.login:b']);
		assert.deepEqual(names(await store.read({ userId: 'a' })), ['auth.user.login:a', 'auth.user.logout:a']);
		assert.deepEqual(names(await store.read({ since: at('2026-11-30T10:01:00Z'), until: at('2026-11-30T10:02:00Z') })), [
			'auth.user.logout:a',
			'audio.recording.started:null'
		]);
		assert.deepEqual(names(await store.read({ afterSeq: added[2].seq })), ['auth.user.login:b']);
		assert.deepEqual(names(await store.read({ eid: added[1].eid })), ['auth.user.logout:a']);
		assert.deepEqual(names(await store.read({ newest: true, limit: 2 })), ['audio.recording.started:null', 'auth.user.login:b']);
		assert.deepEqual(names(await store.read({ limit: 1 })), ['auth.user.login:a']);
		assert.equal(await store.count({ pattern: 'auth.*' }), 3);
		store.close();
	});

	test(`${kind}: trim drops by age, then the oldest past maxEvents`, async () => {
		const store = make();
		const old = new Date(Date.now() - 60 * 60_000);
		await store.append([
			login('old1', old),
			login('old2', old),
			login('n1', new Date()),
			login('n2', new Date()),
			login('n3', new Date())
		]);
		assert.equal(await store.trim({ maxAgeMs: 10 * 60_000 }), 2);
		assert.deepEqual(
			(await store.read()).map((e) => e.userId),
			['n1', 'n2', 'n3']
		);
		assert.equal(await store.trim({ maxEvents: 1 }), 2);
		assert.deepEqual(
			(await store.read()).map((e) => e.userId),
			['n3']
		);
		store.close();
	});

	test(`${kind}: trim by age drops every old event, in or out of timestamp order`, async () => {
		const store = make();
		const day = 24 * 60 * 60_000;
		// One event stored while the clock was a year ahead, then 2,000 two days old (two chunks and more), one fresh.
		const ahead = login('ahead', new Date(Date.now() + 365 * day));
		const old = Array.from({ length: 2000 }, (_, i) => login(`old${i}`, new Date(Date.now() - 2 * day)));
		await store.append([ahead, ...old.slice(0, 1500), login('fresh', new Date()), ...old.slice(1500)]);
		assert.equal(await store.trim({ maxAgeMs: 60_000 }), 2000);
		const kept = await store.read();
		assert.deepEqual(
			kept.map((e) => e.userId),
			['ahead', 'fresh']
		);
		assert.equal(await store.count(), 2);
		assert.ok(kept[1].seq > kept[0].seq, 'the kept events keep their order');
		assert.deepEqual(
			(await store.read({ afterSeq: kept[0].seq })).map((e) => e.userId),
			['fresh']
		);
		assert.equal(await store.trim({ maxEvents: 1 }), 1);
		assert.deepEqual(
			(await store.read()).map((e) => e.userId),
			['fresh']
		);
		await store.append([login('later')]);
		assert.deepEqual(
			(await store.read({ newest: true, limit: 2 })).map((e) => e.userId),
			['fresh', 'later']
		);
		if (store.skipped !== undefined) assert.equal(store.skipped, 0, 'what trim dropped is not counted as unreadable');
		store.close();
	});

	test(`${kind}: clear empties it; a closed store refuses with a StoreError of kind 'closed'`, async () => {
		const store = make();
		await store.append([login('a')]);
		await store.clear();
		assert.equal(await store.count(), 0);
		store.close();
		const error = await store.read().then(
			() => null,
			(e) => e
		);
		assert.ok(error instanceof StoreError, `got ${error}`);
		assert.equal(error.kind, 'closed');
	});

	test(`${kind}: bad input is a clear error, and the store keeps working`, async () => {
		const store = make();
		for (const [bad, words] of [
			[null, 'must be an object'],
			[{ name: '' }, 'non-empty string "name"'],
			[{ name: 'a.b', timestamp: 'not a date' }, '"timestamp"'],
			[{ name: 'a.b', source: 'elsewhere' }, '"source"']
		]) {
			const error = await store.append([login('ok'), bad]).then(
				() => null,
				(e) => e
			);
			assert.ok(error instanceof TypeError && error.message.includes(words), `${JSON.stringify(bad)}: ${error}`);
		}
		const filterError = await store.read({ limit: 0 }).then(
			() => null,
			(e) => e
		);
		assert.ok(filterError instanceof RangeError && filterError.message.includes('filter.limit'));
		assert.equal(await store.count(), 0, 'a batch with a bad event stores none of it');
		await store.append([login('after')]);
		assert.equal(await store.count(), 1);
		store.close();
	});
}

test('indexeddb: a batch larger than one chunk keeps its order, and seqs survive a trim that cuts a chunk', async () => {
	const store = new IndexedDbEventStore({ name: dbName(), indexedDB: idb });
	const added = await store.append(Array.from({ length: 2500 }, (_, i) => login(`u${i}`)));
	assert.equal(added.length, 2500);
	assert.equal(await store.count(), 2500);
	const all = await store.read();
	assert.deepEqual(
		all.map((e) => e.userId),
		added.map((e) => e.userId)
	);
	assert.deepEqual(
		all.map((e) => e.seq),
		added.map((e) => e.seq)
	);
	assert.ok(
		all.every((e, i) => i === 0 || e.seq > all[i - 1].seq),
		'seqs increase'
	);
	assert.equal(await store.trim({ maxEvents: 1200 }), 1300);
	const kept = await store.read();
	assert.deepEqual(
		kept.map((e) => e.seq),
		all.slice(1300).map((e) => e.seq),
		'the kept events keep their seq'
	);
	assert.deepEqual(
		(await store.read({ afterSeq: kept[99].seq, limit: 2 })).map((e) => e.userId),
		['u1400', 'u1401']
	);
	assert.deepEqual(
		(await store.read({ newest: true, limit: 2 })).map((e) => e.userId),
		['u2498', 'u2499']
	);
	store.close();
});

test('memory: bounded by retain.maxEvents as it appends', async () => {
	const store = new MemoryEventStore({ retain: { maxEvents: 3 } });
	for (const id of ['a', 'b', 'c', 'd', 'e']) await store.append([login(id)]);
	assert.deepEqual(
		(await store.read()).map((e) => e.userId),
		['c', 'd', 'e']
	);
});

test('indexeddb: a payload the structured clone cannot copy is stored as its JSON-safe copy, with the reason', async () => {
	const store = new IndexedDbEventStore({ name: dbName(), indexedDB: idb });
	await store.append([{ name: 'x.fn', payload: { id: 'f1', run() {} } }, login('after')]);
	const [fn, after] = await store.read();
	assert.deepEqual(fn.payload, { id: 'f1' }, 'what JSON keeps of it');
	assert.ok(
		fn.errors.some((e) => e.includes('could not be stored as it is')),
		fn.errors.join()
	);
	assert.equal(after.userId, 'after');
	store.close();
});

test('indexeddb: records it cannot read are skipped and counted, never handed on', async () => {
	const name = dbName();
	const store = new IndexedDbEventStore({ name, indexedDB: idb });
	await store.append([login('a')]);
	// Another version's record and garbage, written behind the store's back.
	await new Promise((resolve, reject) => {
		const open = idb.open(name);
		open.onsuccess = () => {
			const db = open.result;
			const tx = db.transaction('chunks', 'readwrite');
			tx.objectStore('chunks').add({ v: 99, eids: ['future'], layout: 'something else' });
			tx.objectStore('chunks').add({ v: 1, start: 0, eids: ['garbage'], events: [{ eid: 'garbage', name: 42 }] });
			tx.oncomplete = () => (db.close(), resolve());
			tx.onabort = () => reject(tx.error);
		};
		open.onerror = () => reject(open.error);
	});
	await store.append([login('b')]);
	assert.deepEqual(
		(await store.read()).map((e) => e.userId),
		['a', 'b']
	);
	assert.equal(store.skipped, 2);
	store.close();
});

test('indexeddb: two stores on one database (two tabs) write each event once and read the same log', async () => {
	const name = dbName();
	const tabA = new IndexedDbEventStore({ name, indexedDB: idb });
	const tabB = new IndexedDbEventStore({ name, indexedDB: idb });
	const shared = { ...login('both'), eid: 'offered-by-both' };
	await Promise.all([tabA.append([login('a1'), shared]), tabB.append([shared, login('b1')])]);
	const a = (await tabA.read()).map((e) => e.eid);
	const b = (await tabB.read()).map((e) => e.eid);
	assert.deepEqual(a, b);
	assert.equal(a.filter((eid) => eid === 'offered-by-both').length, 1);
	assert.equal(a.length, 3);
	tabA.close();
	tabB.close();
});

test('indexeddb: a versionchange from another tab closes this connection, and the next call reopens', async () => {
	const name = dbName();
	const store = new IndexedDbEventStore({ name, indexedDB: idb });
	await store.append([login('before')]);
	// Another tab opens a newer version: it would be blocked if this store held on.
	await new Promise((resolve, reject) => {
		const upgrade = idb.open(name, 2);
		upgrade.onsuccess = () => (upgrade.result.close(), resolve());
		upgrade.onerror = () => reject(upgrade.error);
		upgrade.onblocked = () => reject(new Error('the upgrade was blocked by the store'));
	});
	// The database is at version 2 now; this build opens version 1, which
	// IndexedDB refuses (VersionError): the store says so, plainly.
	const error = await store.append([login('after')]).then(
		() => null,
		(e) => e
	);
	assert.ok(error instanceof StoreError && error.kind === 'unavailable', `got ${error}`);
	assert.ok(error.message.includes('VersionError'), error.message);
	store.close();
});

test('indexeddb: no IndexedDB at all is a StoreError of kind unavailable', async () => {
	const store = new IndexedDbEventStore({ name: dbName(), indexedDB: null });
	const error = await store.open().then(
		() => null,
		(e) => e
	);
	assert.ok(error instanceof StoreError && error.kind === 'unavailable', `got ${error}`);
});

test('indexeddb: an open that never answers fails after openTimeoutMs, and a later call tries again', async () => {
	let calls = 0;
	const hanging = { open: () => (calls++, {}) };
	const store = new IndexedDbEventStore({ name: dbName(), indexedDB: hanging, openTimeoutMs: 30 });
	const first = await store.open().then(
		() => null,
		(e) => e
	);
	assert.ok(first instanceof StoreError && first.kind === 'unavailable' && first.message.includes('did not answer'), `got ${first}`);
	await store.open().catch(() => {});
	assert.equal(calls, 2);
});

test('indexeddb: an open blocked by another tab fails as blocked, and so does a second open while the first still waits; both go through once it lets go', async () => {
	const name = dbName();
	// The other tab: version 1 open, versionchange ignored.
	const held = await new Promise((resolve, reject) => {
		const request = idb.open(name, 1);
		request.onsuccess = () => resolve(request.result);
		request.onerror = () => reject(request.error);
	});
	held.onversionchange = () => {};
	// The store of the next release: it asks for version 2.
	const next = { open: (n, version) => idb.open(n, version + 1) };
	const store = new IndexedDbEventStore({ name, indexedDB: next, openTimeoutMs: 100 });
	try {
		const first = await store.open().then(
			() => null,
			(e) => e
		);
		assert.ok(first instanceof StoreError && first.kind === 'blocked', `first open: got ${first}`);
		// IndexedDB queues a second open of the same database behind the first,
		// where it hears no `blocked` of its own: it must still say blocked.
		const second = await store.open().then(
			() => null,
			(e) => e
		);
		assert.ok(second instanceof StoreError && second.kind === 'blocked', `second open: got ${second}`);
	} finally {
		held.close();
	}
	await store.append([login('after')]);
	assert.deepEqual(
		(await store.read()).map((e) => e.payload.userId),
		['after']
	);
	store.close();
});

test("the relay's IndexedDB outbox: an open that never answers fails after openTimeoutMs as unavailable, and a later call tries again", async () => {
	let calls = 0;
	const hanging = { open: () => (calls++, {}) };
	const outbox = new IndexedDbOutbox({ name: dbName(), indexedDB: hanging, openTimeoutMs: 30 });
	// Before the outbox shared the store's opener it waited forever: give up after 2 s.
	const deadline = new Promise((resolve) => setTimeout(() => resolve('still pending after 2 s'), 2000));
	const first = await Promise.race([
		outbox.load().then(
			() => 'loaded',
			(e) => e
		),
		deadline
	]);
	assert.ok(first?.kind === 'unavailable' && first.message.includes('did not answer'), `got ${first}`);
	await outbox.load().catch(() => {});
	assert.equal(calls, 2);
	outbox.close();
});

test('indexeddb: storage full aborts the whole batch with a StoreError of kind quota', async () => {
	// A real IndexedDB whose object store's add throws QuotaExceededError on the
	// third write, as a full disk does.
	const name = dbName();
	const failing = {
		open: (...args) => {
			const request = idb.open(...args);
			const wrap = () => {
				const db = request.result;
				const transaction = db.transaction.bind(db);
				db.transaction = (...t) => {
					const tx = transaction(...t);
					const objectStore = tx.objectStore.bind(tx);
					tx.objectStore = (n) => {
						const store = objectStore(n);
						let adds = 0;
						const add = store.add.bind(store);
						store.add = (value) => {
							if (++adds === 3) throw new DOMException('the quota has been exceeded', 'QuotaExceededError');
							return add(value);
						};
						return store;
					};
					return tx;
				};
			};
			request.addEventListener('success', wrap);
			return request;
		}
	};
	const store = new IndexedDbEventStore({ name, indexedDB: failing });
	// 2,500 events: three chunks, the third of which does not fit.
	const burst = Array.from({ length: 2500 }, (_, i) => login(`u${i}`));
	const error = await store.append(burst).then(
		() => null,
		(e) => e
	);
	assert.ok(error instanceof StoreError && error.kind === 'quota', `got ${error}`);
	assert.equal(await store.count(), 0, 'no torn batch: none of it was stored');
	store.close();
});
