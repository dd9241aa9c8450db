// Types shared by the buses that wrap an EventBus (kaiwa-bus/store, kaiwa-bus/relay).

import type { EventBus } from './index.js';

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
