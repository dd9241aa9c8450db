// BroadcastBus: `createEventBus('broadcast')`, events across the tabs of one
// origin. An event emitted in one tab is dispatched there at once (as on
// the memory bus) and posted on a BroadcastChannel; every other tab on that
// channel validates it again (another tab may run another version, or be
// hostile) and dispatches it to its own handlers. It is never posted back
// or passed on.
//
// The channel carries structured clones: Dates arrive as Dates, class
// instances as plain objects, and a payload with a function cannot be sent
// (DataCloneError). Such an event is still dispatched in its own tab; the
// other tabs do not get it, and a warning says why.
//
// A message that is not a kaiwa-bus event of this version (a hostile script
// can post anything on the channel) is dropped and counted in `stats.refused`
// (see js/relay/tab-link.js); an event this tab's bus refuses is dropped with a
// warning. Neither breaks anything.

import { EventBus } from '../core/bus.js';
import { takeBusOptions } from '../core/bus-options.js';
import { TabLink } from './tab-link.js';
import { passOn } from '../core/wrap.js';

export class BroadcastBus {
	#bus;
	#link;
	#in;
	#detach;

	/**
	 * @param {EventBus} bus the local bus
	 * @param {object} [options]
	 * @param {string} [options.channel] the BroadcastChannel name, default 'kaiwa-bus'
	 * @param {typeof BroadcastChannel} [options.BroadcastChannel] default the global one
	 */
	constructor(bus, { channel = 'kaiwa-bus', BroadcastChannel } = {}) {
		if (!(bus instanceof EventBus)) throw new TypeError('kaiwa-bus: new BroadcastBus(bus): bus must be an EventBus');
		if (typeof channel !== 'string' || channel === '') throw new TypeError('kaiwa-bus: options.channel must be a non-empty string');
		this.#bus = bus;
		// Events from other tabs enter through the bus's seam: validated again,
		// recorded and delivered with meta.source 'tab'.
		this.#detach = bus.attach({ source: 'tab', attach: (link) => void (this.#in = link) });
		this.#link = new TabLink(channel, { event: ({ name, payload }) => this.#in.receive(name, payload) }, { BroadcastChannel });
	}

	/** The local bus. */
	get bus() {
		return this.#bus;
	}

	/** This tab's id on the channel. */
	get tab() {
		return this.#link.tab;
	}

	/** `{ received, refused }`: events taken from other tabs, and messages dropped. */
	get stats() {
		return this.#link.stats;
	}

	/** Dispatches here (as EventBus.emit, throwing the same errors), then posts to the other tabs. */
	emit(name, payload) {
		this.#bus.emit(name, payload);
		this.#link.postEvent(name, payload);
	}

	/** Stops sending and receiving. */
	close() {
		this.#link.close();
		this.#detach();
	}
}

passOn(BroadcastBus);

/**
 * A BroadcastBus on a new EventBus: the bus options (js/core/bus-options.js), `channel` (default 'kaiwa-bus') and `BroadcastChannel`.
 * @param {import('./index.js').BroadcastOptions & import('../index.js').EventBusOptions & { events?: unknown, catalog?: boolean }} [options]
 */
export function createBroadcastBus(options) {
	const [bus, own] = takeBusOptions(options, 'createBroadcastBus', ['channel', 'BroadcastChannel']);
	return new BroadcastBus(bus, own);
}
