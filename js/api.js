// The package's public surface, shared by the browser and Node entry points.

import { EventBus } from './bus.js';

export { EventBus, MAX_EMIT_DEPTH } from './bus.js';
export { MockEventBus } from './mock.js';
export { EmitDepthError, UnknownEventError, ValidationError } from './errors.js';
export { configure } from './probe.js';

/**
 * The seed's `EventBusFactory.create`: `'memory'` is the in-browser bus; a
 * transport (`{ source, attach(link) }`, see docs/transports.md) gives an
 * in-browser bus with that transport attached. Any other type throws.
 * @param {any} [type]
 * @param {object} [options]
 */
export function createEventBus(type = 'memory', options) {
	if (type === 'memory') return new EventBus(options);
	if (typeof type === 'object' && type !== null && typeof type.attach === 'function') {
		const bus = new EventBus(options);
		bus.attach(type);
		return bus;
	}
	throw new Error(`Unknown event bus type: ${String(type)} (this build provides 'memory', or pass a transport { source, attach(link) })`);
}
