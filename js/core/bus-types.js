// Bus types that other entries add to createEventBus (api.js), so that the
// core entry does not carry them: 'broadcast' and 'redis' (kaiwa-bus/relay),
// 'persistent' (kaiwa-bus/store). Not part of the core entry's exports: an
// entry of this package registers its types when it is imported.

export const busTypes = new Map();

/** Which entry adds each type, for the error when it was not imported. */
export const PROVIDERS = { broadcast: 'kaiwa-bus/relay', redis: 'kaiwa-bus/relay', persistent: 'kaiwa-bus/store' };

/**
 * Adds a type to createEventBus; the entries that provide one call it when
 * imported. `create(options)` returns the bus.
 * @param {string} type
 * @param {(options: any) => any} create
 */
export function addBusType(type, create) {
	busTypes.set(type, create);
}
