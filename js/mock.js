// The seed's MockEventBus, for unit tests of code that emits: it records
// what is emitted and calls no handler.

import { describe } from './errors.js';

const unsubscribe = () => {};

export class MockEventBus {
	/** Every `{ name, payload }` emitted, oldest first. */
	emittedEvents = [];

	emit(name, payload) {
		if (typeof name !== 'string' || name === '') {
			throw new TypeError(`kaiwa-bus: MockEventBus.emit(): the name must be a non-empty string, got ${describe(name)}`);
		}
		this.emittedEvents.push({ name, payload });
	}

	on() {
		return unsubscribe;
	}

	once() {
		return unsubscribe;
	}

	off() {}

	clear() {
		this.emittedEvents = [];
	}

	/** The events emitted, all or of one name (a copy). */
	getEmittedEvents(name) {
		if (name === undefined) return [...this.emittedEvents];
		return this.emittedEvents.filter((event) => event.name === name);
	}
}
