// EventBus: the JS face of the Rust core (src/core, via src/wasm).
//
// Rust owns names, subscriptions, schemas, validation, history and stats.
// This layer owns what must stay in JS: the handler functions (by
// subscription id), the history's payloads (by record id), the handler loop
// with its try/catch, promise tracking, and the payload reader. An emit
// with a schema crosses into wasm once (core.emit), with numbers only,
// however many handlers run; most emits without one do not cross at all
// (see #record). See docs/internals.md "How an emit runs".

import { BusCore } from '../kaiwa_bus.js';
import { EmitDepthError, describe, refusalError, shortMessage } from './errors.js';
import { MAX_HISTORY_LIMIT, quote, readOptions, readSchema, report, requireFunction, requireName } from './checks.js';
import { registerEvents } from './define.js';
import { attachTransport } from './link.js';
import { MAX_DEPTH } from './contract.js';
import { atomMap, planOf } from './probe.js';
import { DROPPED, Entry, EventMeta, LIVE, LOCAL, ONCE } from './dispatch.js';
import { Payloads, flowOf } from './payloads.js';
import { ProbeBuffer } from './probe-buffer.js';
import { memory } from './runtime.js';

/**
 * How deep emits may nest: inside handlers, onRecord listeners, payload
 * getters and Proxy traps alike (src/limits.rs MAX_DEPTH, via js/core/contract.js).
 */
export const MAX_EMIT_DEPTH = MAX_DEPTH;
// With timing: 'sampled', the first emit of each task is timed, then one in
// SAMPLE_EVERY while the task goes on emitting.
const SAMPLE_EVERY = 32;
// Emits queued before Rust records them (see #record), two integers each.
const QUEUE = 256;
// The plan of an event without a schema that Rust has warned about: its
// emits may be queued.
const QUIET = Object.freeze({});

const clock = globalThis.performance;
const timeOrigin = clock.timeOrigin;

// What a disposed bus's core answers to every call.
/** @type {any} */
const DISPOSED = new Proxy(
	{},
	{
		get() {
			return () => {
				throw new Error('kaiwa-bus: this EventBus was disposed; create a new one');
			};
		}
	}
);

/**
 * A typed, validated event bus. See README.md for the API table.
 */
export class EventBus {
	#rust; // the BusCore; read through #core, which records the queue first
	#names = new Map(); // event name -> interned id
	// The last name emitted and its id (-1: none), so that a run of emits
	// of one event skips the lookup. Forgotten whenever #names changes.
	#lastName = '';
	#lastId = -1;
	#nameOf = []; // id -> event name: Rust may give a forgotten name's id to a new one
	#plans = []; // id -> reader plan; null or QUIET when the event has no schema
	#atoms; // literal string -> atom id
	#entries = new Map(); // subscription id -> Entry
	#snapshots = []; // id -> Entry[], dropped whenever subscriptions change
	#payloads; // the history's payloads, by record id
	#listeners = new Set();
	#detachers = new Set(); // of the attached transports
	// What this bus lends the links of attached transports (js/core/link.js).
	#side = {
		receive: (name, payload, link, offset) => this.#nested(name, payload, link, offset),
		add: (pattern, handler, link) => this.#add('link.on', pattern, handler, false, link),
		drop: (entry) => this.#drop(entry),
		detachers: this.#detachers
	};
	#probes; // the probe buffer in wasm memory (js/core/probe-buffer.js)
	#time = Date.now(); // the wall clock at the last timed emit
	#sampleEvery; // 1: time every emit; N: one emit in N after a task's first
	#untimed = 0; // emits left before the next timed one
	#taskResetQueued = false;
	#depth = 0; // emits, validations and announcements running now, nested
	#queue = new Int32Array(QUEUE); // name id, handler count: emits Rust has not recorded yet
	#queued = 0; // its integers in use
	#next = 0; // the record id of the next emit, when known; 0 otherwise
	#taskReset = () => {
		this.#untimed = 0;
		this.#taskResetQueued = false;
	};

	constructor(options) {
		memory();
		const { strict, historyLimit, catalog, timing, events } = readOptions(options);
		this.#rust = new BusCore(strict, historyLimit, catalog);
		this.#probes = new ProbeBuffer(this.#rust);
		this.#rust.queued(0, 0, this.#time);
		this.#payloads = new Payloads(historyLimit);
		this.#sampleEvery = timing === 'every' ? 1 : SAMPLE_EVERY;
		this.#atoms = atomMap(this.#core.atoms());
		if (events === undefined) return;
		try {
			registerEvents(this, events);
		} catch (error) {
			this.dispose();
			throw error;
		}
	}

	// The core, once every queued emit is recorded: whatever is asked of
	// it sees every emit so far, in order.
	get #core() {
		if (this.#queued !== 0) this.#record();
		return this.#rust;
	}

	/** 'development' or 'strict'. */
	get mode() {
		return this.#core.strict ? 'strict' : 'development';
	}

	/** 'sampled' or 'every': which emits are timed. */
	get timing() {
		return this.#sampleEvery === 1 ? 'every' : 'sampled';
	}

	/** How many records the history keeps. */
	get historyLimit() {
		return this.#core.historyLimit;
	}

	// The id of a name, or -1 for a name strict mode refuses (Rust keeps
	// nothing for it).
	#intern(method, name) {
		requireName(method, name);
		const id = this.#core.intern(name);
		if (id >= 0) this.#remember(name, id);
		return id;
	}

	// Caches an id Rust gave `name`. When the name table is full, Rust gives
	// a new name the id of one nothing refers to any more (src/core/mod.rs
	// `intern`): what was cached for that name goes. The name is cached only
	// once its plan is, so a call cut short (a stack overflow) leaves
	// nothing half-registered.
	#remember(name, id) {
		this.#lastId = -1;
		const before = this.#nameOf[id];
		if (before !== undefined && before !== name) {
			this.#names.delete(before);
			this.#snapshots[id] = undefined;
		}
		this.#plans[id] = planOf(this.#core.plan(id));
		this.#nameOf[id] = name;
		this.#names.set(name, id);
	}

	/**
	 * Validates `payload` against the event's schema, records the event, and
	 * calls every matching handler as `handler(payload, meta)`.
	 */
	emit(name, payload) {
		this.#nested(name, payload, null, undefined);
	}

	// An emit of this page (link null), or an event a transport's link
	// handed in: then the record says where it came from, and the link's own
	// handlers are skipped, so a transport never gets its events back.
	// Everything an emit runs (getters, traps, handlers, listeners) is one
	// level deeper; restored, not decremented, whatever is thrown. So are
	// the probe buffer's slots in use, should a read be cut short (a stack
	// overflow: the readers catch everything else). One method: a call
	// between the bookkeeping and the emit costs every emit about 1 ns.
	#nested(name, payload, link, offset) {
		const depth = this.#depth;
		const probes = this.#probes;
		const top = probes.top;
		this.#depth = depth + 1;
		try {
			let id = this.#lastId;
			if (name !== this.#lastName || id < 0) {
				id = this.#names.get(name);
				if (id === undefined) {
					id = this.#intern('emit', name);
					if (id < 0) {
						this.#next = 0; // Rust records the refusal
						throw this.#refused(this.#core.refuseUnnamed(name, timeOrigin + clock.now(), depth), payload, link);
					}
				}
				this.#lastName = name;
				this.#lastId = id;
			}
			const plan = this.#plans[id];
			let word = 0;
			// Too deep: not read (a getter may be what recurses); Rust refuses.
			if (plan !== null && plan !== QUIET && depth < MAX_EMIT_DEPTH) {
				word = probes.read(plan, payload, this.#atoms);
				// A getter registered a new version of this schema while it was
				// read: the description fits the old one. Start over, a level deeper.
				if (this.#plans[id] !== plan) return this.#nested(name, payload, link, offset);
			}
			// Clock reads cost 40-130 ns each, more than a whole mitt emit: see
			// "Timing" in the README for when an emit is timed.
			const start = --this.#untimed < 0 ? this.#tick() : NaN;
			const entries = this.#snapshots[id] ?? this.#snapshot(id);
			const planned = entries.length;
			let record = this.#next;
			const queued = this.#queued;
			if (plan === QUIET && record !== 0 && queued !== QUEUE && depth < MAX_EMIT_DEPTH) {
				// Queued: Rust would accept it (see #record).
				const queue = this.#queue;
				queue[queued] = id;
				queue[queued + 1] = planned;
				this.#queued = queued + 2;
				this.#next = record + 1;
			} else {
				// Not through #core: a getter V8 may not inline.
				if (this.#queued !== 0) this.#record();
				const core = this.#rust;
				this.#next = 0; // unknown if the call records and throws (a refusal)
				record = core.emit(id, word, probes.from, depth, planned);
				if (record === 0) throw this.#refused(core.refuse(payload), payload, link);
				this.#next = Math.abs(record) + 1;
				// Accepted without a schema: Rust has warned (now, or before).
				if (plan === null) this.#plans[id] = QUIET;
				if (record < 0) {
					record = -record;
					report('warn', core.takeWarning());
				}
			}
			this.#payloads.keep(record, payload);
			if (link !== null) this.#core.setSource(record, link.source);
			let called = 0;
			if (planned !== 0) {
				const meta = new EventMeta(name, record, this.#time, link === null ? LOCAL : link.source, offset);
				for (let i = 0; i < planned; i++) {
					const entry = entries[i];
					if ((entry.state !== LIVE || link !== null) && this.#passes(entry, link)) continue;
					called++;
					try {
						const result = entry.fn(payload, meta);
						if (result != null && typeof result.then === 'function') this.#watch(result, name, record);
					} catch (error) {
						this.#failed(name, record, error);
					}
				}
			}
			// The record already says `planned` handlers and no duration. A
			// handler that disposed of the bus took the record with it.
			if ((called !== planned || start === start) && this.#rust !== DISPOSED)
				this.#core.finish(id, record, called, clock.now() - start);
			if (this.#listeners.size !== 0) this.#announce(record, 'added');
		} finally {
			this.#depth = depth;
			probes.top = top;
		}
	}

	// Records the queued emits. An emit is queued when Rust would only
	// record it: an event without a schema, warned about already (QUIET),
	// not too deep, its record id known (#next). Any call into Rust goes
	// through #core, which records the queue first, so every read, refusal
	// and record id sees the emits in order, as if each had crossed. Rust
	// reads the queue from the probe buffer, above any read in progress.
	#record() {
		const length = this.#queued;
		this.#rust.queued(this.#probes.write(this.#queue, length), length, this.#time);
		this.#queued = 0;
	}

	// Reads the clock for a timed emit: the time of this emit's record and
	// of the next untimed ones, and the start of its duration.
	#tick() {
		const start = clock.now();
		this.#time = timeOrigin + start;
		this.#record();
		this.#untimed = this.#sampleEvery - 1;
		if (!this.#taskResetQueued) {
			this.#taskResetQueued = true;
			queueMicrotask(this.#taskReset);
		}
		return start;
	}

	// The error a refused emit throws, once its record has its payload.
	#refused(refusal, payload, link) {
		this.#payloads.keep(refusal.record, payload);
		if (link !== null) this.#core.setSource(refusal.record, link.source);
		if (this.#listeners.size !== 0) this.#announce(refusal.record, 'added');
		return refusalError(refusal);
	}

	#snapshot(id) {
		const entries = [];
		for (const sub of this.#core.snapshot(id)) {
			// Missing if a subscribe was cut short between Rust and here.
			const entry = this.#entries.get(sub);
			if (entry !== undefined) entries.push(entry);
		}
		this.#snapshots[id] = entries;
		return entries;
	}

	// Reported, and added to the record while the bus lives: a handler may
	// dispose of the bus, or its promise reject after dispose().
	#failed(name, record, error) {
		report('error', `Event handler error for ${name}:`, error);
		if (this.#rust !== DISPOSED) this.#core.addError(record, shortMessage(error));
	}

	#watch(promise, name, record) {
		promise.then(undefined, (error) => {
			this.#failed(name, record, error);
			if (this.#listeners.size !== 0) this.#announce(record, 'updated');
		});
	}

	#subscribe(method, pattern, handler, once) {
		const entry = this.#add(method, pattern, handler, once, null);
		return () => this.#drop(entry);
	}

	#add(method, pattern, handler, once, link) {
		requireName(method, pattern);
		requireFunction(method, pattern, handler);
		const entry = new Entry(handler, once, link);
		entry.sub = this.#core.subscribe(pattern, once);
		this.#entries.set(entry.sub, entry);
		this.#snapshots = [];
		return entry;
	}

	// Whether the handler loop passes `entry` by: unsubscribed (during this
	// dispatch, too), or a handler of the link that handed the event in. A
	// `once` handler is dropped before its call.
	#passes(entry, link) {
		if (entry.state === DROPPED || (link !== null && entry.link === link)) return true;
		if (entry.state === ONCE) this.#drop(entry);
		return false;
	}

	#drop(entry) {
		if (entry.state === DROPPED) return;
		entry.state = DROPPED;
		this.#entries.delete(entry.sub);
		this.#core.unsubscribe(entry.sub);
		this.#snapshots = [];
	}

	/**
	 * Calls `handler(payload, meta)` for every event matching `pattern`: an
	 * event name, `'*'` for all events, or `'domain.*'`. Returns a function
	 * that unsubscribes (calling it twice is harmless).
	 */
	on(pattern, handler) {
		return this.#subscribe('on', pattern, handler, false);
	}

	/** Like `on`, for the next matching event only. */
	once(pattern, handler) {
		return this.#subscribe('once', pattern, handler, true);
	}

	/** Removes the oldest registration of `handler` on `pattern`, if any. */
	off(pattern, handler) {
		requireName('off', pattern);
		requireFunction('off', pattern, handler);
		for (const sub of this.#core.registrations(pattern)) {
			const entry = this.#entries.get(sub);
			if (entry !== undefined && entry.fn === handler) {
				this.#drop(entry);
				return;
			}
		}
	}

	/**
	 * Connects a transport or a store: `transport` is `{ source, attach(link) }`,
	 * where `source` names where the events it hands in come from ('tab',
	 * 'remote', 'restored'…). `attach` gets a link: `link.receive(name,
	 * payload, { offset })` hands the bus an event from elsewhere (validated
	 * again, recorded with its source, delivered to local handlers with
	 * `meta.source` and `meta.offset`; it throws what `emit` throws), and
	 * `link.on(pattern, handler)` subscribes without ever getting back the
	 * events this link handed in. `attach` may return a function to call on
	 * detach. Returns `detach()`, which also removes the link's handlers and
	 * makes `link.receive` throw. See docs/transports.md.
	 */
	attach(transport) {
		return attachTransport(this, transport, this.#side);
	}

	/** Removes every handler, the history and the statistics. Schemas stay. */
	clear() {
		this.#core.clear();
		this.#payloads.forget();
		for (const entry of this.#entries.values()) entry.state = DROPPED;
		this.#entries.clear();
		this.#snapshots = [];
		this.#announce(0, 'cleared');
	}

	/** Forgets the history and the statistics; handlers stay. */
	clearHistory() {
		this.#core.clearHistory();
		this.#payloads.forget();
		this.#announce(0, 'cleared');
	}

	/** Subscriptions to exactly `pattern` (wildcard subscribers are counted under their own pattern). */
	getHandlerCount(pattern) {
		requireName('getHandlerCount', pattern);
		return this.#core.registrations(pattern).length;
	}

	/** Every record kept, oldest first (a copy). */
	getEventHistory() {
		return this.#payloads.attach(this.#core.history(0, undefined));
	}

	/** The last `limit` records, oldest first. */
	getRecentEvents(limit = 50) {
		if (!Number.isInteger(limit) || limit < 0) {
			throw new RangeError(`kaiwa-bus: getRecentEvents(limit): limit must be a whole number from 0 up, got ${describe(limit)}`);
		}
		return limit === 0 ? [] : this.#payloads.attach(this.#core.history(Math.min(limit, MAX_HISTORY_LIMIT), undefined));
	}

	/** The records of one event, oldest first. */
	getEventsByName(name) {
		requireName('getEventsByName', name);
		return this.#payloads.attach(this.#core.history(0, name));
	}

	/** The records whose payload has this `userId`, oldest first. */
	getEventFlow(userId) {
		return flowOf(this.getEventHistory(), userId);
	}

	/** `{ count, averageDuration, minDuration, maxDuration }` in ms, or `null`. */
	getEventPerformanceStats(name) {
		requireName('getEventPerformanceStats', name);
		return this.#core.stats(name);
	}

	/** The statistics of every dispatched event, by name. */
	getPerformanceStats() {
		// Keyed by event names: no prototype, so '__proto__' is a name too.
		const out = Object.create(null);
		const all = this.#core.allStats(); // [name, stats, name, stats…]
		for (let i = 0; i < all.length; i += 2) out[all[i]] = all[i + 1];
		return out;
	}

	/**
	 * Follows the history live: `listener(record, 'added')` for each new
	 * record, `listener(record, 'updated')` when a promise rejects later, and
	 * `listener(null, 'cleared')` after `clear()` or `clearHistory()`.
	 * Returns a function that stops it.
	 */
	onRecord(listener) {
		requireFunction('onRecord', 'listener', listener, 'listener');
		this.#listeners.add(listener);
		return () => {
			this.#listeners.delete(listener);
		};
	}

	// Listeners count toward the depth limit like handlers: one that emits,
	// or clears, from inside its own announcement stops there, and deeper
	// records are not announced (they are still in the history).
	#announce(id, change) {
		if (this.#listeners.size === 0) return;
		const depth = this.#depth;
		if (depth > MAX_EMIT_DEPTH) return;
		const record = change === 'cleared' ? null : this.#core.record(id);
		if (record === undefined) return;
		if (record !== null) record.payload = this.#payloads.of(id);
		this.#depth = depth + 1;
		try {
			for (const listener of [...this.#listeners]) {
				try {
					listener(record, change);
				} catch (error) {
					report('error', 'kaiwa-bus: an onRecord listener failed:', error);
				}
			}
		} finally {
			this.#depth = depth;
		}
	}

	/**
	 * Registers a schema in the seed's `EventSchema` shape: `{ name, version,
	 * description, payload }`, with `payload` in descriptor notation
	 * (`'string'`, `'Date?'`, `"'a' | 'b'"`...), and optionally its
	 * `audience` through the relay ('user', the default, 'all' or 'group').
	 * Validation is compiled from the descriptors; a `validate` function, if
	 * present, is not used.
	 */
	registerSchema(schema) {
		const { name, version, description, audience, keys, types } = readSchema(schema);
		this.#core.registerSchema([name, version, description, audience], keys, types);
		this.#atoms = atomMap(this.#core.atoms());
		const id = this.#names.get(name);
		if (id !== undefined) this.#plans[id] = planOf(this.#core.plan(id));
	}

	/** `{ name, version, description, audience, payload }`, or `undefined`. */
	getSchema(name) {
		requireName('getSchema', name);
		return this.#core.schema(name);
	}

	/** The names of every registered schema, sorted. */
	getSchemaNames() {
		return this.#core.schemaNames().sort();
	}

	/**
	 * Checks a payload without emitting: `{ ok, known, issues }`. `known` is
	 * false for an event without a schema, which is `ok` in development mode
	 * and not in strict mode.
	 */
	validate(name, payload) {
		let id = this.#names.get(name);
		if (id === undefined) {
			requireName('validate', name);
			// A lookup keeps nothing for a name without a schema.
			id = this.#core.lookup(name);
			if (id >= 0) this.#remember(name, id);
		}
		const plan = id < 0 ? null : this.#plans[id];
		if (plan === null || plan === QUIET) return { ok: !this.#core.strict, known: false, issues: [] };
		const depth = this.#depth;
		if (depth >= MAX_EMIT_DEPTH) {
			throw new EmitDepthError(`kaiwa-bus: validate(${quote(name)}): calls nested more than ${MAX_EMIT_DEPTH} levels deep`, name);
		}
		const probes = this.#probes;
		const top = probes.top;
		this.#depth = depth + 1;
		try {
			const word = probes.read(plan, payload, this.#atoms);
			// As in #nested: a getter registered a new version of this schema.
			if (this.#plans[id] !== plan) return this.validate(name, payload);
			const issues = this.#core.validate(id, payload, word, probes.from);
			return { ok: issues.length === 0, known: true, issues };
		} finally {
			this.#depth = depth;
			probes.top = top;
		}
	}

	/**
	 * Detaches every transport, and releases everything the bus holds in
	 * wasm memory (history, payloads, names, schemas, subscriptions). Any
	 * later call throws. Idempotent.
	 */
	dispose() {
		const core = this.#rust;
		if (core === DISPOSED) return;
		for (const detach of [...this.#detachers]) detach();
		this.#rust = DISPOSED;
		this.#queued = 0;
		for (const entry of this.#entries.values()) entry.state = DROPPED;
		this.#entries.clear();
		this.#snapshots = [];
		this.#names.clear();
		this.#lastId = -1;
		this.#nameOf = [];
		this.#plans = [];
		this.#listeners.clear();
		this.#payloads.forget();
		this.#probes = new ProbeBuffer(DISPOSED);
		core.dispose();
		try {
			core.free();
		} catch {
			// A call cut short by a stack overflow left wasm-bindgen's borrow
			// count set: the object stays, its state is already dropped.
		}
	}

	/** The seed's `validateEvent`: `true` when `emit` would accept the payload. */
	validateEvent(name, payload) {
		const result = this.validate(name, payload);
		if (!result.known) report('warn', `No schema found for event: ${name}`);
		return result.ok;
	}
}
