// TabLink: what the tabs of one origin say to each other over a
// BroadcastChannel, for BroadcastBus (events between tabs) and RelayBus
// (events between tabs, and one relay socket shared by all of them).
//
// Every message is `{ v: 1, kind, from, ... }`, `from` being the sending
// tab's id:
//   events    { events: [{ name, payload }] } what a tab emitted in one task, in order
//   join      {}                            a new tab: the leader answers with its status
//   leader    {}                            this tab holds the relay socket now
//   resent    {}                            to a new leader: this tab has posted again
//                                           the publishes it had in flight
//   publish   { ref, name, payload }        for the leader to send to the relay
//   settled   { ref, offset } | { ref, error: { kind, message, issues } }
//   remote    { name, payload, offset }     an event from the relay (leader to all)
//   status    { status, seen? }             the leader's socket status; to a new
//                                           tab, also the offsets it has seen
//   gap       { gap }                       the leader's resume was not recovered
// A message of another shape, version or kind (a hostile script can post
// anything on the channel), one forged as coming from this tab, or one whose
// event the bus refuses (a handler throws), is refused: counted in
// `stats.refused`, warned about, and dropped.
//
// With `elect`, the tabs elect one leader with a Web Lock named after the
// channel: the tab holding it leads until it closes (the browser then
// releases the lock, and the next tab in line gets it). Each tab also holds
// a lock named after its id while it lives. Only the leader may say
// `leader`, `remote`, `status`, `settled` and `gap`: the first such message
// from a tab is held while the locks are asked who holds them (the leader's
// lock and that tab's lock must be held by the same page), and refused if
// that tab does not lead. So another tab's script cannot inject relay events,
// settle another tab's publishes or move the position the next leader
// resumes from, unless it impersonates the leader tab by its id (a script of
// the same origin that reads the channel can; the events it sends are still
// validated by each bus).

import { report } from '../core/wrap.js';
import { sequencedRef } from './producer.js';

const VERSION = 1;
// Messages only the leader sends.
const FROM_LEADER = new Set(['leader', 'remote', 'status', 'settled', 'gap']);
// Messages held at most per tab while its claim to lead is checked, and
// claims checked at once.
const MAX_HELD = 10_000;
const MAX_CLAIMS = 16;
const FIELDS = {
	events: (m) => Array.isArray(m.events),
	join: () => true,
	leader: () => true,
	resent: () => true,
	publish: (m) => typeof m.ref === 'string' && typeof m.name === 'string' && Object.hasOwn(m, 'payload'),
	settled: (m) =>
		typeof m.ref === 'string' &&
		(typeof m.offset === 'string' || (m.error !== null && typeof m.error === 'object' && typeof m.error.kind === 'string')),
	remote: (m) => typeof m.name === 'string' && typeof m.offset === 'string' && Object.hasOwn(m, 'payload'),
	status: (m) =>
		m.status !== null &&
		typeof m.status === 'object' &&
		(m.seen === undefined || (Array.isArray(m.seen) && m.seen.every((o) => typeof o === 'string'))),
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
	#closed = false;
	#position = null;
	#lock = null;
	#leads = false;
	#leader = null; // the leading tab's id, once checked
	#checking = new Map(); // tab id -> its messages, while its claim to lead is checked
	#resign = null;
	#leave = null;
	#abort = null;

	/** Whether tabs can share a socket here: Web Locks and BroadcastChannel. */
	static available() {
		const locks = globalThis.navigator?.locks;
		return (
			typeof locks?.request === 'function' && typeof locks.query === 'function' && typeof globalThis.BroadcastChannel === 'function'
		);
	}

	/**
	 * @param {string} channel the BroadcastChannel's name
	 * @param {object} handlers one function per message kind this side takes (see the header), and `lead(position)` with `elect`
	 * @param {object} [options]
	 * @param {boolean} [options.elect] take part in electing a leader
	 * @param {typeof BroadcastChannel} [options.BroadcastChannel]
	 */
	constructor(channel, handlers, { elect = false, BroadcastChannel = globalThis.BroadcastChannel } = {}) {
		if (typeof BroadcastChannel !== 'function')
			throw new TypeError('kaiwa-bus: no BroadcastChannel here: events between tabs need a browser (or Node 18+)');
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

	/** A publish ref no other tab uses, numbered in publish order (see producer.js). */
	newRef() {
		return sequencedRef(this.#tab, ++this.#refs);
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
					report(
						'warn',
						`kaiwa-bus: ${event.name} was delivered in this tab but cannot be sent to the other tabs: ${error?.name ?? 'Error'}: ${error?.message ?? error}`
					);
				}
			}
		}
	}

	/** Asks the leader to publish; throws (DataCloneError) for a payload that cannot be cloned. */
	postPublish(ref, name, payload) {
		if (!this.#closed) this.#post('publish', { ref, name, payload });
	}

	postSettled(settled) {
		this.#post('settled', settled);
	}

	postRemote({ name, payload, offset }) {
		this.#post('remote', { name, payload, offset });
	}

	/** The leader's status; `seen` (to a tab that joins): the offsets it should not be handed again. */
	postStatus(status, seen) {
		this.#post('status', seen ? { status, seen } : { status });
	}

	postResent() {
		if (!this.#closed) this.#post('resent', {});
	}

	/** The ids of the other tabs on this channel now (from their locks). */
	async peers() {
		const { held = [] } = await globalThis.navigator.locks.query();
		const prefix = `${this.#lock}|tab:`;
		return held
			.filter((lock) => lock.name?.startsWith(prefix))
			.map((lock) => lock.name.slice(prefix.length))
			.filter((tab) => tab !== this.#tab);
	}

	postGap(gap) {
		this.#post('gap', { gap });
	}

	/** Leaves the channel and, if this tab leads, hands the lead on. */
	close() {
		this.#closed = true;
		this.#abort?.abort();
		this.#resign?.();
		this.#leave?.();
		this.#channel.close();
	}

	#post(kind, fields) {
		this.#channel.postMessage({ v: VERSION, kind, from: this.#tab, ...fields });
	}

	// This tab's lock first (the other tabs check a leader by it), then in
	// line for the leader's. Both are held until close(), or until the
	// browser closes the tab.
	#elect(lock) {
		this.#lock = lock;
		this.#abort = new AbortController();
		const { locks } = globalThis.navigator;
		const { signal } = this.#abort;
		const lead = () => {
			this.#leads = true;
			this.#leader = this.#tab;
			this.#post('leader', {});
			this.#handlers.lead(this.#position);
			return new Promise((resolve) => (this.#resign = resolve));
		};
		const live = () => {
			locks.request(lock, { signal }, lead).catch(() => {});
			return new Promise((resolve) => (this.#leave = resolve));
		};
		// Rejected when close() aborts them before they are granted.
		locks.request(`${lock}|tab:${this.#tab}`, { signal }, live).catch(() => {});
	}

	// Whether `tab` leads: the page that holds the leader's lock holds that tab's lock.
	async #isLeader(tab) {
		const { held = [] } = await globalThis.navigator.locks.query();
		const holder = (name) => held.find((lock) => lock.name === name);
		const [leader, claimant] = [holder(this.#lock), holder(`${this.#lock}|tab:${tab}`)];
		if (!leader || !claimant) return false;
		// A browser that does not say which page holds a lock: that tab is at least alive.
		return leader.clientId === undefined || leader.clientId === claimant.clientId;
	}

	// A message only the leader sends: handled if it comes from the leader,
	// held while a new claimant is checked, refused otherwise.
	#fromLeader(data) {
		if (this.#lock === null) return undefined; // not electing: not for this link
		if (this.#leads) return this.#refuse(`a ${data.kind} message from another tab, while this tab holds the relay socket`);
		if (data.from === this.#leader) return this.#handle(data);
		const waiting = this.#checking.get(data.from);
		if (waiting) {
			if (waiting.length < MAX_HELD) waiting.push(data);
			else this.#refuse(`a ${data.kind} message from a tab whose claim to lead is being checked (too many)`);
			return undefined;
		}
		if (this.#checking.size >= MAX_CLAIMS) return this.#refuse(`a ${data.kind} message from one tab too many claiming to lead`);
		this.#checking.set(data.from, [data]);
		this.#isLeader(data.from)
			.catch(() => false)
			.then((leads) => {
				const messages = this.#checking.get(data.from) ?? [];
				this.#checking.delete(data.from);
				if (this.#closed) return;
				if (!leads) {
					for (const m of messages) this.#refuse(`a ${m.kind} message from a tab that does not hold the relay socket`);
					return;
				}
				this.#leader = data.from;
				for (const m of messages) this.#handle(m);
			});
		return undefined;
	}

	#receive(data) {
		const check =
			data !== null && typeof data === 'object' && data.v === VERSION && typeof data.from === 'string'
				? FIELDS[data.kind]
				: undefined;
		if (!check || !check(data)) return this.#refuse('a message that is not a kaiwa-bus message of this version');
		// A channel never delivers to the object that posted: this is forged.
		if (data.from === this.#tab) return this.#refuse('a message forged as coming from this tab');
		if (data.kind === 'events') return this.#receiveEvents(data.events);
		if (FROM_LEADER.has(data.kind)) return this.#fromLeader(data);
		return this.#handle(data);
	}

	#handle(data) {
		if (data.kind === 'remote') this.#position = { epoch: this.#position?.epoch ?? null, offset: data.offset };
		if (data.kind === 'status') this.setPosition(data.status);
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
