// TabLink: what the tabs of one origin say to each other over a
// BroadcastChannel, for BroadcastBus (events between tabs) and RelayBus
// (events between tabs, and one relay socket shared by all of them).
//
// Every message is `{ v: 1, kind, from, ... }`, `from` being the sending
// tab's id:
//   events    { events: [{ name, payload }] } what a tab emitted in one task, in order
//   join      {}                            a new tab: the leader answers with its status
//   leader    {}                            this tab holds the relay socket now
//   publish   { ref, name, payload }        for the leader to send to the relay
//   settled   { ref, offset } | { ref, error: { kind, message, issues } }
//   remote    { name, payload, offset }     an event from the relay (leader to all)
//   status    { status }                    the leader's socket status
//   gap       { gap }                       the leader's resume was not recovered
// A message of another shape, version or kind (a hostile script can post
// anything on the channel), one forged as coming from this tab, or one whose
// event the bus refuses (a handler throws), is refused: counted in
// `stats.refused`, warned about, and dropped.
//
// With `elect`, the tabs elect one leader with a Web Lock named after the
// channel: the tab holding it leads until it closes (the browser then
// releases the lock, and the next tab in line gets it).

import { report } from './wrap.js';

const VERSION = 1;
const FIELDS = {
	events: (m) => Array.isArray(m.events),
	join: () => true,
	leader: () => true,
	publish: (m) => typeof m.ref === 'string' && typeof m.name === 'string' && Object.hasOwn(m, 'payload'),
	settled: (m) => typeof m.ref === 'string' && (typeof m.offset === 'string' || (m.error !== null && typeof m.error === 'object' && typeof m.error.kind === 'string')),
	remote: (m) => typeof m.name === 'string' && typeof m.offset === 'string' && Object.hasOwn(m, 'payload'),
	status: (m) => m.status !== null && typeof m.status === 'object',
	gap: (m) => m.gap !== null && typeof m.gap === 'object'
};

function newId() {
	return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class TabLink {
	#channel;
	#handlers;
	#tab = newId();
	#refs = 0;
	#refused = 0;
	#received = 0;
	#outgoing = [];
	#publishes = [];
	#closed = false;
	#position = null;
	#resign = null;
	#abort = null;

	/** Whether tabs can share a socket here: Web Locks and BroadcastChannel. */
	static available() {
		return typeof globalThis.navigator?.locks?.request === 'function' && typeof globalThis.BroadcastChannel === 'function';
	}

	/**
	 * @param {string} channel the BroadcastChannel's name
	 * @param {object} handlers one function per message kind this side takes (see the header), and `lead(position)` with `elect`
	 * @param {object} [options]
	 * @param {boolean} [options.elect] take part in electing a leader
	 * @param {typeof BroadcastChannel} [options.BroadcastChannel]
	 */
	constructor(channel, handlers, { elect = false, BroadcastChannel = globalThis.BroadcastChannel } = {}) {
		if (typeof BroadcastChannel !== 'function') throw new TypeError('kaiwa-bus: no BroadcastChannel here: events between tabs need a browser (or Node 18+)');
		this.#handlers = handlers;
		this.#channel = new BroadcastChannel(channel);
		this.#channel.onmessage = (message) => this.#receive(message.data);
		this.#channel.onmessageerror = () => this.#refuse('a message that could not be deserialized');
		if (elect) {
			this.#post('join', {});
			this.#elect(`kaiwa-bus:${channel}`);
		}
	}

	/** This tab's id on the channel. */
	get tab() {
		return this.#tab;
	}

	/** `{ received, refused }`: events taken from other tabs, and messages dropped. */
	get stats() {
		return { received: this.#received, refused: this.#refused };
	}

	/** A publish ref no other tab uses. */
	newRef() {
		return `${this.#tab}-${++this.#refs}`;
	}

	/** The last position the tabs reached: `{ epoch, offset }`, or null. */
	get position() {
		return this.#position;
	}

	/** Remembers the leader's socket status as the position to resume from. */
	setPosition({ epoch, offset }) {
		if (epoch && offset) this.#position = { epoch, offset };
	}

	/**
	 * Posts an event this tab emitted. The events of one task go in one
	 * message (a post costs some 20 µs, more than a hundred emits), at the end
	 * of the task's synchronous part; a payload that cannot be cloned is
	 * reported, not thrown, and the others go on.
	 */
	postEvent(name, payload) {
		if (this.#outgoing.push({ name, payload }) === 1) queueMicrotask(() => this.#postEvents());
	}

	#postEvents() {
		const events = this.#outgoing;
		this.#outgoing = [];
		try {
			this.#post('events', { events });
		} catch {
			// One of them cannot be cloned: post them one by one to tell which.
			for (const event of events) {
				try {
					this.#post('events', { events: [event] });
				} catch (error) {
					report('warn', `kaiwa-bus: ${event.name} was delivered in this tab but cannot be sent to the other tabs: ${error?.name ?? 'Error'}: ${error?.message ?? error}`);
				}
			}
		}
	}

	/**
	 * Asks the leader to publish, at the end of the task's synchronous part
	 * (still one message per publish, in order); `failed(error)` is called
	 * for a payload that cannot be cloned.
	 */
	postPublish(ref, name, payload, failed) {
		if (this.#publishes.push({ ref, name, payload, failed }) === 1) queueMicrotask(() => this.#postPublishes());
	}

	#postPublishes() {
		const publishes = this.#publishes;
		this.#publishes = [];
		if (this.#closed) return;
		for (const { ref, name, payload, failed } of publishes) {
			try {
				this.#post('publish', { ref, name, payload });
			} catch (error) {
				failed(error);
			}
		}
	}

	postSettled(settled) {
		this.#post('settled', settled);
	}

	postRemote({ name, payload, offset }) {
		this.#post('remote', { name, payload, offset });
	}

	postStatus(status) {
		this.#post('status', { status });
	}

	postGap(gap) {
		this.#post('gap', { gap });
	}

	/** Leaves the channel and, if this tab leads, hands the lead on. */
	close() {
		this.#closed = true;
		this.#abort?.abort();
		this.#resign?.();
		this.#channel.close();
	}

	#post(kind, fields) {
		this.#channel.postMessage({ v: VERSION, kind, from: this.#tab, ...fields });
	}

	#elect(lock) {
		this.#abort = new AbortController();
		globalThis.navigator.locks
			.request(lock, { signal: this.#abort.signal }, () => {
				this.#post('leader', {});
				this.#handlers.lead(this.#position);
				// Held until close(), or until the browser closes the tab.
				return new Promise((resolve) => (this.#resign = resolve));
			})
			.catch(() => {
				// Aborted by close() before this tab was elected.
			});
	}

	#receive(data) {
		const check = data !== null && typeof data === 'object' && data.v === VERSION && typeof data.from === 'string' ? FIELDS[data.kind] : undefined;
		if (!check || !check(data)) return this.#refuse('a message that is not a kaiwa-bus message of this version');
		// A channel never delivers to the object that posted: this is forged.
		if (data.from === this.#tab) return this.#refuse('a message forged as coming from this tab');
		if (data.kind === 'remote') this.#position = { epoch: this.#position?.epoch ?? null, offset: data.offset };
		if (data.kind === 'status') this.setPosition(data.status);
		if (data.kind === 'events') return this.#receiveEvents(data.events);
		const handler = this.#handlers[data.kind];
		if (!handler) return undefined;
		try {
			handler(data);
		} catch (error) {
			// The bus refused what the message carried.
			return this.#refuse(`${data.name ?? `a ${data.kind} message`} from another tab (${error?.message ?? error})`);
		}
		return undefined;
	}

	#receiveEvents(events) {
		for (const event of events) {
			if (event === null || typeof event !== 'object' || typeof event.name !== 'string' || !Object.hasOwn(event, 'payload')) {
				this.#refuse('an event that is not { name, payload }');
				continue;
			}
			try {
				this.#handlers.event?.(event);
				this.#received++;
			} catch (error) {
				// The bus refused it.
				this.#refuse(`${event.name} from another tab (${error?.message ?? error})`);
			}
		}
	}

	#refuse(what) {
		this.#refused++;
		report('warn', `kaiwa-bus: refused ${what} on the tabs' channel`);
	}
}
