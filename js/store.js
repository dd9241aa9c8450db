// `kaiwa-bus/store`: the seed's Event Store. A store keeps events (history
// records) beyond the bus's in-memory history: MemoryEventStore in this page
// only, IndexedDbEventStore in IndexedDB, so that they survive a reload.
// Both have the same methods (EventStore in store.d.ts).

export { MemoryEventStore } from './memory-store.js';
export { IndexedDbEventStore } from './indexeddb-store.js';
export { STORED_EVENT_VERSION, StoreError, matchesPattern } from './stored-event.js';
