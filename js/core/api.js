// The package's public surface, shared by the browser and Node entry points.

import { EventBus } from './bus.js';
import { PROVIDERS, busTypes } from './bus-types.js';

export { EventBus, MAX_EMIT_DEPTH } from './bus.js';
export { MockEventBus } from './mock.js';
export { defineEvents } from './define.js';
export { EmitDepthError, UnknownEventError, ValidationError } from './errors.js';
export { configure } from './probe.js';

/**
 * The seed's `EventBusFactory.create`: `'memory'` is the in-browser bus;
 * `'broadcast'`, `'redis'` and `'persistent'` once `kaiwa-bus/relay` or
 * `kaiwa-bus/store` is imported; a transport (`{ source, attach(link) }`, see
 * docs/transports.md) gives an in-browser bus with it attached. Any other
 * type throws. `options` are the bus options (js/core/bus-options.js), and for
 * the other types that type's own.
 * @param {any} [type]
 * @param {object} [options]
 */
export function createEventBus(type = 'memory', options) {
	const create = busTypes.get(type);
	if (create) return create(options);
	if (type === 'memory') return new EventBus(options);
	if (typeof type === 'object' && type !== null && typeof type.attach === 'function') {
		const bus = new EventBus(options);
		bus.attach(type);
		return bus;
	}
	const from = Object.hasOwn(PROVIDERS, type) ? PROVIDERS[type] : null;
	if (from) throw new Error(`kaiwa-bus: createEventBus('${type}'): import '${from}' first, which provides it`);
	throw new Error(
		`Unknown event bus type: ${String(type)} (this build provides 'memory', 'broadcast', 'redis', 'persistent', or pass a transport { source, attach(link) })`
	);
}
