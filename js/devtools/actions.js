// What the panel does to a bus rather than shows: it emits and replays as a
// transport of its own (bus.attach, docs/transports.md), so its events are
// recorded and delivered with a source of their own:
//   'devtools'  an emit from the Emit view: through the bus the panel is
//               mounted on, so a relay bus publishes it (and its refusal
//               comes back), a persistent bus stores it;
//   'replay'    a record replayed: handed to the local bus only
//               (link.receive), never published nor stored, unless "also
//               publish" asks for the mounted bus's own emit.
// A wrapper's emit (RelayBus, PersistentEventBus, BroadcastBus) calls the
// EventBus's it wraps: for the panel's own emit, that one call is handed in
// through the link instead (link.receive: the same validation, record and
// delivery, with the link's source), so the core's emit path is untouched.
// The links are attached on first use and detached when the panel leaves
// the bus.

import { reviveDates } from '../history/index.js';
import { messageOf } from '../core/errors.js';

/** The EventBus under any wrappers (a wrapper's `bus` is the bus it wraps). */
export function innermost(bus) {
	let inner = bus;
	while (inner.bus !== null && typeof inner.bus === 'object' && typeof inner.bus.attach === 'function') inner = inner.bus;
	return inner;
}

/** Whether `bus` was disposed: its `disposed` flag, or a read refused for that reason. */
export function isDisposed(bus) {
	if (typeof bus.disposed === 'boolean') return bus.disposed;
	try {
		bus.getSchemaNames();
		return false;
	} catch (error) {
		return /disposed/.test(messageOf(error));
	}
}

/** A copy of `payload` with its schema's Date fields as Dates (for a payload that went through JSON). */
export function revived(bus, name, payload) {
	if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || !bus) return payload;
	try {
		return reviveDates(bus, name, { ...payload });
	} catch {
		return payload; // a bus that cannot say (disposed): as it is
	}
}

export class PanelLinks {
	#bus = null; // the bus the panel is mounted on
	#inner = null; // the EventBus under it
	#links = null; // { devtools, replay } once attached
	#detach = [];

	/** Follows `bus` (null: none); the links on the old one are detached. */
	use(bus) {
		if (bus === this.#bus) return;
		this.stop();
		this.#bus = bus;
		this.#inner = bus && innermost(bus);
	}

	/** Whether the bus can take the panel's events (an EventBus, or a wrapper of one). */
	get usable() {
		return this.#inner !== null && typeof this.#inner.attach === 'function';
	}

	/** Whether the mounted bus wraps another: then publishing is more than a local emit. */
	get wraps() {
		return this.usable && this.#inner !== this.#bus;
	}

	stop() {
		for (const detach of this.#detach) detach();
		this.#detach = [];
		this.#links = null;
	}

	#linksOf() {
		if (!this.usable) throw new Error('this bus takes no events from the panel (it has no attach())');
		if (this.#links === null) {
			const links = {};
			for (const source of ['devtools', 'replay']) {
				this.#detach.push(this.#inner.attach({ source, attach: (link) => void (links[source] = link) }));
			}
			this.#links = links;
		}
		return this.#links;
	}

	/**
	 * Emits through the mounted bus as the panel ('devtools'). Returns
	 * `{ record, error, sent }`: the record the bus kept (or null), what the
	 * emit threw (a refusal, recorded all the same), and what it returned (a
	 * relay bus's promise of the relay's answer).
	 */
	emit(name, payload) {
		return this.#through(this.#linksOf().devtools, name, payload);
	}

	/** Replays one event ('replay'): to the local bus only, or through the mounted bus with `publish`. Returns as emit(). */
	replay(name, payload, publish) {
		const link = this.#linksOf().replay;
		if (publish) return this.#through(link, name, payload);
		return this.#watch(link, () => link.receive(name, payload));
	}

	#through(link, name, payload) {
		const inner = this.#inner;
		const emit = Object.getPrototypeOf(inner).emit;
		// Until the wrapper has called the inner bus's emit with exactly this
		// name and payload (a store-first bus does it once its write is done).
		const shadow = (n, p) => {
			if (n !== name || p !== payload) return emit.call(inner, n, p);
			release();
			return link.receive(n, p);
		};
		const release = () => {
			if (inner.emit === shadow) delete inner.emit;
		};
		inner.emit = shadow;
		/** @type {any} */
		let sent;
		const result = this.#watch(link, () => (sent = this.#bus.emit(name, payload)));
		if (sent && typeof sent.then === 'function') sent.then(release, release);
		else release();
		return { ...result, sent };
	}

	// Runs an emit and catches the record it made: the first one added with
	// the link's source (a handler's own emits are the app's).
	#watch(link, emit) {
		let record = null;
		let error = null;
		const off = this.#inner.onRecord((r, change) => {
			if (record === null && change === 'added' && r?.source === link.source) record = r;
		});
		try {
			emit();
		} catch (thrown) {
			error = thrown ?? new Error(String(thrown));
		} finally {
			off();
		}
		return { record, error };
	}
}
