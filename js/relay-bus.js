// RelayBus: the seed's `EventBusFactory.create('redis')`, a bus whose events
// also travel through kaiwa-relay (relay/) to the user's other devices and to
// servers, and whose handlers get the events published elsewhere.
//
// - `emit` validates and dispatches locally at once, exactly as EventBus
//   does (and throws as it does), then hands the event to the connection's
//   outbox. It returns a promise of `{ offset }` that resolves once the relay
//   has stored the event and rejects with the relay's refusal (a
//   ValidationError with the relay's issues, or a RelayError whose `kind`
//   is 'forbidden', 'rate', …). Ignoring the promise is fine: a refusal is
//   reported in the console, never as an unhandled rejection.
// - An event from elsewhere is validated again by this bus and dispatched to
//   the local handlers; its Date fields (by the event's schema) arrive as
//   Dates, as they would locally. It is never sent back.
// - `connection` says where the socket stands; `onConnection` follows it.

import { EventBus } from './bus.js';
import { ValidationError } from './errors.js';
import { RelayConnection, RelayError } from './relay-connection.js';
import { passOn, report } from './wrap.js';

// The payload's fields a schema types `Date` (or `Date?`), by event name.
function dateFields(bus, name, cache) {
	let fields = cache.get(name);
	if (fields === undefined) {
		const schema = bus.getSchema(name);
		fields = schema ? Object.keys(schema.payload).filter((key) => /^Date\??$/.test(schema.payload[key])) : [];
		cache.set(name, fields);
	}
	return fields;
}

/** The payload with its schema's Date fields turned back from ISO strings into Dates. */
export function reviveDates(bus, name, payload, cache = new Map()) {
	if (payload === null || typeof payload !== 'object') return payload;
	for (const key of dateFields(bus, name, cache)) {
		const value = payload[key];
		if (typeof value === 'string') {
			const date = new Date(value);
			if (!Number.isNaN(date.getTime())) payload[key] = date;
		}
	}
	return payload;
}

export class RelayBus {
	#bus;
	#connection;
	#listeners = new Set();
	#dates = new Map();
	#gaps = [];

	/**
	 * @param {EventBus} bus the local bus
	 * @param {object} options see RelayConnection: url, token | getToken, subscribe, WebSocket
	 */
	constructor(bus, options) {
		if (!(bus instanceof EventBus)) throw new TypeError('kaiwa-bus: new RelayBus(bus, options): bus must be an EventBus');
		this.#bus = bus;
		this.#connection = new RelayConnection({
			...options,
			onEvent: (event) => this.#deliver(event),
			onGap: (gap) => this.#gap(gap),
			onChange: () => this.#changed()
		});
	}

	/** The local bus. */
	get bus() {
		return this.#bus;
	}

	get mode() {
		return this.#bus.mode;
	}

	get historyLimit() {
		return this.#bus.historyLimit;
	}

	/** `{ state: 'connecting' | 'open' | 'closed', epoch, offset, outbox, error }`. */
	get connection() {
		return this.#connection.status;
	}

	/** The gaps so far: `{ epoch, offset, lostAfter, at }` each time a resume could not be honoured. */
	get gaps() {
		return [...this.#gaps];
	}

	/** Follows `connection`: `listener(connection, gap?)`. Returns a function that stops it. */
	onConnection(listener) {
		if (typeof listener !== 'function') throw new TypeError('kaiwa-bus: onConnection(listener): the listener must be a function');
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	/**
	 * Dispatches locally now (as EventBus.emit, throwing the same errors), then
	 * sends the event to the relay. Resolves with `{ offset }` once stored.
	 */
	emit(name, payload) {
		this.#bus.emit(name, payload);
		const sent = this.#connection.publish(name, payload).catch((error) => {
			const refusal = error.kind === 'validation' ? new ValidationError(`kaiwa-bus: the relay refused ${error.message}`, name, error.issues) : error;
			report('warn', `kaiwa-bus: the relay refused ${name} (${error.kind}): ${error.message}`);
			throw refusal;
		});
		sent.catch(() => {}); // Reported above; the caller may still await it.
		return sent;
	}

	/** Closes the connection; events not yet acknowledged reject with kind 'closed'. */
	close() {
		this.#connection.close();
	}

	getEventHistory() {
		return this.#bus.getEventHistory();
	}

	getRecentEvents(limit) {
		return this.#bus.getRecentEvents(limit);
	}

	getEventFlow(userId) {
		return this.#bus.getEventFlow(userId);
	}

	clear() {
		this.#bus.clear();
	}

	clearHistory() {
		this.#bus.clearHistory();
	}

	onRecord(listener) {
		return this.#bus.onRecord(listener);
	}

	// An event from the relay: validated again and dispatched by the local bus,
	// never sent back (it does not go through this.emit).
	#deliver({ name, payload }) {
		try {
			this.#bus.emit(name, reviveDates(this.#bus, name, payload, this.#dates));
		} catch (error) {
			report('warn', `kaiwa-bus: an event from the relay was refused here: ${error?.message ?? error}`);
		}
	}

	#gap(gap) {
		const entry = { ...gap, at: new Date() };
		this.#gaps.push(entry);
		if (this.#gaps.length > 100) this.#gaps.shift();
		report('warn', `kaiwa-bus: the relay no longer has the events after ${gap.lostAfter}: some were missed (a gap); state shown may be stale`);
		this.#notify(entry);
	}

	#changed() {
		this.#notify(undefined);
	}

	#notify(gap) {
		const status = this.#connection.status;
		for (const listener of [...this.#listeners]) {
			try {
				listener(status, gap);
			} catch (error) {
				report('error', 'kaiwa-bus: an onConnection listener failed:', error);
			}
		}
	}
}

passOn(RelayBus);

/**
 * A bus connected to kaiwa-relay: `{ url, token | getToken, subscribe =
 * ['*'], WebSocket, ...busOptions }`.
 */
export function createRelayBus(options = {}) {
	const { url, token, getToken, subscribe, WebSocket, ...busOptions } = options;
	return new RelayBus(new EventBus(busOptions), { url, token, getToken, subscribe, WebSocket });
}

export { RelayError };
