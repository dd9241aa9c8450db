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
// can post anything on the channel) is dropped and counted in `refused`,
// as is an event this tab's bus refuses; neither breaks anything.

import { EventBus } from './bus.js';
import { passOn, report } from './wrap.js';

const MESSAGE_VERSION = 1;

function isEventMessage(data) {
	return (
		data !== null &&
		typeof data === 'object' &&
		data.v === MESSAGE_VERSION &&
		data.kind === 'event' &&
		typeof data.name === 'string' &&
		typeof data.from === 'string' &&
		Object.hasOwn(data, 'payload')
	);
}

export class BroadcastBus {
	#bus;
	#channel;
	#tab = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
	#refused = 0;
	#received = 0;

	/**
	 * @param {EventBus} bus the local bus
	 * @param {object} [options]
	 * @param {string} [options.channel] the BroadcastChannel name, default 'kaiwa-bus'
	 * @param {typeof BroadcastChannel} [options.BroadcastChannel] default the global one
	 */
	constructor(bus, { channel = 'kaiwa-bus', BroadcastChannel = globalThis.BroadcastChannel } = {}) {
		if (!(bus instanceof EventBus)) throw new TypeError('kaiwa-bus: new BroadcastBus(bus): bus must be an EventBus');
		if (typeof channel !== 'string' || channel === '') throw new TypeError('kaiwa-bus: options.channel must be a non-empty string');
		if (typeof BroadcastChannel !== 'function') throw new TypeError('kaiwa-bus: no BroadcastChannel here: a broadcast bus needs a browser (or Node 18+)');
		this.#bus = bus;
		this.#channel = new BroadcastChannel(channel);
		this.#channel.onmessage = (message) => this.#receive(message.data);
		this.#channel.onmessageerror = () => this.#refuse('a message that could not be deserialized');
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

	/** This tab's id on the channel. */
	get tab() {
		return this.#tab;
	}

	/** `{ received, refused }`: events taken from other tabs, and messages dropped. */
	get stats() {
		return { received: this.#received, refused: this.#refused };
	}

	/** Dispatches here (as EventBus.emit, throwing the same errors), then posts to the other tabs. */
	emit(name, payload) {
		this.#bus.emit(name, payload);
		try {
			this.#channel.postMessage({ v: MESSAGE_VERSION, kind: 'event', name, payload, from: this.#tab });
		} catch (error) {
			report('warn', `kaiwa-bus: ${name} was delivered in this tab but cannot be sent to the other tabs: ${error?.name ?? 'Error'}: ${error?.message ?? error}`);
		}
	}

	/** Stops sending and receiving. */
	close() {
		this.#channel.close();
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

	#receive(data) {
		if (!isEventMessage(data)) return this.#refuse('a message that is not a kaiwa-bus event');
		// A channel never delivers to the object that posted: this is forged.
		if (data.from === this.#tab) return this.#refuse('a message forged as coming from this tab');
		try {
			this.#bus.emit(data.name, data.payload);
			this.#received++;
		} catch (error) {
			this.#refuse(`${data.name} from another tab: ${error?.message ?? error}`);
		}
		return undefined;
	}

	#refuse(what) {
		this.#refused++;
		report('warn', `kaiwa-bus: refused ${what} on the broadcast channel`);
	}
}

passOn(BroadcastBus);

/** A BroadcastBus on a new EventBus: `{ channel = 'kaiwa-bus', ...busOptions }`. */
export function createBroadcastBus(options = {}) {
	const { channel, BroadcastChannel, ...busOptions } = options;
	return new BroadcastBus(new EventBus(busOptions), { channel, BroadcastChannel });
}
