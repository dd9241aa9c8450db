// The relay bus's outbox: events emitted here that the relay has not
// acknowledged yet, in the order they were emitted. MemoryOutbox keeps them
// for the life of the page; IndexedDbOutbox keeps them in IndexedDB, so that
// closing or crashing the tab while offline loses nothing: the next page
// that opens a relay bus with the same outbox sends them, once each (the
// relay stores a ref once), in order.
//
// Writes are batched per task, like the persistent bus's: an event is in
// IndexedDB once the task that emitted it has ended. Another open tab on
// the same outbox may send an entry again; the ref makes that harmless.

import { DatabaseOpener } from '../store/opener.js';

const STORE = 'outbox';

const createSchema = (db) =>
	db.createObjectStore(STORE, { keyPath: 'seq', autoIncrement: true }).createIndex('ref', 'ref', { unique: true });

/** An outbox in memory: what a relay bus uses by default. */
export class MemoryOutbox {
	async load() {
		return [];
	}

	add() {}

	remove() {}

	close() {}
}

export class IndexedDbOutbox {
	#opener;
	#added = [];
	#removed = [];
	#scheduled = false;
	#writing = Promise.resolve();
	#closed = false;

	/**
	 * @param {object} [options]
	 * @param {string} [options.name] the database name, default 'kaiwa-bus-outbox'
	 * @param {IDBFactory} [options.indexedDB] default the global one (Node tests pass fake-indexeddb's)
	 * @param {number} [options.openTimeoutMs] how long opening may take before it fails as 'unavailable' or 'blocked' (default 5000)
	 */
	constructor({ name = 'kaiwa-bus-outbox', indexedDB = globalThis.indexedDB, openTimeoutMs = 5000 } = {}) {
		if (!indexedDB || typeof indexedDB.open !== 'function')
			throw new TypeError("kaiwa-bus: outbox: 'indexeddb' needs IndexedDB, and there is none here");
		const fail = (kind, message, cause) =>
			Object.assign(new Error(`kaiwa-bus: outbox: ${message}`, cause === undefined ? undefined : { cause }), { kind });
		this.#opener = new DatabaseOpener({ indexedDB, name, version: 1, upgrade: createSchema, timeoutMs: openTimeoutMs, fail });
	}

	/** Every entry left by earlier pages (and other tabs), oldest first: `{ ref, name, payload }`. */
	async load() {
		const db = await this.#opener.open();
		return new Promise((resolve, reject) => {
			const request = db.transaction(STORE, 'readonly').objectStore(STORE).getAll();
			request.onsuccess = () =>
				resolve(
					request.result
						.filter((e) => typeof e?.ref === 'string' && typeof e.name === 'string')
						.map(({ ref, name, payload }) => ({ ref, name, payload }))
				);
			request.onerror = () => reject(request.error);
		});
	}

	/** Keeps an entry until `remove(ref)`; written when the task ends. */
	add(ref, name, payload) {
		if (this.#closed) return;
		this.#added.push({ ref, name, payload });
		this.#schedule();
	}

	/** Forgets an entry (acknowledged or refused). */
	remove(ref) {
		if (this.#closed) return;
		this.#removed.push(ref);
		this.#schedule();
	}

	/** Resolves once every add and remove so far is written. */
	flush() {
		this.#write();
		return this.#writing;
	}

	/** Writes what is queued, then lets go; what is still in the outbox stays there for the next page. */
	close() {
		this.#closed = true;
		this.#write();
		this.#writing.finally(() => this.#opener.close());
	}

	#schedule() {
		if (this.#scheduled) return;
		this.#scheduled = true;
		setTimeout(() => this.#write(), 0);
	}

	#write() {
		this.#scheduled = false;
		if (this.#added.length === 0 && this.#removed.length === 0) return;
		const [added, removed] = [this.#added, this.#removed];
		[this.#added, this.#removed] = [[], []];
		this.#writing = this.#writing
			.then(async () => {
				const db = await this.#opener.open();
				await new Promise((resolve, reject) => {
					const tx = db.transaction(STORE, 'readwrite');
					const store = tx.objectStore(STORE);
					const gone = new Set(removed);
					for (const entry of added) if (!gone.has(entry.ref)) addCloneable(store, entry);
					for (const ref of removed) {
						const key = store.index('ref').getKey(ref);
						key.onsuccess = () => key.result !== undefined && store.delete(key.result);
					}
					tx.oncomplete = resolve;
					tx.onabort = () => reject(tx.error);
				});
			})
			.catch((error) => {
				// The events are still in the page's memory; only a crash would lose them now.
				try {
					console.warn(
						`kaiwa-bus: the relay outbox could not be written to IndexedDB: ${error?.name ?? 'Error'}: ${error?.message ?? error}`
					);
				} catch {
					// A console that throws changes nothing.
				}
			});
	}
}

// An entry IndexedDB cannot clone (a function in the payload) is not kept:
// the relay could not take it either (it travels as JSON).
function addCloneable(store, entry) {
	try {
		store.add(entry).onerror = (e) => e.preventDefault();
	} catch (error) {
		if (error?.name !== 'DataCloneError') throw error;
	}
}
