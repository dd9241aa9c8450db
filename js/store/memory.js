// MemoryEventStore: an Event Store that keeps its events in this page only.

import { StoreError, compileFilter, readLimit, readRetention, toStoredEvent } from './stored-event.js';

/**
 * An EventStore that keeps its events in this page's memory: for tests, for
 * Node, and as the fallback when IndexedDB cannot be used. Bounded by
 * `retain.maxEvents` (default 100,000): the oldest go first.
 */
export class MemoryEventStore {
	#events = [];
	#seq = 0;
	#eids = new Set();
	#retain;
	#closed = false;

	/** @param {{ retain?: import('./index.js').Retention }} [options] */
	constructor({ retain = { maxEvents: 100_000 } } = {}) {
		this.#retain = readRetention(retain);
	}

	/** What `trim()` keeps by default: `{ maxEvents, maxAgeMs }` (Infinity for no limit). */
	get retain() {
		return { ...this.#retain };
	}

	/**
	 * The kind of store, for `bus.persistence`.
	 * @returns {'memory'}
	 */
	get kind() {
		return 'memory';
	}

	/** The seed's `storeEvent(name, payload)`. */
	async storeEvent(name, payload) {
		const [stored] = await this.append([{ name, payload }]);
		return stored;
	}

	/** Stores a batch, in order; an event whose `eid` is already stored is not stored again. Resolves with the events stored now. */
	async append(events) {
		this.#open();
		const batch = Array.from(events, toStoredEvent);
		const added = [];
		for (const event of batch) {
			if (this.#eids.has(event.eid)) continue;
			this.#eids.add(event.eid);
			const stored = { ...event, seq: ++this.#seq };
			this.#events.push(stored);
			added.push(stored);
		}
		this.#trimTo(this.#retain.maxEvents);
		return added;
	}

	/** Events matching the filter, oldest first; `{ newest: true, limit: n }` gives the newest n, still oldest first. */
	async read(filter = {}) {
		this.#open();
		const keep = compileFilter(filter);
		const limit = readLimit(filter);
		const matching = this.#events.filter(keep);
		return filter.newest ? matching.slice(-limit) : matching.slice(0, limit);
	}

	async count(filter) {
		this.#open();
		return filter === undefined ? this.#events.length : this.#events.filter(compileFilter(filter)).length;
	}

	/** Drops events past `retain` (this store's, or the one given). Resolves with how many it dropped. */
	async trim(retain = this.#retain) {
		this.#open();
		const { maxEvents, maxAgeMs } = readRetention(retain);
		const before = this.#events.length;
		if (maxAgeMs !== Infinity) {
			const cutoff = Date.now() - maxAgeMs;
			const young = (event) => event.timestamp.getTime() >= cutoff;
			for (const event of this.#events) if (!young(event)) this.#eids.delete(event.eid);
			this.#events = this.#events.filter(young);
		}
		this.#trimTo(maxEvents);
		return before - this.#events.length;
	}

	async clear() {
		this.#open();
		this.#events = [];
		this.#eids.clear();
	}

	close() {
		this.#closed = true;
	}

	#trimTo(maxEvents) {
		if (this.#events.length > maxEvents) this.#drop(this.#events.length - maxEvents);
	}

	#drop(count) {
		for (const event of this.#events.splice(0, count)) this.#eids.delete(event.eid);
	}

	#open() {
		if (this.#closed) throw new StoreError('closed', 'the store was closed');
	}
}
