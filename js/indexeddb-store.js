// IndexedDbEventStore: the Event Store on IndexedDB, so that events survive
// a reload and every tab of an origin reads the same log.
//
// One database per store name, one object store `events` keyed by `seq`
// (auto-increment, so the key order is the order of appends), with indexes
// on `eid` (unique: an event offered twice, by two tabs or a retried batch,
// is stored once), `name`, `userId` and `timestamp`.
//
// What goes wrong with IndexedDB, and what this file does about it:
// - No IndexedDB, or `open()` fails or never answers (Safari's first open
//   can hang): every call rejects with a StoreError of kind 'unavailable',
//   after `openTimeoutMs`; the next call tries again.
// - Another tab upgrades the database (`versionchange`): this connection
//   closes at once so that the upgrade is not blocked, and the next call
//   reopens; a call that raced the close is retried once.
// - A transaction is only kept alive by IndexedDB requests; awaiting anything
//   else inside it throws TransactionInactiveError. So every input is
//   prepared before a transaction starts, and a transaction's work is plain
//   request callbacks, never an `await`.
// - Storage full (QuotaExceededError, also Safari's private mode): the
//   transaction aborts whole (no torn batch) and the call rejects with a
//   StoreError of kind 'quota'.
// - Records this version cannot read (another version's, corrupted,
//   hand-edited) are skipped and counted (`skipped`), never handed on.

import { StoreError, compileFilter, isStoredEvent, readLimit, readRetention, toStoredEvent } from './stored-event.js';

const DB_VERSION = 1;
const EVENTS = 'events';

function storeError(error, what) {
	const name = error?.name ?? 'Error';
	const message = `${what} failed: ${name}${error?.message ? `: ${error.message}` : ''}`;
	if (name === 'QuotaExceededError') return new StoreError('quota', `${what} failed: storage is full (QuotaExceededError)`, error);
	if (name === 'InvalidStateError') return new StoreError('closed', message, error);
	return new StoreError('failed', message, error);
}

function createSchema(db) {
	if (db.objectStoreNames.contains(EVENTS)) return;
	const events = db.createObjectStore(EVENTS, { keyPath: 'seq', autoIncrement: true });
	events.createIndex('eid', 'eid', { unique: true });
	events.createIndex('name', 'name');
	events.createIndex('userId', 'userId');
	events.createIndex('timestamp', 'timestamp');
}

/** An EventStore on IndexedDB (see EventStore in index.d.ts). */
export class IndexedDbEventStore {
	#name;
	#idb;
	#retain;
	#openTimeoutMs;
	#db = null;
	#opening = null;
	#closed = false;
	#unreadable = new Set();

	/**
	 * @param {object} [options]
	 * @param {string} [options.name] the database name (default 'kaiwa-bus')
	 * @param {IDBFactory} [options.indexedDB] the IndexedDB to use (default the global one; Node tests pass fake-indexeddb's)
	 * @param {{maxEvents?: number, maxAgeMs?: number}} [options.retain] what `trim()` keeps (default everything)
	 * @param {number} [options.openTimeoutMs] how long opening may take before calls fail as 'unavailable' (default 5000)
	 */
	constructor({ name = 'kaiwa-bus', indexedDB = globalThis.indexedDB, retain = {}, openTimeoutMs = 5000 } = {}) {
		if (typeof name !== 'string' || name === '') throw new TypeError('kaiwa-bus store: options.name must be a non-empty string');
		if (!Number.isFinite(openTimeoutMs) || openTimeoutMs <= 0) throw new RangeError('kaiwa-bus store: options.openTimeoutMs must be a number above 0');
		this.#name = name;
		this.#idb = indexedDB;
		this.#retain = readRetention(retain);
		this.#openTimeoutMs = openTimeoutMs;
	}

	/** The kind of store, for `bus.persistence`. */
	get kind() {
		return 'indexeddb';
	}

	/** How many stored records could not be read (another version's, corrupted, hand-edited) and were skipped. */
	get skipped() {
		return this.#unreadable.size;
	}

	/** Resolves once the database is open and usable; rejects with a StoreError that says why not. */
	async open() {
		await this.#database();
	}

	/** The seed's `storeEvent(name, payload)`. */
	async storeEvent(name, payload) {
		const [stored] = await this.append([{ name, payload }]);
		return stored;
	}

	/**
	 * Stores a batch in one transaction, in order: all of it or, if the
	 * transaction fails, none of it. An event whose `eid` is already stored is
	 * not stored again. Resolves with the events stored now, with their `seq`.
	 */
	async append(events) {
		const batch = Array.from(events, toStoredEvent);
		const added = [];
		await this.#transaction('readwrite', (store) => {
			for (const event of batch) {
				const request = addCloneable(store, event);
				request.onsuccess = () => added.push({ ...event, seq: request.result });
				request.onerror = (e) => {
					// Already stored (by another tab, or an earlier try): skip it
					// and keep the transaction going.
					if (request.error?.name === 'ConstraintError') {
						e.preventDefault();
						e.stopPropagation();
					}
				};
			}
		});
		return added;
	}

	/**
	 * Events matching the filter (see compileFilter in js/stored-event.js), oldest
	 * first; `{ newest: true, limit: n }` gives the newest n, still oldest
	 * first, reading only as far back as it needs.
	 */
	async read(filter = {}) {
		const keep = compileFilter(filter);
		const limit = readLimit(filter);
		const out = [];
		await this.#transaction('readonly', (store) => {
			const [source, key] =
				filter.name !== undefined ? [store.index('name'), filter.name] : filter.userId !== undefined ? [store.index('userId'), filter.userId] : [store, undefined];
			const request = source.openCursor(key, filter.newest ? 'prev' : 'next');
			request.onsuccess = () => {
				const cursor = request.result;
				if (!cursor) return;
				if (!isStoredEvent(cursor.value)) this.#unreadable.add(cursor.primaryKey);
				else if (keep(cursor.value) && out.push(cursor.value) >= limit) return;
				cursor.continue();
			};
		});
		return filter.newest ? out.reverse() : out;
	}

	/** How many events match the filter; with none, how many are stored. */
	async count(filter) {
		if (filter !== undefined) return (await this.read({ ...filter, limit: undefined, newest: false })).length;
		let count = 0;
		await this.#transaction('readonly', (store) => {
			const request = store.count();
			request.onsuccess = () => (count = request.result);
		});
		return count;
	}

	/**
	 * Drops what is past `retain` (this store's, or the one given): events
	 * older than `maxAgeMs`, then the oldest beyond `maxEvents`. One
	 * transaction. Resolves with how many it dropped.
	 */
	async trim(retain = this.#retain) {
		const { maxEvents, maxAgeMs } = readRetention(retain);
		const cutoff = Date.now() - maxAgeMs;
		let dropped = 0;
		await this.#transaction('readwrite', (store) => {
			const byCount = () => {
				if (maxEvents === Infinity) return;
				const counted = store.count();
				counted.onsuccess = () => {
					let excess = counted.result - maxEvents;
					if (excess <= 0) return;
					const oldest = store.openCursor();
					oldest.onsuccess = () => {
						const cursor = oldest.result;
						if (!cursor || excess-- <= 0) return;
						cursor.delete();
						dropped++;
						cursor.continue();
					};
				};
			};
			if (maxAgeMs === Infinity) return byCount();
			const aged = store.index('timestamp').openCursor();
			aged.onsuccess = () => {
				const cursor = aged.result;
				if (!cursor || cursor.value.timestamp.getTime() >= cutoff) return byCount();
				cursor.delete();
				dropped++;
				cursor.continue();
			};
		});
		return dropped;
	}

	/** Removes every stored event. */
	async clear() {
		await this.#transaction('readwrite', (store) => store.clear());
		this.#unreadable.clear();
	}

	/** Closes the database; later calls reject with a StoreError of kind 'closed'. */
	close() {
		this.#closed = true;
		this.#db?.close();
		this.#db = null;
	}

	#database() {
		if (this.#closed) return Promise.reject(new StoreError('closed', 'the store was closed'));
		if (this.#db) return Promise.resolve(this.#db);
		this.#opening ??= this.#openDatabase().finally(() => (this.#opening = null));
		return this.#opening;
	}

	#openDatabase() {
		const name = this.#name;
		return new Promise((resolve, reject) => {
			if (!this.#idb || typeof this.#idb.open !== 'function') {
				reject(new StoreError('unavailable', 'IndexedDB is not available here'));
				return;
			}
			let request;
			try {
				request = this.#idb.open(name, DB_VERSION);
			} catch (error) {
				reject(new StoreError('unavailable', `IndexedDB refused to open "${name}": ${error?.message ?? error}`, error));
				return;
			}
			let blocked = false;
			let settled = false;
			const timer = setTimeout(() => {
				settled = true;
				const why = blocked ? 'another tab holds an older version of it open' : 'IndexedDB did not answer';
				reject(new StoreError(blocked ? 'blocked' : 'unavailable', `opening "${name}" took over ${this.#openTimeoutMs} ms: ${why}`));
			}, this.#openTimeoutMs);
			request.onblocked = () => (blocked = true);
			request.onupgradeneeded = () => createSchema(request.result);
			request.onerror = () => {
				clearTimeout(timer);
				settled = true;
				reject(new StoreError('unavailable', `opening "${name}" failed: ${request.error?.name ?? 'Error'}: ${request.error?.message ?? ''}`, request.error));
			};
			request.onsuccess = () => {
				clearTimeout(timer);
				const db = request.result;
				if (settled || this.#closed) {
					db.close();
					return;
				}
				settled = true;
				// Another tab wants to upgrade, or the browser dropped the
				// database: let go now, reopen on the next call.
				const release = () => {
					db.close();
					if (this.#db === db) this.#db = null;
				};
				db.onversionchange = release;
				db.onclose = release;
				this.#db = db;
				resolve(db);
			};
		});
	}

	// Runs `work(objectStore)` in one transaction; resolves when it commits.
	// A connection closed under us (versionchange) is reopened once.
	async #transaction(mode, work, retried = false) {
		const db = await this.#database();
		let tx;
		try {
			tx = db.transaction(EVENTS, mode);
		} catch (error) {
			if (error?.name === 'InvalidStateError' && !retried && !this.#closed) {
				if (this.#db === db) this.#db = null;
				return this.#transaction(mode, work, true);
			}
			throw storeError(error, `a ${mode} transaction`);
		}
		return new Promise((resolve, reject) => {
			tx.oncomplete = () => resolve();
			tx.onabort = () => reject(storeError(tx.error, `a ${mode} transaction`));
			try {
				work(tx.objectStore(EVENTS));
			} catch (error) {
				try {
					tx.abort();
				} catch {
					// Already finished.
				}
				reject(error instanceof StoreError ? error : storeError(error, `a ${mode} transaction`));
			}
		});
	}
}

// Stores `event`; a payload the structured clone cannot copy (a function,
// a DOM node...) is stored as null, with the reason in `errors`.
function addCloneable(store, event) {
	try {
		return store.add(event);
	} catch (error) {
		if (error?.name !== 'DataCloneError') throw error;
		return store.add({ ...event, payload: null, errors: [...event.errors, `the payload could not be stored: ${error.message}`] });
	}
}
