// PersistentEventBus: the seed's `PersistentEventBus(memoryBus, eventStore)`.
// It wraps a bus and a store: every record the bus keeps is also stored, and
// after a reload the stored records come back in the history, marked
// `source: 'restored'`.
//
// Ordering (the `durability` option):
// - 'batched' (the default): `emit` dispatches at once, as the memory bus
//   does, and stays synchronous; the events of one task are written in one
//   transaction when the task ends (a task that emits more than
//   WRITE_EVERY events writes a transaction per WRITE_EVERY). `await
//   bus.flush()` resolves when they are durable. A tab that dies mid-task
//   loses that task's unwritten events, never part of a transaction.
// - 'store-first' (the seed's order): `emit` returns a promise; the event is
//   validated, stored, and only then dispatched, so no handler acts on an
//   event that could be lost. A store that fails rejects the emit with its
//   StoreError, and no handler runs. A refused event throws as on the bus
//   and is not stored.
//
// What is stored is what `emit` knows: the name, the payload, the time, and
// whether the bus refused it (with the reason). Handler counts, durations
// and handler failures stay in this session's history: reading them back
// from the bus for every event would cost more than the emit itself.
// Only events emitted through this wrapper are stored; events from another
// tab or the relay are stored where they were emitted.
//
// When storage fails (no IndexedDB, blocked, over quota, private mode), the
// bus warns once and goes on with a MemoryEventStore; `persistence` says so,
// with the reason. Nothing is thrown at the caller of a batched `emit`, and
// a write that fails even in memory is reported and never holds up the
// writes after it. `clearStored()` clears the store it fell back from too.

import { MemoryEventStore } from './memory.js';
import { StoreError } from './stored-event.js';
import { recorded } from '../core/errors.js';
import { notifyAll, passOn, report } from '../core/wrap.js';

const DURABILITY = ['batched', 'store-first'];
const TRIM_EVERY_MS = 30_000;
const WRITE_EVERY = 1000;
const TIME_EVERY = 32;

// The callback of the end of this task: a macrotask, so that every emit of
// the task (and the handlers' synchronous failures) is in the batch.
const afterTask =
	typeof MessageChannel === 'function'
		? (fn) => {
				const channel = new MessageChannel();
				channel.port1.onmessage = () => {
					channel.port1.close();
					fn();
				};
				channel.port2.postMessage(null);
			}
		: (fn) => setTimeout(fn, 0);
const whenIdle =
	typeof requestIdleCallback === 'function' ? (fn) => requestIdleCallback(fn, { timeout: 5000 }) : (fn) => setTimeout(fn, 1000);

// A queued event the bus refused without a record of it: not written.
const DROPPED = 'dropped';

function reasonOf(error) {
	if (error instanceof StoreError) return `${error.kind}: ${error.message.replace(/^kaiwa-bus store: /, '')}`;
	return `${error?.name ?? 'Error'}: ${error?.message ?? error}`;
}

function randomId() {
	return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** A stored event as a history record of this session's bus, marked restored. */
function restoredRecord(event, id) {
	return {
		id,
		name: event.name,
		payload: event.payload,
		timestamp: event.timestamp,
		status: event.status,
		handlerCount: event.handlerCount,
		durationMs: event.durationMs,
		errors: [...event.errors],
		issues: event.issues.map((issue) => ({ ...issue })),
		source: 'restored',
		offset: event.offset
	};
}

export class PersistentEventBus {
	#bus;
	#store;
	#durability;
	#session = randomId();
	#restored = [];
	#listeners = new Set();
	#flushing = Promise.resolve();
	#flushScheduled = false;
	#unwritten = [];
	#written = 0;
	#now = 0;
	#lastTrim = 0;
	#persistence;
	#warned = false;
	#left = null; // the store the bus fell back from: clearStored() clears it too

	/**
	 * @param {import('../core/bus.js').EventBus} bus the bus that dispatches
	 * @param {import('./index.js').EventStore & { open?(): Promise<void> }} store where records are kept
	 * @param {object} [options]
	 * @param {'batched'|'store-first'} [options.durability] see the file header; default 'batched'
	 * @param {number} [options.restore] how many stored records come back into the history; default the bus's historyLimit
	 */
	constructor(bus, store, { durability = 'batched', restore = bus?.historyLimit } = {}) {
		if (bus === null || typeof bus !== 'object' || typeof bus.onRecord !== 'function') {
			throw new TypeError('kaiwa-bus: new PersistentEventBus(bus, store): bus must be an EventBus');
		}
		if (store === null || typeof store !== 'object' || typeof store.append !== 'function' || typeof store.read !== 'function') {
			throw new TypeError(
				'kaiwa-bus: new PersistentEventBus(bus, store): store must be an EventStore (MemoryEventStore, IndexedDbEventStore, or one with the same methods)'
			);
		}
		if (!DURABILITY.includes(durability)) {
			throw new TypeError(`kaiwa-bus: options.durability must be 'batched' or 'store-first', got ${String(durability)}`);
		}
		if (!Number.isInteger(restore) || restore < 0) throw new RangeError('kaiwa-bus: options.restore must be a whole number from 0 up');
		this.#bus = bus;
		this.#store = store;
		this.#durability = durability;
		this.#persistence = { kind: store.kind ?? 'custom', reason: null };
		/** Resolves once the stored records are back in the history (or the store failed and the bus went on in memory). */
		this.ready = this.#restore(restore);
	}

	/** The wrapped bus. */
	get bus() {
		return this.#bus;
	}

	get durability() {
		return this.#durability;
	}

	/** What the store keeps (`{ maxEvents, maxAgeMs }`, Infinity for no limit), or null if the store does not say. */
	get retention() {
		return this.#store.retain ?? null;
	}

	/** `{ kind: 'indexeddb' | 'memory' | 'memory-fallback' | …, reason }`: where events go now, and why not IndexedDB if not. */
	get persistence() {
		return { ...this.#persistence };
	}

	/**
	 * 'batched': dispatches now (as EventBus.emit, throwing the same errors)
	 * and stores the record when the task ends. 'store-first': returns a
	 * promise that resolves once the event is stored and dispatched.
	 */
	emit(name, payload) {
		if (this.#durability !== 'batched') return this.#emitStoreFirst(name, payload);
		// The clock is read as the bus reads it (see "Timing"): at the first
		// emit of a batch, then one in TIME_EVERY.
		if (this.#unwritten.length % TIME_EVERY === 0) this.#now = Date.now();
		// Queued before dispatch, so that events emitted by its handlers come after it.
		const event = { name, payload, timestamp: this.#now, status: 'delivered', errors: undefined, issues: undefined, eid: undefined };
		if (this.#unwritten.push(event) >= WRITE_EVERY) this.#writePending();
		if (!this.#flushScheduled) {
			this.#flushScheduled = true;
			afterTask(() => {
				this.#flushScheduled = false;
				this.#writePending();
			});
		}
		try {
			this.#bus.emit(name, payload);
		} catch (error) {
			// A call refused before the bus made a record of it (a name that
			// is no string, a disposed bus) is not stored either.
			if (!recorded.has(error)) {
				event.status = DROPPED;
				throw error;
			}
			event.status = 'rejected';
			event.errors = [`${error?.name ?? 'Error'}: ${error?.message ?? error}`];
			event.issues = Array.isArray(error?.issues) ? error.issues : undefined;
			throw error;
		}
	}

	async #emitStoreFirst(name, payload) {
		const check = this.#bus.validate(name, payload);
		// A refused event is dispatched to nobody: let the bus throw its own
		// error and record the refusal.
		if (!check.ok) return this.#bus.emit(name, payload);
		await this.#append([{ name, payload, eid: `${this.#session}:first:${randomId()}` }], true);
		this.#bus.emit(name, payload);
	}

	/** Resolves when every record so far is stored (or the store failed and the bus went on in memory). */
	flush() {
		this.#writePending();
		return this.#flushing;
	}

	/** Every record: the restored ones, then this session's, oldest first. */
	getEventHistory() {
		return [...this.#restored, ...this.#bus.getEventHistory()];
	}

	getRecentEvents(limit = 50) {
		const all = this.getEventHistory();
		return limit === 0 ? [] : all.slice(-limit);
	}

	getEventFlow(userId) {
		return [...this.#restored.filter((r) => r.payload?.userId === userId), ...this.#bus.getEventFlow(userId)];
	}

	/** Stops showing the restored records and clears this session's history; the store keeps everything (see clearStored). */
	clearHistory() {
		this.#writePending();
		this.#restored = [];
		this.#bus.clearHistory();
	}

	clear() {
		this.#writePending();
		this.#restored = [];
		this.#bus.clear();
	}

	/** How many events the store holds, once the pending writes are in (null if the store cannot count). Reads only. */
	async storedCount() {
		await this.flush();
		return typeof this.#store.count === 'function' ? this.#store.count() : null;
	}

	/**
	 * Removes every stored record: after a fallback to memory, in the store
	 * it fell back from too, or rejects with a StoreError that says it could not.
	 */
	async clearStored() {
		await this.flush();
		await this.#store.clear();
		if (this.#left === null) return;
		try {
			await this.#left.open?.();
			await this.#left.clear();
		} catch (error) {
			throw new StoreError(
				'failed',
				`the events in memory were cleared, but not those stored before the fallback to memory, which will come back on the next load (${reasonOf(error)})`,
				error
			);
		}
	}

	/** As EventBus.onRecord; restored records are announced as 'added' when they arrive. */
	onRecord(listener) {
		const off = this.#bus.onRecord(listener);
		this.#listeners.add(listener);
		return () => {
			off();
			this.#listeners.delete(listener);
		};
	}

	/**
	 * The stored events matching `filter` (see StoreFilter), oldest first, as
	 * an async iterator, read a page at a time: for a feature that rebuilds its
	 * state from what happened before.
	 */
	async *replay(filter = {}) {
		await this.flush();
		let afterSeq = filter.afterSeq;
		for (;;) {
			const page = await this.#store.read({ ...filter, afterSeq, limit: 500, newest: false });
			yield* page;
			if (page.length < 500) return;
			afterSeq = page.at(-1).seq;
		}
	}

	async #restore(limit) {
		try {
			await this.#store.open?.();
			const stored = limit === 0 ? [] : await this.#store.read({ newest: true, limit });
			// Ids from -n to -1: before this session's, in order, never clashing.
			const restored = stored.map((event, i) => restoredRecord(event, i - stored.length));
			this.#restored = restored;
			for (const record of restored) this.#announce(record, 'added');
		} catch (error) {
			this.#fallBack(error);
			// Never opened and not there (no IndexedDB, or it never
			// answered): nothing clearStored() could reach either.
			if (error instanceof StoreError && error.kind === 'unavailable') this.#left = null;
		}
		this.#trimSoon();
	}

	// Hands the events emitted since the last write to the store, in one transaction.
	#writePending() {
		if (this.#unwritten.length === 0) return;
		const queued = this.#unwritten;
		this.#unwritten = [];
		this.#flushing = this.#flushing
			.then(() => {
				const batch = queued.filter((event) => event.status !== DROPPED);
				for (const event of batch) event.eid = `${this.#session}:${++this.#written}`;
				return batch.length === 0 ? undefined : this.#append(batch, false);
			})
			// Even memory refused it: said, and the next writes go on.
			.catch((error) => report('error', 'kaiwa-bus: events could not be stored, even in memory:', error));
	}

	// Stores a batch; on a store failure, falls back to memory and stores it
	// there. With `rethrow` (store-first), the failure is the caller's too.
	async #append(batch, rethrow) {
		try {
			await this.#store.append(batch);
		} catch (error) {
			this.#fallBack(error);
			if (rethrow) throw error;
			await this.#store.append(batch);
		}
		this.#trimSoon();
	}

	#fallBack(error) {
		if (this.#persistence.kind === 'memory-fallback') return;
		const reason = reasonOf(error);
		this.#persistence = { kind: 'memory-fallback', reason };
		this.#left = this.#store;
		this.#store = new MemoryEventStore();
		if (!this.#warned) {
			this.#warned = true;
			report('warn', `kaiwa-bus: events are kept in memory only, they will not survive a reload (${reason})`);
		}
	}

	// Retention runs in idle time, at most once every TRIM_EVERY_MS.
	#trimSoon() {
		const now = Date.now();
		if (now - this.#lastTrim < TRIM_EVERY_MS || typeof this.#store.trim !== 'function') return;
		this.#lastTrim = now;
		whenIdle(() => this.#store.trim().catch((error) => this.#fallBack(error)));
	}

	#announce(record, change) {
		notifyAll(this.#listeners, [record, change], 'an onRecord listener');
	}
}

passOn(PersistentEventBus);
