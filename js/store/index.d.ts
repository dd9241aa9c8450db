// Types of `kaiwa-bus/store`, the seed's Event Store.

import type { KaiwaEvents } from '../core/events.js';
import type { EmittedPayload, EventBus, EventBusOptions, EventDefinitions, Status, ValidationIssue } from '../index.js';
import type { PassedOn } from '../core/wrap.js';

/** Where a record came from: this page, another tab, the relay, a store after a reload, or the devtools panel (an emit, a replay). */
export type EventSource = 'local' | 'tab' | 'remote' | 'restored' | 'devtools' | 'replay';

/** The version of a stored event's shape; records of another version are skipped when read. */
export declare const STORED_EVENT_VERSION: 1;

/** One stored event: a history record plus what a store finds it by. */
export interface StoredEvent {
	/** The shape's version (STORED_EVENT_VERSION). */
	v: 1;
	/** Unique across tabs and sessions: an event offered twice is stored once. */
	eid: string;
	/** Given by the store, increasing in the order of appends. */
	seq: number;
	/** The bus's record id, when it came from a bus. */
	id: number | null;
	name: string;
	payload: unknown;
	timestamp: Date;
	source: EventSource;
	status: Status;
	handlerCount: number;
	durationMs: number | null;
	errors: string[];
	issues: ValidationIssue[];
	/** The payload's string `userId`, or null. */
	userId: string | null;
	/** The relay's offset, for events that went through it. */
	offset: string | null;
}

/** What a caller hands a store: a history record, or the seed's bare `{ name, payload }`. */
export interface EventInput {
	name: string;
	payload?: unknown;
	timestamp?: Date | string | number;
	source?: EventSource;
	status?: Status;
	eid?: string;
	id?: number;
	handlerCount?: number;
	durationMs?: number | null;
	errors?: string[];
	issues?: ValidationIssue[];
	offset?: string;
}

/** What to read; every field is optional. Times are inclusive. */
export interface StoreFilter {
	name?: string;
	/** 'auth.*', '*', or an exact name. */
	pattern?: string;
	userId?: string;
	since?: Date | number;
	until?: Date | number;
	/** Events appended after this seq. */
	afterSeq?: number;
	eid?: string;
	/** At most this many (from 1 up). */
	limit?: number;
	/** With `limit`: the newest ones (still returned oldest first). */
	newest?: boolean;
}

/** What a store keeps when it trims; either limit is optional. */
export interface Retention {
	maxEvents?: number;
	maxAgeMs?: number;
}

/** What every store promises. */
export interface EventStore {
	readonly kind: 'memory' | 'indexeddb';
	/** What `trim()` keeps by default (Infinity for no limit). */
	readonly retain?: Required<Retention>;
	/** The seed's call. */
	storeEvent(name: string, payload: unknown): Promise<StoredEvent>;
	/** Stores a batch, all or nothing, in order; an eid already stored is skipped. Resolves with what it stored now. */
	append(events: Iterable<EventInput>): Promise<StoredEvent[]>;
	/** Oldest first. */
	read(filter?: StoreFilter): Promise<StoredEvent[]>;
	count(filter?: StoreFilter): Promise<number>;
	/** Drops what is past the retention; resolves with how many. */
	trim(retain?: Retention): Promise<number>;
	clear(): Promise<void>;
	close(): void;
}

/** An EventStore in this page's memory: for tests, Node, and the fallback when IndexedDB fails. */
export interface MemoryEventStore extends EventStore {}
export declare class MemoryEventStore implements EventStore {
	/** `retain.maxEvents` defaults to 100,000 and bounds the store as it appends. */
	constructor(options?: { retain?: Retention });
	readonly kind: 'memory';
}

export interface IndexedDbEventStoreOptions {
	/** The database name; default 'kaiwa-bus'. */
	name?: string;
	/** The IndexedDB to use; default the global one (Node tests pass fake-indexeddb's). */
	indexedDB?: IDBFactory;
	/** What `trim()` keeps by default. */
	retain?: Retention;
	/** How long opening may take before calls fail as 'unavailable'; default 5000. */
	openTimeoutMs?: number;
}

/** An EventStore on IndexedDB (one record per written batch; see docs/store.md). */
export interface IndexedDbEventStore extends EventStore {}
export declare class IndexedDbEventStore implements EventStore {
	constructor(options?: IndexedDbEventStoreOptions);
	readonly kind: 'indexeddb';
	/** Stored records this version could not read, skipped. */
	readonly skipped: number;
	/** Resolves once the database is usable; rejects with a StoreError. */
	open(): Promise<void>;
}

/** A store failure, by kind: what a caller can act on. */
export declare class StoreError extends Error {
	/** `message` is prefixed with 'kaiwa-bus store: '; `cause` is the browser's own error. */
	constructor(kind: StoreError['kind'], message: string, cause?: unknown);
	readonly name: 'StoreError';
	readonly kind: 'unavailable' | 'blocked' | 'quota' | 'closed' | 'failed';
}

export declare function matchesPattern(pattern: string, name: string): boolean;

/** Where records go now: IndexedDB, memory, or memory because IndexedDB failed (with the reason). */
export interface Persistence {
	kind: 'indexeddb' | 'memory' | 'memory-fallback' | string;
	reason: string | null;
}

export interface PersistentBusOptions {
	/**
	 * 'batched' (default): `emit` dispatches at once and the records of a task
	 * are written together when it ends (`flush()` resolves when they are
	 * durable). 'store-first': `emit` returns a promise; the event is stored,
	 * then dispatched.
	 */
	durability?: 'batched' | 'store-first';
	/** How many stored records come back into the history; default the bus's historyLimit. */
	restore?: number;
}

/**
 * The seed's PersistentEventBus: a bus whose records are also stored, and
 * come back after a reload marked `source: 'restored'`. Every EventBus
 * method is there; `emit` returns a promise in 'store-first'.
 */
export interface PersistentEventBus<E extends object = KaiwaEvents> extends PassedOn<E> {}
export declare class PersistentEventBus<E extends object = KaiwaEvents> {
	constructor(bus: EventBus<E>, store: EventStore, options?: PersistentBusOptions);
	readonly bus: EventBus<E>;
	readonly durability: 'batched' | 'store-first';
	/** What the store keeps (Infinity for no limit), or null if the store does not say. */
	readonly retention: Required<Retention> | null;
	readonly persistence: Persistence;
	/** Resolves once the stored records are back in the history (or the bus went on in memory). */
	readonly ready: Promise<void>;
	/** 'batched': dispatches now and returns nothing; 'store-first': resolves once stored and dispatched. */
	emit<N extends keyof E & string>(name: N, payload: EmittedPayload<E[N]>): void | Promise<void>;
	/** Removes every stored record. */
	clearStored(): Promise<void>;
	/** Resolves when every record so far is stored. */
	flush(): Promise<void>;
	/** How many events the store holds (null if the store cannot count). */
	storedCount(): Promise<number | null>;
	/** Stored events matching the filter, oldest first, read a page at a time. */
	replay(filter?: StoreFilter): AsyncIterableIterator<StoredEvent>;
}

/** The options of createPersistentBus besides the bus options. */
export interface PersistentStoreOptions extends PersistentBusOptions {
	/** The database; default 'kaiwa-bus'. */
	name?: string;
	/** What the store keeps (applied in idle time). */
	retain?: Retention;
	/** The IndexedDB to use; default the global one (Node tests pass fake-indexeddb's). */
	indexedDB?: IDBFactory | null;
	/** How long opening may take before the bus goes on in memory; default 5000. */
	openTimeoutMs?: number;
}

/** The event map of a bus: an EventBus's, or that of the EventBus a relay or broadcast bus wraps. */
type EventsOfBus<B> = B extends EventBus<infer E> ? E : B extends { readonly bus: EventBus<infer E> } ? E : KaiwaEvents;

/**
 * A PersistentEventBus on IndexedDB (database `name`, default 'kaiwa-bus'), on a new EventBus made with the bus
 * options (typed with `events`, only them with `catalog: false`), or on `bus`, one made elsewhere with its own
 * options: `createPersistentBus({ name, bus: createRelayBus({ url, events, … }) })`.
 */
export declare function createPersistentBus<B extends EventBus<any> | { readonly bus: EventBus<any> }>(options: PersistentStoreOptions & { bus: B }): PersistentEventBus<EventsOfBus<B>>;
export declare function createPersistentBus<M extends object>(options: PersistentStoreOptions & EventBusOptions & { events: EventDefinitions<M>; catalog: false }): PersistentEventBus<M>;
export declare function createPersistentBus<M extends object>(options: PersistentStoreOptions & EventBusOptions & { events: EventDefinitions<M> }): PersistentEventBus<KaiwaEvents & M>;
export declare function createPersistentBus<E extends object = KaiwaEvents>(options?: PersistentStoreOptions & EventBusOptions): PersistentEventBus<E>;
