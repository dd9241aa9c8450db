// The demo's bus: one local EventBus for the page's whole life (its history
// and the panel stay across sign-in and sign-out), connected to kaiwa-relay
// as the signed-in user while someone is signed in: a RelayBus on that same
// EventBus (`new RelayBus(bus, options)` from kaiwa-bus/relay). While it is
// connected, `emit` is the RelayBus's (local dispatch at once, then to the
// user's other tabs and the relay); signed out, the local bus's.
// kaiwa-bus/relay is loaded at the first connect, in the browser only: the
// server renders pages with kaiwa-bus/svelte's stand-in and no bus.
//
// It has every EventBus method (passed on to the local bus), plus what the
// devtools panel reads from a relay bus: `connection` and `onConnection`.
// Signed out, the connection is 'closed' with `user: null`.

const DRAIN_MS = 2000; // how long a sign-out waits for its last events to be stored

export class SessionBus {
	#local;
	#relay = null;
	#user = null;
	#off = null;
	#listeners = new Set();
	#connecting = 0;

	/** @param {import('kaiwa-bus').EventBus} local */
	constructor(local) {
		this.#local = local;
		// Whatever SessionBus does not define is the local bus's.
		return new Proxy(this, {
			get(target, key) {
				const own = Reflect.get(target, key);
				if (own !== undefined) return typeof own === 'function' ? own.bind(target) : own;
				const value = Reflect.get(local, key);
				return typeof value === 'function' ? value.bind(local) : value;
			}
		});
	}

	get bus() {
		return this.#local;
	}

	/** The relay connection as a RelayBus says it, with the user connected as (null: signed out, local only). */
	get connection() {
		const base = this.#relay?.connection ?? { state: 'closed', epoch: null, offset: null, outbox: 0, error: null, leader: false };
		return { ...base, user: this.#user };
	}

	get gaps() {
		return this.#relay?.gaps ?? [];
	}

	onConnection(listener) {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	emit(name, payload) {
		return this.#relay ? this.#relay.emit(name, payload) : this.#local.emit(name, payload);
	}

	/**
	 * Connects as `userId`: `getToken` gives that user's tokens (the server
	 * signs them for the session's user only); `subscribe`, the patterns.
	 */
	async connect({ url, userId, getToken, subscribe }) {
		const attempt = ++this.#connecting;
		const { RelayBus } = await import('kaiwa-bus/relay');
		if (attempt !== this.#connecting) return; // connected or disconnected since
		this.#disconnectNow();
		this.#user = userId;
		// `identity`: a user's tabs share one socket, never with another user's or an admin's.
		this.#relay = new RelayBus(this.#local, { url, getToken, subscribe, identity: userId });
		this.#off = this.#relay.onConnection((_, gap) => this.#notify(gap));
		this.#notify();
	}

	/** Disconnects once what this tab emitted is stored (at most DRAIN_MS), so a sign-out's own event still goes out. */
	async disconnect() {
		this.#connecting++;
		const relay = this.#relay;
		if (!relay) return;
		// What the handlers of this very event emit (a conversation ended by the sign-out) goes too.
		await new Promise((r) => setTimeout(r, 0));
		const deadline = Date.now() + DRAIN_MS;
		while (relay.connection.outbox > 0 && relay.connection.state === 'open' && Date.now() < deadline) {
			await new Promise((r) => setTimeout(r, 20));
		}
		if (this.#relay === relay) this.#disconnectNow();
	}

	#disconnectNow() {
		if (!this.#relay) return;
		this.#off();
		this.#relay.close();
		this.#relay = null;
		this.#user = null;
		this.#notify();
	}

	#notify(gap) {
		const connection = this.connection;
		for (const listener of [...this.#listeners]) {
			try {
				listener(connection, gap);
			} catch (error) {
				console.error('SessionBus: an onConnection listener threw', error);
			}
		}
	}
}
