// The package's public surface, shared by the browser and Node entry points.

import { EventBus } from './bus.js';
import { registerEvents } from './define.js';

export { EventBus, MAX_EMIT_DEPTH } from './bus.js';
export { MockEventBus } from './mock.js';
export { defineEvents } from './define.js';
export { EmitDepthError, UnknownEventError, ValidationError } from './errors.js';

/**
 * The seed's `EventBusFactory.create`: `'memory'` is the in-browser bus;
 * any other type throws. `options.events` (from `defineEvents`) registers
 * the app's own events on the new bus.
 */
export function createEventBus(type = 'memory', options) {
	if (type !== 'memory') throw new Error(`Unknown event bus type: ${String(type)} (this build provides 'memory')`);
	if (options === null || typeof options !== 'object' || options.events === undefined) return new EventBus(options);
	const { events, ...rest } = options;
	const bus = new EventBus(rest);
	registerEvents(bus, events);
	return bus;
}
