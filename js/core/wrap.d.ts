// Types shared by the buses that wrap an EventBus (kaiwa-bus/store, kaiwa-bus/relay).

import type { EventBus } from '../index.js';

/** The EventBus members a wrapping bus (persistent, relay, broadcast) passes on unchanged. */
export type PassedOn<E extends object> = Pick<
	EventBus<E>,
	| 'mode'
	| 'historyLimit'
	| 'timing'
	| 'on'
	| 'once'
	| 'off'
	| 'clear'
	| 'clearHistory'
	| 'getEventHistory'
	| 'getRecentEvents'
	| 'getEventFlow'
	| 'onRecord'
	| 'getHandlerCount'
	| 'getEventsByName'
	| 'getEventPerformanceStats'
	| 'getPerformanceStats'
	| 'registerSchema'
	| 'getSchema'
	| 'getSchemaNames'
	| 'validate'
	| 'validateEvent'
>;

// The helpers js/core/wrap.js shares with the wrapping buses (not an entry point
// of the package: typed for the JS static check).
export declare const PASSED_ON: readonly string[];
export declare function passOn(Wrapper: abstract new (...args: any[]) => object, methods?: readonly string[]): void;
export declare function report(method: 'log' | 'warn' | 'error', ...args: unknown[]): void;
export declare function notifyAll<A extends unknown[]>(listeners: Iterable<(...args: A) => unknown>, args: A, what: string): void;
