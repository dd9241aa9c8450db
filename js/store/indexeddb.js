// IndexedDbEventStore: the Event Store on IndexedDB, so that events survive
// a reload and every tab of an origin reads the same log.
//
// Layout: one database per store name, one object store `chunks`. Each
// append writes its events as chunks of up to CHUNK events, one IndexedDB
// record per chunk: { v, start, eids, events }. Writing 1,000 events as one
// record is some 30× faster than as 1,000 records in Chromium (each record
// is a round trip to the database), and a chunk is the unit of atomicity
// anyway. An event's `seq` is `key * CHUNK + start + i` (its chunk's key,
// its place in the chunk), so seqs keep the order of appends. A multiEntry
// unique index on `eids` keeps an event offered twice (by two tabs, or a
// retried batch) from being stored twice, and counts the stored events
// without reading them.
//
// What goes wrong with IndexedDB, and what this file does about it:
// - Opening it (no IndexedDB, an open that never answers or is blocked by
//   another tab, another tab's upgrade): opener.js, shared with the relay's
//   outbox; every call rejects with a StoreError of kind 'unavailable' or
//   'blocked', after `openTimeoutMs` at most, and the next call tries again.
//   A call that raced a connection's close (`versionchange`) is retried once.
// - A transaction is only kept alive by IndexedDB requests; awaiting anything
//   else inside it throws TransactionInactiveError. So every input is
//   prepared before a transaction starts, and a transaction's work is plain
//   request callbacks, never an `await`.
// - Storage full (QuotaExceededError, also Safari's private mode): the
//   transaction aborts whole (no torn batch) and the call rejects with a
//   StoreError of kind 'quota'.
// - Records this version cannot read (another version's, corrupted,
//   hand-edited) are skipped and counted (`skipped`), never handed on.

import { toPlain } from '../history/index.js';
import { DatabaseOpener } from './opener.js';
import { StoreError, compileFilter, isStoredEvent, readLimit, readRetention, toStoredEvent } from './stored-event.js';

const DB_VERSION = 1;
const CHUNKS = 'chunks';
/** The most events in one IndexedDB record. */
const CHUNK = 1000;

function storeError(error, what) {
	const name = error?.name ?? 'Error';
	const message = `${what} failed: ${name}${error?.message ? `: ${error.message}` : ''}`;
	if (name === 'QuotaExceededError') return new StoreError('quota', `${what} failed: storage is full (QuotaExceededError)`, error);
	if (name === 'InvalidStateError') return new StoreError('closed', message, error);
	return new StoreError('failed', message, error);
}

function createSchema(db) {
	if (db.objectStoreNames.contains(CHUNKS)) return;
	db.createObjectStore(CHUNKS, { autoIncrement: true }).createIndex('eids', 'eids', { unique: true, multiEntry: true });
}

const isChunk = (value) =>
	value !== null && typeof value === 'object' && value.v === 1 && Number.isInteger(value.start) && Array.isArray(value.events);
// A null in `events` is an event trim() dropped from the middle of a chunk.
const chunkOf = (events, start = 0) => ({ v: 1, start, eids: events.filter((e) => e !== null).map((e) => e.eid), events });

// The chunks of a batch, CHUNK events at most each.
function chunked(events) {
	const out = [];
	for (let i = 0; i < events.length; i += CHUNK) out.push(events.slice(i, i + CHUNK));
	return out;
}

/** An EventStore on IndexedDB (see EventStore in index.d.ts). */
export class IndexedDbEventStore {
	#opener;
	#retain;
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
		if (!Number.isFinite(openTimeoutMs) || openTimeoutMs <= 0)
			throw new RangeError('kaiwa-bus store: options.openTimeoutMs must be a number above 0');
		this.#retain = readRetention(retain);
		const fail = (kind, message, cause) => new StoreError(kind, message, cause);
		this.#opener = new DatabaseOpener({ indexedDB, name, version: DB_VERSION, upgrade: createSchema, timeoutMs: openTimeoutMs, fail });
	}

	/** What `trim()` keeps by default: `{ maxEvents, maxAgeMs }` (Infinity for no limit). */
	get retain() {
		return { ...this.#retain };
	}

	/**
	 * The kind of store, for `bus.persistence`.
	 * @returns {'indexeddb'}
	 */
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
		await this.#transaction('readwrite', (chunks) => {
			for (const part of chunked(batch)) addChunk(chunks, part, added);
		});
		return added.sort((x, y) => x.seq - y.seq);
	}

	/**
	 * Events matching the filter (see compileFilter in js/store/stored-event.js),
	 * oldest first; `{ newest: true, limit: n }` gives the newest n, still
	 * oldest first, reading only as far back as it needs.
	 */
	async read(filter = {}) {
		const keep = compileFilter(filter);
		const limit = readLimit(filter);
		const backwards = Boolean(filter.newest);
		// A seq names its chunk (seq = key * CHUNK + place): reading after
		// one starts at its chunk, so that replay's pages cost what they read.
		const { afterSeq } = filter;
		let from = !backwards && Number.isFinite(afterSeq) ? Math.max(0, Math.floor((afterSeq + 1) / CHUNK)) : 0;
		const out = [];
		await this.#transaction('readonly', (chunks) => {
			const request = chunks.openCursor(null, backwards ? 'prev' : 'next');
			request.onsuccess = () => {
				const cursor = request.result;
				if (!cursor) return;
				if (typeof cursor.primaryKey === 'number' && cursor.primaryKey < from) {
					const key = from;
					from = 0;
					return cursor.continue(key);
				}
				for (const event of this.#eventsOf(cursor.primaryKey, cursor.value, backwards)) {
					if (keep(event) && out.push(event) >= limit) return;
				}
				cursor.continue();
			};
		});
		return backwards ? out.reverse() : out;
	}

	/** How many events match the filter; with none, how many are stored (without reading them). */
	async count(filter) {
		if (filter !== undefined) return (await this.read({ ...filter, limit: undefined, newest: false })).length;
		let count = 0;
		await this.#transaction('readonly', (chunks) => {
			const request = chunks.index('eids').count();
			request.onsuccess = () => (count = request.result);
		});
		return count;
	}

	/**
	 * Drops what is past `retain` (this store's, or the one given): every
	 * event older than `maxAgeMs`, wherever it is (timestamps need not be in
	 * order: a clock that was ahead keeps nothing else), then the oldest
	 * beyond `maxEvents`. The age pass reads every chunk; the count pass
	 * stops at the first event it keeps. An event dropped from the middle of
	 * a chunk leaves a null in its place, so that the others keep their seq.
	 * One transaction. Resolves with how many it dropped.
	 */
	async trim(retain = this.#retain) {
		const { maxEvents, maxAgeMs } = readRetention(retain);
		const cutoff = Date.now() - maxAgeMs;
		let dropped = 0;
		await this.#transaction('readwrite', (chunks) => {
			// Rewrites each chunk from the oldest on without the events
			// `drop(event)` picks, until `done()`; then calls `then()`.
			const sweep = (drop, done, then) => {
				const request = chunks.openCursor();
				request.onsuccess = () => {
					const cursor = request.result;
					if (!cursor || done()) return then();
					// Another version's chunk is not this one's to drop.
					if (!isChunk(cursor.value)) return cursor.continue();
					const { events, start } = cursor.value;
					let n = 0;
					const kept = events.map((event) => (event !== null && drop(event) && ++n ? null : event));
					dropped += n;
					let lead = 0;
					while (lead < kept.length && kept[lead] === null) lead++;
					if (lead === kept.length) cursor.delete();
					else if (n > 0) cursor.update(chunkOf(kept.slice(lead), start + lead));
					cursor.continue();
				};
			};
			const byCount = () => {
				if (maxEvents === Infinity) return;
				const counted = chunks.index('eids').count();
				counted.onsuccess = () => {
					let excess = counted.result - maxEvents;
					if (excess > 0)
						sweep(
							() => excess-- > 0,
							() => excess <= 0,
							() => {}
						);
				};
			};
			const old = (event) => !(event?.timestamp instanceof Date && event.timestamp.getTime() >= cutoff);
			if (maxAgeMs === Infinity) byCount();
			else sweep(old, () => false, byCount);
		});
		return dropped;
	}

	/** Removes every stored event. */
	async clear() {
		await this.#transaction('readwrite', (chunks) => chunks.clear());
		this.#unreadable.clear();
	}

	// The readable events of a chunk, with their seq, in order or backwards;
	// what cannot be read is counted in `skipped`.
	*#eventsOf(key, chunk, backwards) {
		if (!isChunk(chunk)) {
			this.#unreadable.add(`${key}`);
			return;
		}
		const { events, start } = chunk;
		for (let j = 0; j < events.length; j++) {
			const i = backwards ? events.length - 1 - j : j;
			if (events[i] === null) continue; // dropped by trim()
			if (isStoredEvent(events[i])) yield { ...events[i], seq: key * CHUNK + start + i };
			else this.#unreadable.add(`${key}:${start + i}`);
		}
	}

	/** Closes the database; later calls reject with a StoreError of kind 'closed'. */
	close() {
		this.#closed = true;
		this.#opener.close();
	}

	#database() {
		if (this.#closed) return Promise.reject(new StoreError('closed', 'the store was closed'));
		return this.#opener.open();
	}

	// Runs `work(chunks)` (the object store) in one transaction; resolves when it commits.
	// A connection closed under us (versionchange) is reopened once.
	async #transaction(mode, work, retried = false) {
		const db = await this.#database();
		let tx;
		try {
			tx = db.transaction(CHUNKS, mode);
		} catch (error) {
			if (error?.name === 'InvalidStateError' && !retried && !this.#closed) {
				this.#opener.forget(db);
				return this.#transaction(mode, work, true);
			}
			throw storeError(error, `a ${mode} transaction`);
		}
		return new Promise((resolve, reject) => {
			tx.oncomplete = () => resolve();
			tx.onabort = () => reject(storeError(tx.error, `a ${mode} transaction`));
			try {
				work(tx.objectStore(CHUNKS));
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

// Adds one chunk; `added` gets its events, with their seq, once stored.
// If an eid of it is stored already (ConstraintError), the chunk is added
// again without the events that are, in the same transaction.
function addChunk(chunks, events, added) {
	const request = addCloneable(chunks, events);
	request.onsuccess = () => {
		const key = request.result;
		events.forEach((event, i) => added.push({ ...event, seq: key * CHUNK + i }));
	};
	request.onerror = (e) => {
		if (request.error?.name !== 'ConstraintError') return;
		e.preventDefault();
		e.stopPropagation();
		const stored = new Set();
		let answers = 0;
		for (const event of events) {
			const lookup = chunks.index('eids').getKey(event.eid);
			lookup.onsuccess = () => {
				if (lookup.result !== undefined) stored.add(event.eid);
				if (++answers < events.length) return;
				const fresh = events.filter((x) => !stored.has(x.eid));
				if (fresh.length > 0) addChunk(chunks, fresh, added);
			};
		}
	};
}

// Adds a chunk; an event whose payload the structured clone cannot copy (a
// function, a DOM node, a getter that throws...) is stored with the
// payload's JSON-safe copy (as the history export writes it) and the reason
// in `errors`, the rest as they are. If every payload can be copied, the
// failure was not theirs: it is thrown.
function addCloneable(chunks, events) {
	try {
		return chunks.add(chunkOf(events));
	} catch (error) {
		let copied = 0;
		for (const [i, event] of events.entries()) {
			try {
				structuredClone(event.payload);
			} catch (cause) {
				const note = `the payload could not be stored as it is (${cause?.name ?? 'Error'}: ${cause?.message ?? cause}), only its JSON-safe copy`;
				events[i] = { ...event, payload: toPlain(event.payload) ?? null, errors: [...event.errors, note] };
				copied++;
			}
		}
		if (copied === 0) throw error;
		return chunks.add(chunkOf(events));
	}
}
