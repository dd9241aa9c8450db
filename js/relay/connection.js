// RelayConnection: the client side of kaiwa-relay's protocol v2 (see
// relay/PROTOCOL.md), over one WebSocket. It knows nothing of buses: it
// publishes events and hands on the ones that arrive. A relay whose welcome
// does not say protocol 2 or later routes by v1's rule (an event without a
// userId reaches every user): the client stops rather than publish to it.
//
// What it keeps for you:
// - An ordered outbox. `publish` queues the event with a ref unique to this
//   connection object; it is sent when the socket is open (the frames
//   published in one task are written together, at the end of its
//   synchronous part, one publish per frame), and sent again
//   (same ref, so the relay stores it once) after every reconnect until the
//   relay acknowledges or refuses it. Other refusals reject the publish.
// - Emit order under `rate` and `unavailable` refusals: such a refusal holds
//   every publish (one shared back-off), then the refused ones and those
//   after them are sent again in outbox order, a few at a time at first
//   (the relay refuses the later publishes of a connection until the
//   refused ref comes again, so none is stored before an earlier one).
// - The relay's limits (`welcome.limits`): a publish over them is refused
//   here with kind 'too-large' and never sent. A relay that closes with
//   1009 (a frame too large for it, or for a proxy on the way) costs the
//   largest publish in flight, refused 'too-large', never a reconnect loop.
// - The position: the epoch and the offset of the last event received. A
//   reconnect sends them as `resume`; `recovered: false` on a resume is a
//   gap, reported to `onGap`, never silent. The events a resume replays
//   are held until the publishes the last socket sent and had no answer to
//   are answered: the replay may hold them (stored, their ack lost), and
//   their acks say which, so they are not delivered back to this client.
// - The token: `getToken()` is called before each connect, again shortly
//   before the token expires (sent as an `auth` frame), and after a 4001.
// - Reconnects back off exponentially with jitter, from 250 ms to 10 s.
//
// Close codes (PROTOCOL.md): 4001 new token then reconnect; 4003 and 4400
// stop (a forbidden pattern or a client bug: reconnecting would loop);
// 4008 reconnects at once with resume; 1009 refuses the largest publish in
// flight, then reconnects after a back-off; 1001, 1013 and any drop
// reconnect with resume after a back-off.

import { CLIENT_FRAME, CLOSE, PROTOCOL, REFUSAL, RELAY_FRAME } from './contract.js';
import { tokenClaims } from './token.js';
import { sequenceFields, sequencedRef } from './producer.js';

// PROTOCOL is the protocol this client speaks: its hello says it, and a
// relay's welcome must say it (or a later one). The codes, frame types and
// refusal kinds come from relay/src/protocol.rs (contract.js, generated).
const STOP_CODES = new Map([
	[CLOSE.FORBIDDEN, `the relay refused a subscription pattern (${CLOSE.FORBIDDEN})`],
	[CLOSE.MALFORMED, `the relay refused a frame as malformed (${CLOSE.MALFORMED})`]
]);
const RETRIED_REFUSALS = new Set([REFUSAL.UNAVAILABLE, REFUSAL.RATE]);
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;
// A token is refreshed this long before it expires (half its life for a
// token shorter than twice that), and never sooner than a second after the
// last refresh.
const REFRESH_BEFORE_MS = 30_000;
const REFRESH_MIN_MS = 1000;
// setTimeout's longest delay: a longer one fires at once. A refresh further away than that is waited for in steps.
const TIMER_MAX_MS = 2 ** 31 - 1;

/** A relay's refusal of a publish, or the connection's end: `kind` says which. */
export class RelayError extends Error {
	/** @param {import('./index.js').RelayError['kind']} kind @param {string} message @param {import('../index.js').ValidationIssue[]} [issues] */
	constructor(kind, message, issues = []) {
		super(message);
		this.name = /** @type {const} */ ('RelayError');
		this.kind = kind;
		this.issues = issues;
	}
}

// The `exp` claim of a JWT, in ms, or null; the token is not verified (the
// relay does that), only read to know when to refresh it.
function expiryOf(token) {
	const exp = tokenClaims(token)?.exp;
	return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
}

// The length of a string in UTF-8 (JSON.stringify writes no lone surrogate).
function utf8Length(text) {
	let bytes = text.length;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c >= 0x80) bytes += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
	}
	return bytes;
}

// Whether `text` is at most `limit` bytes of UTF-8, counting only when the
// length in UTF-16 units cannot tell (a unit is one to three bytes).
function fits(text, limit) {
	return text.length * 3 <= limit || (text.length <= limit && utf8Length(text) <= limit);
}

/** The relay's `welcome.limits`, if it sent them: `{ payload, frame, ref }` in bytes. */
function limitsOf(frame) {
	const limits = frame.limits;
	const ok =
		limits !== null &&
		typeof limits === 'object' &&
		['payload', 'frame', 'ref'].every((k) => Number.isSafeInteger(limits[k]) && limits[k] > 0);
	return ok ? { payload: limits.payload, frame: limits.frame, ref: limits.ref } : null;
}

/**
 * Why a publish cannot go to a relay with these limits (a RelayError of kind
 * 'too-large'), or null. `json` is the payload as JSON, `frame` the whole
 * publish frame (left out: not checked).
 */
export function overLimits(name, ref, json, limits, frame) {
	if (!limits) return null;
	const over = (what, limit) =>
		new RelayError(REFUSAL.TOO_LARGE, `kaiwa-bus relay: ${name}: ${what}; this relay takes at most ${limit} bytes, so it was not sent`);
	if (!fits(json, limits.payload)) return over(`the payload is ${utf8Length(json)} bytes of JSON`, limits.payload);
	if (!fits(ref, limits.ref)) return over(`its ref is ${utf8Length(ref)} bytes`, limits.ref);
	if (frame !== undefined && !fits(frame, limits.frame)) return over(`its frame is ${utf8Length(frame)} bytes`, limits.frame);
	return null;
}

let connections = 0;

export class RelayConnection {
	#url;
	#tokenSource;
	#patterns;
	#WebSocket;
	#onEvent;
	#onGap;
	#onChange;
	#socket = null;
	#state = 'connecting';
	#epoch = null;
	#offset = null;
	#limits = null;
	#frameCeiling = Infinity; // learned from 1009 closes: a frame this long is too large
	#outbox = []; // { ref, name, payload, frame, sent, resolve, reject }, in publish order
	#unsent = []; // of the outbox: published in this task, not serialized yet
	#queue = []; // of the outbox: serialized, to be sent, in order, from #queueAt
	#queueAt = 0;
	#inFlight = 0; // sent on this socket, not answered yet
	#window = Infinity; // publishes in flight at most: a few after a retried refusal
	#holding = false; // a retried refusal's back-off is running: nothing is sent
	#holds = 0; // back-offs in a row without an ack
	#replay = null; // after a resume: { events held, refs unsure (sent on the last socket), offsets they were acked with }
	#refs = 0;
	#clientId = `${Date.now().toString(36)}${(++connections).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
	#attempt = 0;
	#timers = new Set();
	#closed = false;
	#lastError = null;

	/**
	 * @param {object} options
	 * @param {string} options.url the relay's WebSocket URL, e.g. ws://127.0.0.1:8787/v1/ws
	 * @param {string|null} [options.token] a JWT (or null for a relay started with --insecure-dev)
	 * @param {() => string|null|Promise<string|null>} [options.getToken] called before each connect and before the token expires
	 * @param {string[]} [options.subscribe] patterns, default ['*']
	 * @param {typeof WebSocket} [options.WebSocket] default the global one (Node 20: pass the `ws` package's)
	 * @param {(event: {name: string, payload: object, offset: string, timestamp: string}) => void} options.onEvent
	 * @param {(gap: {epoch: string, offset: string, lostAfter: string|null}) => void} [options.onGap]
	 * @param {() => void} [options.onChange] called when state, position or outbox change
	 * @param {{epoch: string, offset: string}} [options.resume] where to start: a position another connection reached
	 */
	constructor({
		url,
		token = null,
		getToken,
		subscribe = ['*'],
		WebSocket = globalThis.WebSocket,
		onEvent,
		onGap = () => {},
		onChange = () => {},
		resume
	}) {
		RelayConnection.check({ url, getToken, subscribe, WebSocket });
		this.#url = url;
		this.#tokenSource = getToken ?? (() => token);
		this.#patterns = [...subscribe];
		this.#WebSocket = WebSocket;
		this.#onEvent = onEvent;
		this.#onGap = onGap;
		this.#onChange = onChange;
		if (resume?.epoch && resume?.offset) [this.#epoch, this.#offset] = [resume.epoch, resume.offset];
		this.#connect();
	}

	/** Throws a TypeError naming the first bad option (url, WebSocket, getToken, subscribe). */
	static check({ url, getToken, subscribe = ['*'], WebSocket = globalThis.WebSocket }) {
		if (typeof url !== 'string' || !/^wss?:\/\//.test(url))
			throw new TypeError(`kaiwa-bus relay: url must be a ws:// or wss:// URL, got ${String(url)}`);
		if (typeof WebSocket !== 'function') {
			throw new TypeError('kaiwa-bus relay: no WebSocket here: pass { WebSocket } (in Node 20, from the `ws` package)');
		}
		if (getToken !== undefined && typeof getToken !== 'function') throw new TypeError('kaiwa-bus relay: getToken must be a function');
		if (!Array.isArray(subscribe) || !subscribe.every((p) => typeof p === 'string'))
			throw new TypeError('kaiwa-bus relay: subscribe must be an array of patterns');
	}

	/** `{ state, epoch, offset, outbox, error, limits }`: where the connection stands, and what the relay takes (null before its welcome). */
	get status() {
		return {
			state: this.#state,
			epoch: this.#epoch,
			offset: this.#offset,
			outbox: this.#outbox.length,
			error: this.#lastError,
			limits: this.#effectiveLimits()
		};
	}

	/**
	 * Queues an event for the relay. Resolves with `{ offset }` once it is
	 * stored; rejects with a RelayError (kind 'validation', 'forbidden',
	 * 'too-large', …) when the relay (or, for its limits, this client)
	 * refuses it, or 'closed' when the connection is closed first. The payload
	 * is serialized at the end of this task's synchronous part (with the
	 * other publishes of the task): changes made to it after that are not sent.
	 * `ref` (default: a new one) is the relay's idempotency key: a publish
	 * sent again with the same ref, by this connection or another of the same
	 * user, is stored once.
	 */
	publish(name, payload, ref = this.newRef()) {
		if (this.#closed) return Promise.reject(new RelayError('closed', 'kaiwa-bus relay: the connection is closed'));
		return new Promise((resolve, reject) => {
			const entry = { ref, name, payload, frame: null, sent: false, resolve, reject };
			this.#outbox.push(entry);
			if (this.#unsent.push(entry) === 1) queueMicrotask(() => this.#flush());
			this.#onChange();
		});
	}

	/** A ref no other publish of this page uses, numbered in publish order (sent as producer and seq: see producer.js). */
	newRef() {
		return sequencedRef(this.#clientId, ++this.#refs);
	}

	/** Closes the socket for good; publishes still in the outbox reject with kind 'closed'. */
	close() {
		if (this.#closed) return;
		this.#closed = true;
		for (const timer of this.#timers) clearTimeout(timer);
		this.#timers.clear();
		this.#socket?.close(1000, 'closed by the client');
		this.#socket = null;
		for (const entry of this.#outbox.splice(0))
			entry.reject(new RelayError('closed', 'kaiwa-bus relay: the connection was closed before the relay acknowledged this event'));
		this.#setState('closed');
	}

	async #connect() {
		if (this.#closed) return;
		this.#setState('connecting');
		let token;
		try {
			token = await this.#tokenSource();
		} catch (error) {
			this.#lastError = `getToken() failed: ${error?.message ?? error}`;
			return this.#retry();
		}
		if (this.#closed) return;
		let socket;
		try {
			socket = new this.#WebSocket(this.#url);
		} catch (error) {
			this.#lastError = `cannot open ${this.#url}: ${error?.message ?? error}`;
			return this.#retry();
		}
		this.#socket = socket;
		socket.onopen = () => {
			const resume = this.#epoch !== null && this.#offset !== null ? { epoch: this.#epoch, offset: this.#offset } : undefined;
			socket.send(
				JSON.stringify({ type: CLIENT_FRAME.HELLO, protocol: PROTOCOL, token: token ?? null, subscribe: this.#patterns, resume })
			);
		};
		socket.onmessage = (message) => {
			if (socket !== this.#socket) return;
			let frame;
			try {
				frame = JSON.parse(typeof message.data === 'string' ? message.data : String(message.data));
			} catch {
				return;
			}
			this.#receive(frame, token);
		};
		socket.onclose = (event) => {
			if (socket !== this.#socket) return;
			this.#socket = null;
			// A replay held is dropped: the next resume starts before it.
			this.#replay = null;
			this.#closedBy(event.code, event.reason);
		};
		socket.onerror = () => {};
	}

	#receive(frame, token) {
		switch (frame?.type) {
			case RELAY_FRAME.WELCOME:
				return this.#welcome(frame, token);
			case RELAY_FRAME.EVENT:
				if (this.#replay) return void this.#replay.events.push(frame);
				return this.#deliver(frame);
			case RELAY_FRAME.ACK:
				return this.#answered(frame.ref, (entry) => entry.resolve({ offset: frame.offset }), frame.offset);
			case RELAY_FRAME.REFUSED:
				return this.#refused(frame);
			default:
				// pong, and frames of a later protocol version.
				return undefined;
		}
	}

	#welcome(frame, token) {
		if (!(frame.protocol >= PROTOCOL)) {
			return this.#stop(
				`the relay speaks protocol ${frame.protocol ?? 1}, which sends an event without a userId to every user; ` +
					`this client needs protocol ${PROTOCOL} (private by default): upgrade kaiwa-relay (relay/PROTOCOL.md, "Migrating from protocol 1")`
			);
		}
		const resumed = this.#epoch !== null;
		if (resumed && !frame.recovered) this.#onGap({ epoch: frame.epoch, offset: frame.offset, lostAfter: this.#offset });
		if (!resumed || !frame.recovered) this.#offset = frame.offset;
		this.#epoch = frame.epoch;
		this.#limits = limitsOf(frame);
		this.#attempt = 0;
		this.#lastError = null;
		this.#setState('open');
		const unsure = resumed ? this.#outbox.filter((e) => e.sent).map((e) => e.ref) : [];
		this.#replay = unsure.length > 0 ? { events: [], unsure: new Set(unsure), acked: new Set() } : null;
		// What was serialized before goes first, in order, if this relay takes
		// it; those not serialized yet go with the next flush, after these.
		for (const entry of [...this.#outbox]) {
			entry.sent = false;
			if (entry.frame !== null) this.#admit(entry);
		}
		this.#inFlight = 0;
		this.#requeue();
		this.#scheduleRefresh(token);
	}

	#refused(frame) {
		if (!RETRIED_REFUSALS.has(frame.kind)) {
			this.#answered(frame.ref, (e) => e.reject(new RelayError(frame.kind, frame.message, frame.issues ?? [])));
			return;
		}
		const entry = this.#outbox.find((e) => e.ref === frame.ref && e.sent);
		if (!entry) return;
		entry.sent = false;
		this.#inFlight--;
		// Sent again, after a back-off every other publish waits for too.
		this.#window = this.#window === Infinity ? 1 : Math.max(1, this.#window / 2);
		if (this.#holding) return;
		this.#holding = true;
		this.#later(this.#backoff(this.#holds++), () => {
			this.#holding = false;
			this.#requeue();
		});
	}

	// An ack or a refusal that settles the publish: the next ones may go.
	#answered(ref, how, offset) {
		const entry = this.#outbox.find((e) => e.ref === ref);
		if (!entry) return;
		if (entry.sent) this.#inFlight--;
		this.#holds = 0;
		this.#settle(entry, how, offset);
		// One more in flight per window's worth of answers; no limit once the outbox is empty.
		if (this.#window !== Infinity) this.#window = this.#outbox.length === 0 ? Infinity : this.#window + 1 / this.#window;
		this.#pump();
	}

	#settle(entry, how, offset) {
		const at = this.#outbox.indexOf(entry);
		if (at === -1) return;
		this.#outbox.splice(at, 1);
		entry.done = true;
		how(entry);
		this.#replayAnswered(entry.ref, offset);
		this.#onChange();
	}

	#deliver(frame) {
		this.#offset = frame.offset;
		this.#onEvent(frame);
		this.#onChange();
	}

	// Once the last unsure publish is answered, the replay held goes on, less
	// this client's own events (the offsets they were acked with).
	#replayAnswered(ref, offset) {
		const replay = this.#replay;
		if (!replay?.unsure.delete(ref)) return;
		if (offset !== undefined) replay.acked.add(offset);
		if (replay.unsure.size > 0) return;
		this.#replay = null;
		for (const event of replay.events) {
			if (replay.acked.has(event.offset)) this.#offset = event.offset;
			else this.#deliver(event);
		}
	}

	#closedBy(code, reason) {
		if (this.#closed) return;
		const stop = STOP_CODES.get(code);
		if (stop) return this.#stop(`${stop}: ${reason}`);
		this.#lastError = code === 1000 || code === 1005 ? null : `closed with ${code}${reason ? `: ${reason}` : ''}`;
		if (code === CLOSE.TOO_BIG) this.#tooBig();
		// 4008 (lagging): at once, with resume; anything else after a back-off.
		if (code === CLOSE.LAGGING) this.#connect();
		else this.#retry();
	}

	// Ends the connection for good, saying why (a reconnect would fail the same way).
	#stop(why) {
		this.#lastError = why;
		try {
			console.error(`kaiwa-bus relay: ${why}; not reconnecting`);
		} catch {
			// A console that throws changes nothing.
		}
		this.close();
	}

	// The relay (or a proxy) closed with 1009 on reading a frame too large:
	// the largest one in flight was, and so is any frame as large. It is
	// refused; the others are sent again after the reconnect.
	#tooBig() {
		let [largest, bytes] = [null, 0];
		for (const entry of this.#outbox) {
			const length = entry.sent ? utf8Length(entry.frame) : 0;
			if (length > bytes) [largest, bytes] = [entry, length];
		}
		if (largest === null) return;
		this.#frameCeiling = Math.min(this.#frameCeiling, bytes - 1);
		this.#settle(largest, (e) =>
			e.reject(
				new RelayError(
					REFUSAL.TOO_LARGE,
					`kaiwa-bus relay: ${e.name}: the relay closed the connection (${CLOSE.TOO_BIG}) on a frame of ${bytes} bytes; it was not stored and is not sent again`
				)
			)
		);
	}

	#retry() {
		this.#setState('connecting');
		this.#later(this.#backoff(this.#attempt), () => this.#connect());
		this.#attempt++;
	}

	#backoff(attempt) {
		const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
		return ceiling / 2 + Math.random() * (ceiling / 2);
	}

	// Sends a fresh token before this one expires, on the open connection.
	#scheduleRefresh(token) {
		const expiry = typeof token === 'string' ? expiryOf(token) : null;
		if (expiry === null) return;
		const socket = this.#socket;
		const left = expiry - Date.now();
		const wait = Math.max(REFRESH_MIN_MS, left - Math.min(REFRESH_BEFORE_MS, left / 2));
		if (wait > TIMER_MAX_MS) {
			this.#later(TIMER_MAX_MS, () => socket === this.#socket && this.#scheduleRefresh(token));
			return;
		}
		this.#later(wait, async () => {
			let fresh = null;
			try {
				fresh = await this.#tokenSource();
			} catch {
				// Asked again, sooner; if it still fails, the relay closes with
				// 4001 at expiry and the reconnect asks again.
			}
			if (socket !== this.#socket) return;
			// No token, or the same one again (a static or cached one), refreshes nothing.
			if (typeof fresh === 'string' && fresh !== token) {
				this.#send(JSON.stringify({ type: CLIENT_FRAME.AUTH, token: fresh }));
				this.#scheduleRefresh(fresh);
			} else {
				this.#scheduleRefresh(token);
			}
		});
	}

	// Serializes what was published since the last flush, once the task's
	// synchronous part is over: JSON.stringify and a socket send cost far
	// more than a local emit, so a burst of publishes pays for them after the
	// emits, not in each. Still one publish per frame, in the order of the
	// outbox. While the socket is not open, the next welcome sends them.
	#flush() {
		const entries = this.#unsent;
		this.#unsent = [];
		if (this.#closed) return;
		for (const entry of entries) {
			if (this.#serialize(entry) && this.#admit(entry) && this.#state === 'open') this.#queue.push(entry);
		}
		this.#pump();
	}

	// The publish frame, written once; a payload JSON cannot carry is refused.
	#serialize(entry) {
		const { ref, name, payload } = entry;
		entry.payload = null;
		let json;
		try {
			json = JSON.stringify(payload);
			if (json === undefined) throw new TypeError('it is not a JSON value');
		} catch (error) {
			this.#settle(entry, (e) =>
				e.reject(
					new RelayError(
						REFUSAL.MALFORMED,
						`kaiwa-bus relay: ${name}: the payload cannot be sent as JSON (${error?.message ?? error})`
					)
				)
			);
			return false;
		}
		const head = `{"type":"publish","ref":${JSON.stringify(ref)},${sequenceFields(ref)}"name":${JSON.stringify(name)},"payload":`;
		entry.frame = `${head}${json}}`;
		entry.payloadAt = head.length;
		return true;
	}

	// Whether the relay takes this publish; if not, it is refused here.
	#admit(entry) {
		const limits = this.#effectiveLimits();
		const error = limits && overLimits(entry.name, entry.ref, entry.frame.slice(entry.payloadAt, -1), limits, entry.frame);
		if (error) this.#settle(entry, (e) => e.reject(error));
		return !error;
	}

	#effectiveLimits() {
		if (this.#frameCeiling === Infinity) return this.#limits;
		const limits = this.#limits ?? { payload: Infinity, ref: Infinity, frame: Infinity };
		return { ...limits, frame: Math.min(limits.frame, this.#frameCeiling) };
	}

	// Every serialized publish not in flight, in outbox order, to be sent.
	#requeue() {
		this.#queue = this.#outbox.filter((e) => e.frame !== null && !e.sent);
		this.#queueAt = 0;
		this.#pump();
	}

	// Sends from the queue, in order, as far as the window allows.
	#pump() {
		if (this.#state !== 'open' || this.#holding) return;
		while (this.#queueAt < this.#queue.length && this.#inFlight < Math.floor(this.#window)) {
			const entry = this.#queue[this.#queueAt++];
			if (entry.sent || entry.done) continue;
			entry.sent = true;
			this.#inFlight++;
			this.#send(entry.frame);
		}
		if (this.#queueAt === this.#queue.length) [this.#queue, this.#queueAt] = [[], 0];
	}

	#send(frame) {
		try {
			this.#socket?.send(frame);
		} catch {
			// The socket is closing: its onclose reconnects and resends.
		}
	}

	#later(ms, fn) {
		const timer = setTimeout(() => {
			this.#timers.delete(timer);
			fn();
		}, ms);
		this.#timers.add(timer);
	}

	#setState(state) {
		if (this.#state === state) return;
		this.#state = state;
		this.#onChange();
	}
}

/**
 * Publishes events from server code over HTTP (`POST /v1/events`): `url` is
 * the relay's base URL (http://host:port), `events` an array of
 * `{ name, payload, ref? }`. Resolves with one `{ offset }` or `{ refused }`
 * per event, in order.
 */
export async function publish(url, token, events) {
	if (!Array.isArray(events)) throw new TypeError('kaiwa-bus relay: publish(url, token, events): events must be an array');
	const response = await fetch(new URL('/v1/events', url), {
		method: 'POST',
		headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
		body: JSON.stringify(events)
	});
	if (!response.ok)
		throw new RelayError(
			response.status === 401 ? 'forbidden' : 'malformed',
			`kaiwa-bus relay: POST /v1/events answered ${response.status}: ${await response.text()}`
		);
	return response.json();
}
