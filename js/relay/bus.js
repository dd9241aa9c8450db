// RelayBus: the seed's `EventBusFactory.create('redis')`, a bus whose events
// also travel through kaiwa-relay (relay/) to the user's other tabs and
// devices and to servers, and whose handlers get the events published
// elsewhere.
//
// - `emit` validates and dispatches locally at once, exactly as EventBus
//   does (and throws as it does), then queues the event; the events of a
//   task are serialized and sent when its synchronous part ends. It returns a
//   promise of `{ offset }` that resolves once the relay has stored the event
//   and rejects with the relay's refusal (a ValidationError with the relay's
//   issues, or a RelayError whose `kind` is 'forbidden', 'rate', …).
//   Ignoring the promise is fine: a refusal is reported in the console,
//   never as an unhandled rejection.
// - An event from elsewhere is validated again by this bus and dispatched to
//   the local handlers; its Date fields (by the event's schema) arrive as
//   Dates, as they would locally. It is never sent back.
//
// One socket per browser, not per tab (browsers allow 6 connections per
// origin over HTTP/1.1). The tabs of an origin that use the same relay URL
// elect a leader with a Web Lock; only the leader holds the WebSocket. The
// others publish through it and get its events over a BroadcastChannel
// (js/relay/tab-link.js has the messages). Tabs also post their own events
// to each other directly, since the relay never sends an event back to the
// connection that published it. When the leader tab closes, its lock is
// released, the next tab takes it, resumes from the last offset every tab
// saw, and publishes again what was not acknowledged (same refs: stored
// once). Every tab drops a relay event whose offset it has seen (received,
// or the ack of a tab's publish: the relay replays a tab's own events to
// the next leader), and a tab that joins gets the offsets the leader has
// seen, so that a replay never hands it events from before it opened. Until
// the publishes of the handover are settled (their acks say which replayed
// events are the tabs' own), the new leader holds the replay, and a tab
// that had publishes in flight holds what it is handed. Only the leader's
// messages count: see js/relay/tab-link.js. Without Web Locks (Node, old
// browsers) every bus is its own leader.
// Tabs share a socket only with tabs that connect as the same identity with
// the same subscriptions (see shareKey): a user's tab and an admin's tab in
// one browser must not see each other's events through one socket.

import { EventBus } from '../core/bus.js';
import { takeBusOptions } from '../core/bus-options.js';
import { ValidationError } from '../core/errors.js';
import { GAP_EVENT, GAP_SCHEMA, reviveDates } from '../history/index.js';
import { IndexedDbOutbox, MemoryOutbox } from './outbox.js';
import { RelayConnection, RelayError, overLimits } from './connection.js';
import { TabLink } from './tab-link.js';
import { tokenClaims } from './token.js';
import { notifyAll, passOn, report } from '../core/wrap.js';

// How long, at most, a new leader waits for the other tabs to say they have
// published again what the old one had not settled (their acks say which
// replayed events are theirs): a tab that does not answer (frozen, or of an
// older version) is not waited for longer.
const HANDOVER_WAIT_MS = 1000;
const SEEN_OFFSETS = 4096;

// The name of the tabs' channel and lock: tabs with the same key share one
// socket. The identity is options.identity, else a static token's sub and
// admin claims (a getToken bus says who it is with `identity`).
function shareKey({ url, token, identity, subscribe = ['*'] }) {
	let who = identity;
	if (who === undefined && typeof token === 'string') {
		const claims = tokenClaims(token);
		who = claims ? `${claims.sub}${claims.admin ? ' (admin)' : ''}` : token;
	}
	return `relay:${url}|${who ?? ''}|${[...subscribe].sort().join(',')}`;
}

// A refusal of an event this bus accepted (kind 'validation' or 'unknown')
// means the relay validates with other schemas than the app's: say which
// file to regenerate.
const STALE_SCHEMAS =
	'This app accepts it, so the relay runs other schemas than this app: regenerate its --schemas file from your ' +
	'defineEvents module (npx kaiwa-bus schemas src/lib/events.ts -o relay-schemas.json) and restart the relay.';
const withHint = (error) =>
	error.kind === 'validation' || error.kind === 'unknown' ? `${error.message.replace(/\.?$/, '.')} ${STALE_SCHEMAS}` : error.message;

// The relay's refusal, made here, of a payload over its limits; null if
// none is known, or for a payload JSON cannot carry (the leader says so).
function tooLarge(name, ref, payload, limits) {
	if (!limits) return null;
	let json;
	try {
		json = JSON.stringify(payload);
	} catch {
		return null;
	}
	return typeof json === 'string' ? overLimits(name, ref, json, limits) : null;
}

function refusalOf(name, error) {
	if (error.kind === 'validation') return new ValidationError(`kaiwa-bus: the relay refused ${withHint(error)}`, name, error.issues);
	if (error.kind === 'unknown') return new RelayError('unknown', withHint(error), error.issues);
	return error;
}

export class RelayBus {
	#bus;
	#options;
	#connection = null;
	#tabs = null;
	/** @type {import('./index.js').RelayConnectionStatus} */
	#status = { state: 'connecting', epoch: null, offset: null, outbox: 0, error: null, limits: null };
	#pending = new Map();
	#listeners = new Set();
	#dates = new Map();
	#gaps = [];
	#seen = new Set();
	#outbox;
	#toLeader = [];
	#held = null; // relay events held during a handover
	#awaiting = null; // the refs whose settlement the hold waits for
	#resent = null; // in a new leader's hold: the tabs that published again what they had in flight
	#waitingFor = null; // the other tabs it still waits for (undefined: not known yet)
	#closed = false;
	#statusQueued = false;
	#changeQueued = false;
	#tabsIn;
	#relayIn;
	#detach = [];

	/**
	 * @param {EventBus} bus the local bus
	 * @param {object} options url, token | getToken, subscribe, WebSocket (see RelayConnection); `share: false` gives this tab its own socket;
	 *   `outbox: 'indexeddb'` keeps unacknowledged events in IndexedDB (database `outboxName`, default 'kaiwa-bus-outbox'; `indexedDB` replaces the global one)
	 */
	constructor(bus, { share = true, outbox = 'memory', outboxName, indexedDB, identity, ...options }) {
		if (!(bus instanceof EventBus)) throw new TypeError('kaiwa-bus: new RelayBus(bus, options): bus must be an EventBus');
		if (identity !== undefined && typeof identity !== 'string')
			throw new TypeError(`kaiwa-bus: options.identity must be a string, got ${typeof identity}`);
		if (outbox !== 'memory' && outbox !== 'indexeddb')
			throw new TypeError(`kaiwa-bus: options.outbox must be 'memory' or 'indexeddb', got ${String(outbox)}`);
		this.#bus = bus;
		if (bus.getSchema(GAP_EVENT) === undefined) bus.registerSchema(GAP_SCHEMA);
		// What arrives enters through the bus's seam: validated again, recorded
		// and delivered with meta.source 'tab' or 'remote' (and meta.offset).
		this.#detach.push(
			bus.attach({ source: 'tab', attach: (link) => void (this.#tabsIn = link) }),
			bus.attach({ source: 'remote', attach: (link) => void (this.#relayIn = link) })
		);
		this.#outbox = outbox === 'indexeddb' ? new IndexedDbOutbox({ name: outboxName, indexedDB }) : new MemoryOutbox();
		// Checks the options now, with a connection that is never opened.
		this.#options = options;
		RelayConnection.check(options);
		if (share && TabLink.available()) {
			// Tabs of two users must never share one socket, and a getToken
			// bus cannot know whose tokens it will get before it has one.
			if (identity === undefined && options.getToken !== undefined) {
				throw new TypeError(
					"kaiwa-bus: a relay bus with getToken shares one socket between this origin's tabs: say whose tokens getToken gives with options.identity (the user id, or 'admin'), or pass share: false"
				);
			}
			const handlers = {
				lead: (position) => this.#lead(position),
				event: ({ name, payload }) => this.#tabsIn.receive(name, payload),
				remote: (message) => this.#fromRelay(message),
				publish: (message) => this.#publishFor(message),
				settled: (message) => this.#settled(message),
				status: ({ status, seen = [] }) => {
					for (const offset of seen) this.#remember(offset);
					this.#setStatus(status);
				},
				gap: ({ gap }) => this.#gap(gap, false),
				leader: () => {
					this.#hold(false);
					this.#resendPending();
					// After the resends (posted at the end of this task).
					queueMicrotask(() => this.#tabs.postResent());
				},
				resent: ({ from }) => this.#heardResent(from),
				join: () => this.#connection && this.#tabs.postStatus(this.#connection.status, [...this.#seen])
			};
			this.#tabs = new TabLink(shareKey({ ...options, identity }), handlers, { elect: true });
		} else {
			this.#lead(null);
		}
		/** Resolves once the events an earlier page left in the outbox are queued again (sent once the socket is open). */
		this.ready = this.#outbox.load().then(
			(entries) => this.#requeue(entries),
			(error) => report('warn', `kaiwa-bus: the relay outbox could not be read: ${error?.message ?? error}`)
		);
	}

	/** The local bus. */
	get bus() {
		return this.#bus;
	}

	/** `{ state, epoch, offset, outbox, error, leader }`: the socket (this tab's or the leader's) and this tab's unacknowledged events. */
	/** @returns {import('./index.js').RelayBusConnection} */
	get connection() {
		return { ...this.#status, outbox: this.#pending.size, leader: this.#connection !== null };
	}

	/** The gaps so far: `{ epoch, offset, lostAfter, at }` each time a resume could not be honoured. */
	get gaps() {
		return [...this.#gaps];
	}

	/** Follows `connection`: `listener(connection)` once per task that changed it, `listener(connection, gap)` at once for a gap. Returns a function that stops it. */
	onConnection(listener) {
		if (typeof listener !== 'function') throw new TypeError('kaiwa-bus: onConnection(listener): the listener must be a function');
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	/** Dispatches locally now (as EventBus.emit, throwing the same errors), then queues the event: the task's events are sent once it ends. Resolves with `{ offset }` once stored. */
	emit(name, payload) {
		this.#bus.emit(name, payload);
		this.#tabs?.postEvent(name, payload);
		const sent = new Promise((resolve, reject) => {
			const ref = this.#tabs?.newRef() ?? this.#connection.newRef();
			this.#pending.set(ref, { name, payload, resolve, reject });
			this.#outbox.add(ref, name, payload);
			this.#send(ref);
			this.#changed();
		}).catch((error) => {
			report('warn', `kaiwa-bus: the relay refused ${name} (${error.kind}): ${withHint(error)}`);
			throw refusalOf(name, error);
		});
		sent.catch(() => {}); // Reported above; the caller may still await it.
		return sent;
	}

	/** Closes this tab's part: its socket if it leads (another tab takes over), its channel; unacknowledged events reject with kind 'closed'. */
	close() {
		if (this.#closed) return;
		this.#closed = true;
		this.#connection?.close();
		this.#tabs?.close();
		this.#outbox.close();
		for (const detach of this.#detach) detach();
		this.#setStatus({ ...this.#status, state: 'closed' });
	}

	// This tab leads: it opens the socket, from the position the tabs reached.
	#lead(position) {
		if (this.#closed) return;
		this.#connection = new RelayConnection({
			...this.#options,
			resume: position ?? undefined,
			onEvent: (event) => this.#fromRelay(event),
			onGap: (gap) => this.#gap(gap, true),
			onChange: () => this.#connectionChanged()
		});
		if (position) this.#hold(true);
		this.#resendPending();
	}

	// A handover: relay events are held until the refs pending now are
	// settled, and in a new leader, until every other tab said it published
	// again what it had in flight (`resent`) and those are settled too.
	#hold(leading) {
		this.#awaiting = new Set(this.#pending.keys());
		this.#held ??= [];
		this.#resent = leading ? new Set() : null;
		this.#waitingFor = leading ? undefined : null;
		if (leading) {
			const resent = this.#resent;
			const wait = (tabs) => {
				if (this.#resent !== resent) return;
				this.#waitingFor = new Set(tabs.filter((tab) => !resent.has(tab)));
				this.#release();
			};
			this.#tabs.peers().then(wait, () => wait([]));
			setTimeout(() => wait([]), HANDOVER_WAIT_MS);
		}
		this.#release();
	}

	#heardResent(tab) {
		if (!this.#resent) return;
		this.#resent.add(tab);
		this.#waitingFor?.delete(tab);
		this.#release();
	}

	#send(ref) {
		const entry = this.#pending.get(ref);
		if (!entry) return;
		if (!this.#connection) {
			if (this.#toLeader.push(ref) === 1) queueMicrotask(() => this.#postToLeader());
			return;
		}
		this.#connection.publish(entry.name, entry.payload, ref).then(
			({ offset }) => this.#settled({ ref, offset }),
			(error) => this.#settled({ ref, error })
		);
	}

	// A tab that does not lead posts its publishes to the leader once the
	// task's synchronous part is over (one message each, in order), unless
	// they are over the relay's limits (the leader's status has them).
	#postToLeader() {
		const refs = this.#toLeader;
		this.#toLeader = [];
		for (const ref of refs) {
			const entry = this.#pending.get(ref);
			if (!entry || this.#connection) continue; // settled, or this tab leads now (#lead sent it)
			const error = tooLarge(entry.name, ref, entry.payload, this.#status.limits);
			if (error) {
				this.#settled({ ref, error });
				continue;
			}
			try {
				this.#tabs.postPublish(ref, entry.name, entry.payload);
			} catch (error) {
				this.#settled({
					ref,
					error: {
						kind: 'malformed',
						message: `${entry.name}: the payload cannot be passed to the tab that holds the relay socket (${error?.message ?? error})`
					}
				});
			}
		}
	}

	#resendPending() {
		for (const ref of this.#pending.keys()) this.#send(ref);
	}

	// Events an earlier page emitted (and dispatched there) but the relay never
	// acknowledged: sent again, in order, with their refs.
	#requeue(entries) {
		for (const { ref, name, payload } of entries) {
			if (this.#pending.has(ref) || this.#closed) continue;
			const warn = (error) =>
				report('warn', `kaiwa-bus: the relay refused ${name} from the outbox (${error.kind}): ${error.message}`);
			this.#pending.set(ref, { name, payload, resolve: () => {}, reject: warn });
			this.#send(ref);
		}
		if (entries.length > 0) this.#changed();
	}

	// A publish from another tab, for the leader to send. Before that tab
	// said `resent` in a handover, it is one the hold waits for.
	#publishFor({ ref, name, payload, from }) {
		if (!this.#connection) return;
		if (this.#resent && !this.#resent.has(from)) this.#awaiting.add(ref);
		this.#connection.publish(name, payload, ref).then(
			({ offset }) => this.#settled({ ref, offset }),
			(error) => this.#settled({ ref, error })
		);
	}

	// An ack or refusal, for this tab's publish or another's (every tab
	// learns the offsets of acknowledged events, so that a replay after a
	// handover does not deliver them again).
	/** @param {{ ref: string, offset?: string, error?: any }} settled */
	#settled({ ref, offset, error }) {
		if (offset !== undefined) this.#remember(offset);
		// The leader tells every tab; a 'closed' publish goes to the next leader instead.
		if (this.#connection && this.#tabs && error?.kind !== 'closed') {
			this.#tabs.postSettled(
				error ? { ref, error: { kind: error.kind, message: error.message, issues: error.issues ?? [] } } : { ref, offset }
			);
		}
		if (this.#awaiting?.delete(ref)) this.#release();
		const entry = this.#pending.get(ref);
		if (!entry) return;
		this.#pending.delete(ref);
		// A publish cut short by close() stays in a durable outbox, for the next page.
		if (error?.kind !== 'closed') this.#outbox.remove(ref);
		if (error) entry.reject(error instanceof RelayError ? error : new RelayError(error.kind, error.message, error.issues ?? []));
		else entry.resolve({ offset });
		this.#changed();
	}

	// An event from the relay (from this tab's socket, or the leader's).
	#fromRelay(event) {
		if (this.#held) this.#held.push(event);
		else this.#handOn(event);
	}

	// Dispatched here and, from the leader, posted to the other tabs: once
	// per offset.
	#handOn(event) {
		if (this.#seen.has(event.offset)) return;
		if (this.#connection) this.#tabs?.postRemote(event);
		this.#dispatchRemote(event);
	}

	#dispatchRemote({ name, payload, offset }) {
		this.#remember(offset);
		this.#status = { ...this.#status, offset };
		try {
			this.#relayIn.receive(name, reviveDates(this.#bus, name, payload, this.#dates), { offset });
		} catch (error) {
			report('warn', `kaiwa-bus: an event from the relay was refused here: ${error?.message ?? error}`);
		}
	}

	// Ends a handover's hold once what it waits for is settled: the events
	// held, less those seen (the tabs' own, by their acks).
	#release() {
		const held = this.#held;
		if (!held || this.#waitingFor === undefined || this.#waitingFor?.size > 0 || this.#awaiting.size > 0) return;
		[this.#held, this.#awaiting, this.#resent, this.#waitingFor] = [null, null, null, null];
		for (const event of held) this.#handOn(event);
	}

	#remember(offset) {
		this.#seen.add(offset);
		if (this.#seen.size > SEEN_OFFSETS) this.#seen.delete(this.#seen.values().next().value);
	}

	#gap(gap, mine) {
		if (mine) this.#tabs?.postGap(gap);
		const entry = { ...gap, at: new Date() };
		this.#gaps.push(entry);
		if (this.#gaps.length > 100) this.#gaps.shift();
		report(
			'warn',
			`kaiwa-bus: the relay no longer has the events after ${gap.lostAfter}: some were missed (a gap); state shown may be stale`
		);
		// A record in the history, for onRecord listeners and the panel, and an
		// event handlers of GAP_EVENT (or '*') get, from 'remote'.
		const { epoch, offset, lostAfter } = gap;
		const payload = { epoch: String(epoch), offset: String(offset) };
		if (lostAfter != null) payload.lostAfter = String(lostAfter);
		try {
			this.#relayIn.receive(GAP_EVENT, payload, { offset });
		} catch (error) {
			report('warn', `kaiwa-bus: the gap could not be recorded: ${error?.message ?? error}`);
		}
		this.#notify(entry);
	}

	// The connection changes at every publish and ack: its status is taken,
	// and posted to the other tabs, once per task, at the end of its
	// synchronous part, however many changes the task made.
	#connectionChanged() {
		if (this.#statusQueued) return;
		this.#statusQueued = true;
		queueMicrotask(() => {
			this.#statusQueued = false;
			if (this.#closed) return;
			const status = this.#connection.status;
			this.#setStatus(status);
			this.#tabs?.postStatus(status);
		});
	}

	#setStatus(status) {
		this.#status = { ...status };
		this.#tabs?.setPosition(status);
		this.#changed();
	}

	// Connection listeners hear once per task too (a burst of emits changes
	// the outbox depth at each); a gap is told at once.
	#changed() {
		if (this.#changeQueued) return;
		this.#changeQueued = true;
		queueMicrotask(() => {
			this.#changeQueued = false;
			this.#notify(undefined);
		});
	}

	#notify(gap) {
		notifyAll(this.#listeners, [this.connection, gap], 'an onConnection listener');
	}
}

passOn(RelayBus);

export { reviveDates };

const RELAY_OPTIONS = ['url', 'token', 'getToken', 'subscribe', 'WebSocket', 'share', 'outbox', 'outboxName', 'indexedDB', 'identity'];

/**
 * A bus connected to kaiwa-relay: the bus options (js/core/bus-options.js) and
 * `{ url, token | getToken, subscribe = ['*'], WebSocket, share = true,
 * outbox = 'memory', outboxName, indexedDB, identity }`.
 * @param {import('./index.js').RelayOptions & import('../index.js').EventBusOptions & { events?: unknown, catalog?: boolean }} options
 */
export function createRelayBus(options) {
	const [bus, own] = takeBusOptions(options, 'createRelayBus', RELAY_OPTIONS);
	return new RelayBus(bus, own);
}
