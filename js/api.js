// The package's public surface, shared by the browser and Node entry points.

import { EventBus } from './bus.js';
import { registerEvents } from './define.js';

export { EventBus, MAX_EMIT_DEPTH } from './bus.js';
export { MockEventBus } from './mock.js';
export { defineEvents } from './define.js';
export { EmitDepthError, UnknownEventError, ValidationError } from './errors.js';
export { configure } from './probe.js';

/**
 * The seed's `EventBusFactory.create`: `'memory'` is the in-browser bus; a
 * transport (`{ source, attach(link) }`, see docs/transports.md) gives an
 * in-browser bus with that transport attached. Any other type throws.
 * `options.events` (from `defineEvents`) registers the app's own events on
 * the new bus.
 * @param {any} [type]
 * @param {object} [options]
 */
export function createEventBus(type = 'memory', options) {
	const transport = typeof type === 'object' && type !== null && typeof type.attach === 'function' ? type : null;
	if (type !== 'memory' && !transport) {
		throw new Error(`Unknown event bus type: ${String(type)} (this build provides 'memory', or pass a transport { source, attach(link) })`);
	}
	const { events, ...rest } = options !== null && typeof options === 'object' ? options : { events: undefined };
	const bus = new EventBus(options === undefined ? undefined : options !== null && typeof options === 'object' ? rest : options);
	if (events !== undefined) registerEvents(bus, events);
	if (transport) bus.attach(transport);
	return bus;
}
