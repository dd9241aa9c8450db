// What the buses that wrap an EventBus (PersistentEventBus, RelayBus) share:
// the bus methods they pass on as they are.

/** The EventBus methods a wrapper passes on unchanged. */
export const PASSED_ON = [
	'on',
	'once',
	'off',
	'getHandlerCount',
	'getEventsByName',
	'getEventPerformanceStats',
	'getPerformanceStats',
	'registerSchema',
	'getSchema',
	'getSchemaNames',
	'validate',
	'validateEvent'
];

/** Gives `Wrapper.prototype` each of `methods`, calling `this.bus`'s. */
export function passOn(Wrapper, methods = PASSED_ON) {
	for (const method of methods) {
		if (Object.hasOwn(Wrapper.prototype, method)) continue;
		Object.defineProperty(Wrapper.prototype, method, {
			value: function (...args) {
				return this.bus[method](...args);
			},
			writable: true,
			configurable: true
		});
	}
}

/** Writes to the console without letting a patched console break the bus. */
export function report(method, ...args) {
	try {
		console[method](...args);
	} catch {
		// Nothing left to tell.
	}
}
