// What the buses that wrap an EventBus (PersistentEventBus, RelayBus,
// BroadcastBus) share: the bus methods and properties they pass on as they are.

/** The EventBus methods a wrapper passes on unchanged, unless it defines its own. */
export const PASSED_ON = [
	'on',
	'once',
	'off',
	'clear',
	'clearHistory',
	'getEventHistory',
	'getRecentEvents',
	'getEventFlow',
	'onRecord',
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

/** The EventBus properties a wrapper reads through. */
const READ_THROUGH = ['mode', 'historyLimit', 'timing'];

/**
 * Gives `Wrapper.prototype` each of `methods` it lacks, calling `this.bus`'s, and the bus's properties.
 * @param {abstract new (...args: any[]) => object} Wrapper
 * @param {readonly string[]} [methods]
 */
export function passOn(Wrapper, methods = PASSED_ON) {
	for (const property of READ_THROUGH) {
		if (Object.hasOwn(Wrapper.prototype, property)) continue;
		Object.defineProperty(Wrapper.prototype, property, {
			get() {
				return this.bus[property];
			},
			configurable: true
		});
	}
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

/** Calls every listener in `listeners` (a copy, so they may come and go) with `args`; one that throws is reported as `what`. */
export function notifyAll(listeners, args, what) {
	for (const listener of [...listeners]) {
		try {
			listener(...args);
		} catch (error) {
			report('error', `kaiwa-bus: ${what} failed:`, error);
		}
	}
}
