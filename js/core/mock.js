// The seed's MockEventBus, for unit tests of code that emits: it records
// what is emitted and, by default, calls no handler. With
// `new MockEventBus({ deliver: true })` it also calls the handlers
// subscribed with on/once (by name, '*' or 'prefix.*'), in subscription
// order, so a test can drive code that listens. It validates nothing and
// needs no WebAssembly: a test of a feature passes it where the feature
// takes a `Bus` (index.d.ts), the interface EventBus also implements.

import { describe } from './errors.js';

function requireName(method, name) {
	if (typeof name !== 'string' || name === '') {
		throw new TypeError(`kaiwa-bus: MockEventBus.${method}(): the name must be a non-empty string, got ${describe(name)}`);
	}
}

function requireHandler(method, handler) {
	if (typeof handler !== 'function') {
		throw new TypeError(`kaiwa-bus: MockEventBus.${method}(): the handler must be a function, got ${describe(handler)}`);
	}
}

function matches(pattern, name) {
	if (pattern === '*' || pattern === name) return true;
	return pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1));
}

export class MockEventBus {
	/** Every `{ name, payload }` emitted, oldest first. */
	emittedEvents = [];
	#deliver;
	#subscriptions = [];

	/** @param {{ deliver?: boolean }} [options] */
	constructor(options = {}) {
		if (options === null || typeof options !== 'object') {
			throw new TypeError(
				`kaiwa-bus: new MockEventBus(options): options must be an object such as { deliver: true }, got ${describe(options)}`
			);
		}
		this.#deliver = options.deliver === true;
	}

	emit(name, payload) {
		requireName('emit', name);
		this.emittedEvents.push({ name, payload });
		if (!this.#deliver) return;
		const meta = { name, id: this.emittedEvents.length, timestamp: new Date() };
		// A snapshot, as the bus does: handlers added now see the next emit.
		for (const sub of this.#subscriptions.slice()) {
			if (!sub.live || !matches(sub.pattern, name)) continue;
			if (sub.once) this.#drop(sub);
			// Thrown errors reach the test (the real bus logs them and goes on).
			sub.handler(payload, meta);
		}
	}

	on(pattern, handler) {
		return this.#subscribe('on', pattern, handler, false);
	}

	once(pattern, handler) {
		return this.#subscribe('once', pattern, handler, true);
	}

	off(pattern, handler) {
		const sub = this.#subscriptions.find((s) => s.pattern === pattern && s.handler === handler);
		if (sub !== undefined) this.#drop(sub);
	}

	#subscribe(method, pattern, handler, once) {
		requireName(method, pattern);
		requireHandler(method, handler);
		const sub = { pattern, handler, once, live: true };
		this.#subscriptions.push(sub);
		return () => this.#drop(sub);
	}

	#drop(sub) {
		sub.live = false;
		this.#subscriptions = this.#subscriptions.filter((s) => s !== sub);
	}

	/** Subscriptions to exactly `pattern`. */
	getHandlerCount(pattern) {
		return this.#subscriptions.filter((s) => s.pattern === pattern).length;
	}

	/** Forgets what was emitted and every handler. */
	clear() {
		this.emittedEvents = [];
		for (const sub of this.#subscriptions) sub.live = false;
		this.#subscriptions = [];
	}

	/** The events emitted, all or of one name (a copy). */
	getEmittedEvents(name) {
		if (name === undefined) return [...this.emittedEvents];
		return this.emittedEvents.filter((event) => event.name === name);
	}
}
