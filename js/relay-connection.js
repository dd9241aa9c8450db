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
//   relay acknowledges or refuses it. `unavailable` and `rate` refusals are
//   retried after a back-off; other refusals reject the publish.
// - The position: the epoch and the offset of the last event received. A
//   reconnect sends them as `resume`; `recovered: false` on a resume is a
//   gap, reported to `onGap`, never silent.
// - The token: `getToken()` is called before each connect, again shortly
//   before the token expires (sent as an `auth` frame), and after a 4001.
// - Reconnects back off exponentially with jitter, from 250 ms to 10 s.
//
// Close codes (PROTOCOL.md): 4001 new token then reconnect; 4003 and 4400
// stop (a forbidden pattern or a client bug: reconnecting would loop);
// 4008, 1001, 1013 and any drop reconnect with resume.

// The protocol this client speaks: its hello says it, and a relay's welcome
// must say it (or a later one).
const PROTOCOL = 2;
const STOP_CODES = new Map([
	[4003, 'the relay refused a subscription pattern (4003)'],
	[4400, 'the relay refused a frame as malformed (4400)']
]);
const RETRIED_REFUSALS = new Set(['unavailable', 'rate']);
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;
// A token is refreshed this long before it expires.
const REFRESH_BEFORE_MS = 30_000;

/** A relay's refusal of a publish, or the connection's end: `kind` says which. */
export class RelayError extends Error {
	constructor(kind, message, issues = []) {
		super(message);
		this.name = 'RelayError';
		this.kind = kind;
		this.issues = issues;
	}
}

// The `exp` claim of a JWT, in ms, or null; the token is not verified (the
// relay does that), only read to know when to refresh it.
function expiryOf(token) {
	try {
		const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
		const { exp } = JSON.parse(atob(part));
		return Number.isFinite(exp) ? exp * 1000 : null;
	} catch {
		return null;
	}
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
	#outbox = [];
	#unsent = []; // of the outbox: published in this task, not serialized yet
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
	constructor({ url, token = null, getToken, subscribe = ['*'], WebSocket = globalThis.WebSocket, onEvent, onGap = () => {}, onChange = () => {}, resume }) {
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
		if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw new TypeError(`kaiwa-bus relay: url must be a ws:// or wss:// URL, got ${String(url)}`);
		if (typeof WebSocket !== 'function') {
			throw new TypeError('kaiwa-bus relay: no WebSocket here: pass { WebSocket } (in Node 20, from the `ws` package)');
		}
		if (getToken !== undefined && typeof getToken !== 'function') throw new TypeError('kaiwa-bus relay: getToken must be a function');
		if (!Array.isArray(subscribe) || !subscribe.every((p) => typeof p === 'string')) throw new TypeError('kaiwa-bus relay: subscribe must be an array of patterns');
	}

	/** `{ state, epoch, offset, outbox, error }`: where the connection stands. */
	get status() {
		return { state: this.#state, epoch: this.#epoch, offset: this.#offset, outbox: this.#outbox.length, error: this.#lastError };
	}

	/**
	 * Queues an event for the relay. Resolves with `{ offset }` once it is
	 * stored; rejects with a RelayError (kind 'validation', 'forbidden', …)
	 * when the relay refuses it, or 'closed' when the connection is closed
	 * first. The payload is serialized at the end of this task's synchronous
	 * part (with the other publishes of the task): changes made to it after
	 * that are not sent.
	 * `ref` (default: a new one) is the relay's idempotency key: a publish
	 * sent again with the same ref, by this connection or another of the same
	 * user, is stored once.
	 */
	publish(name, payload, ref = this.newRef()) {
		if (this.#closed) return Promise.reject(new RelayError('closed', 'kaiwa-bus relay: the connection is closed'));
		return new Promise((resolve, reject) => {
			const entry = { ref, name, payload, frame: null, resolve, reject };
			this.#outbox.push(entry);
			if (this.#unsent.push(entry) === 1) queueMicrotask(() => this.#flush());
			this.#onChange();
		});
	}

	/** A ref no other publish of this page uses. */
	newRef() {
		return `${this.#clientId}-${++this.#refs}`;
	}

	/** Closes the socket for good; publishes still in the outbox reject with kind 'closed'. */
	close() {
		if (this.#closed) return;
		this.#closed = true;
		for (const timer of this.#timers) clearTimeout(timer);
		this.#timers.clear();
		this.#socket?.close(1000, 'closed by the client');
		this.#socket = null;
		for (const entry of this.#outbox.splice(0)) entry.reject(new RelayError('closed', 'kaiwa-bus relay: the connection was closed before the relay acknowledged this event'));
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
			socket.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL, token: token ?? null, subscribe: this.#patterns, resume }));
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
			this.#closedBy(event.code, event.reason);
		};
		socket.onerror = () => {};
	}

	#receive(frame, token) {
		switch (frame?.type) {
			case 'welcome':
				return this.#welcome(frame, token);
			case 'event':
				this.#offset = frame.offset;
				this.#onEvent(frame);
				return this.#onChange();
			case 'ack':
				return this.#settle(frame.ref, (entry) => entry.resolve({ offset: frame.offset }));
			case 'refused':
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
		this.#attempt = 0;
		this.#lastError = null;
		this.#setState('open');
		// Those not serialized yet go with the next flush, after these.
		for (const entry of this.#outbox) if (entry.frame !== null) this.#send(entry.frame);
		this.#scheduleRefresh(token);
	}

	#refused(frame) {
		const entry = this.#outbox.find((e) => e.ref === frame.ref);
		if (!entry) return;
		if (RETRIED_REFUSALS.has(frame.kind)) {
			this.#later(this.#backoff(), () => this.#state === 'open' && this.#outbox.includes(entry) && this.#send(entry.frame));
			return;
		}
		this.#settle(frame.ref, (e) => e.reject(new RelayError(frame.kind, frame.message, frame.issues ?? [])));
	}

	#settle(ref, how) {
		const at = this.#outbox.findIndex((e) => e.ref === ref);
		if (at === -1) return;
		const [entry] = this.#outbox.splice(at, 1);
		how(entry);
		this.#onChange();
	}

	#closedBy(code, reason) {
		if (this.#closed) return;
		const stop = STOP_CODES.get(code);
		if (stop) return this.#stop(`${stop}: ${reason}`);
		this.#lastError = code === 1000 || code === 1005 ? null : `closed with ${code}${reason ? `: ${reason}` : ''}`;
		// 4008 (lagging): at once, with resume; anything else after a back-off.
		if (code === 4008) this.#connect();
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

	#retry() {
		this.#setState('connecting');
		this.#later(this.#backoff(), () => this.#connect());
		this.#attempt++;
	}

	#backoff() {
		const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.#attempt);
		return ceiling / 2 + Math.random() * (ceiling / 2);
	}

	// Sends a fresh token before this one expires, on the open connection.
	#scheduleRefresh(token) {
		const expiry = typeof token === 'string' ? expiryOf(token) : null;
		if (expiry === null) return;
		const socket = this.#socket;
		this.#later(Math.max(1000, expiry - Date.now() - REFRESH_BEFORE_MS), async () => {
			let fresh;
			try {
				fresh = await this.#tokenSource();
			} catch {
				return; // The relay closes with 4001 at expiry; the reconnect asks again.
			}
			if (socket !== this.#socket || typeof fresh !== 'string') return;
			this.#send(JSON.stringify({ type: 'auth', token: fresh }));
			this.#scheduleRefresh(fresh);
		});
	}

	// Serializes and sends what was published since the last flush, once the
	// task's synchronous part is over: JSON.stringify and a socket send cost
	// far more than a local emit, so a burst of publishes pays for them after
	// the emits, not in each. Still one publish per frame, in the order of the
	// outbox. While the socket is not open, the next welcome sends them.
	#flush() {
		const entries = this.#unsent;
		this.#unsent = [];
		if (this.#closed) return;
		const open = this.#state === 'open';
		for (const entry of entries) {
			const { ref, name, payload } = entry;
			entry.payload = null;
			try {
				entry.frame = JSON.stringify({ type: 'publish', ref, name, payload });
			} catch (error) {
				this.#settle(ref, (e) => e.reject(new RelayError('malformed', `kaiwa-bus relay: ${name}: the payload cannot be sent as JSON (${error?.message ?? error})`)));
				continue;
			}
			if (open) this.#send(entry.frame);
		}
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
	if (!response.ok) throw new RelayError(response.status === 401 ? 'forbidden' : 'malformed', `kaiwa-bus relay: POST /v1/events answered ${response.status}: ${await response.text()}`);
	return response.json();
}
