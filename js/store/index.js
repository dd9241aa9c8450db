// `kaiwa-bus/store`: the seed's Event Store. A store keeps events (history
// records) beyond the bus's in-memory history: MemoryEventStore in this page
// only, IndexedDbEventStore in IndexedDB, so that they survive a reload.
// Both have the same methods (EventStore in index.d.ts). PersistentEventBus
// wraps a bus and a store; createPersistentBus makes both. Importing it adds
// 'persistent' to createEventBus, as the seed's factory.

import { addBusType } from '../core/bus-types.js';
import { takeBusOrOptions } from '../core/bus-options.js';
import { IndexedDbEventStore } from './indexeddb.js';
import { PersistentEventBus } from './persistent.js';

export { MemoryEventStore } from './memory.js';
export { IndexedDbEventStore, PersistentEventBus };
export { STORED_EVENT_VERSION, StoreError, matchesPattern } from './stored-event.js';

const STORE_OPTIONS = ['bus', 'name', 'retain', 'indexedDB', 'durability', 'openTimeoutMs', 'restore'];

/**
 * A bus whose records are kept in IndexedDB (database `name`), restored
 * after a reload, and trimmed to `retain`. `indexedDB` replaces the global
 * one (Node tests pass fake-indexeddb's). The bus is a new one made with the
 * bus options (js/core/bus-options.js), or `bus`, one made elsewhere (a relay
 * bus: `createPersistentBus({ name, bus: createRelayBus({ url, events, … }) })`).
 * @param {import('./index.js').PersistentStoreOptions & import('../index.js').EventBusOptions & { bus?: object, events?: unknown, catalog?: boolean }} [options]
 */
export function createPersistentBus(options) {
	const [bus, own] = takeBusOrOptions(options, 'createPersistentBus', STORE_OPTIONS);
	const { name = 'kaiwa-bus', retain = {}, indexedDB = globalThis.indexedDB, durability, openTimeoutMs, restore } = own;
	const store = new IndexedDbEventStore({ name, indexedDB, retain, openTimeoutMs });
	return new PersistentEventBus(bus, store, { durability, restore });
}

addBusType('persistent', createPersistentBus);
