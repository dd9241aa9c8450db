// Types of `kaiwa-bus/relay`: a bus connected to kaiwa-relay (relay/PROTOCOL.md).

import type { KaiwaEvents } from '../core/events.js';
import type { EmittedPayload, EventBus, EventBusOptions, EventDefinitions, ValidationIssue } from '../index.js';
import type { PassedOn } from '../core/wrap.js';

/** Where the relay connection stands. */
export interface RelayConnectionStatus {
	state: 'connecting' | 'open' | 'closed';
	/** The relay log's identity; it changes when the relay lost its log. */
	epoch: string | null;
	/** The offset of the last event received (the resume position). */
	offset: string | null;
	/** Events emitted here that the relay has not acknowledged yet. */
	outbox: number;
	/** Why the last connection ended, if it was not asked to. */
	error: string | null;
	/**
	 * What the relay takes, from its welcome (null before it, or from a relay that does not say): bytes of
	 * payload JSON, of a whole frame, of a ref. An emit over them rejects with a RelayError of kind 'too-large'
	 * and is never sent.
	 */
	limits: RelayLimits | null;
}

/** A relay's limits, in bytes (relay/PROTOCOL.md, `welcome`). */
export interface RelayLimits {
	payload: number;
	frame: number;
	ref: number;
}

/** A tab's view of the connection: the socket (its own or the leader tab's), and whether this tab leads. */
export type RelayBusConnection = RelayConnectionStatus & { leader: boolean };

/** A resume the relay could not honour: events after `lostAfter` were missed. */
export interface RelayGap {
	epoch: string;
	offset: string;
	lostAfter: string | null;
	at: Date;
}

export interface RelayOptions {
	/** ws://host:port/v1/ws */
	url: string;
	/** A JWT the app signed; null for a relay started with --insecure-dev. */
	token?: string | null;
	/** Called before each connect, before the token expires, and after a 4001. */
	getToken?: () => string | null | Promise<string | null>;
	/** Patterns to receive; default ['*']. */
	subscribe?: string[];
	/** The WebSocket class; default the global one (Node 20: pass the `ws` package's). */
	WebSocket?: unknown;
	/**
	 * Who this bus connects as (a user id, 'admin', …): tabs share a socket only with tabs of the same url,
	 * identity and subscribe patterns. Default: a static token's `sub` and `admin` claims. Required with getToken
	 * in a browser (unless `share: false`): the bus cannot know whose tokens getToken will give before it has one.
	 */
	identity?: string;
	/** Share one socket between the tabs of this origin (a leader elected with Web Locks); default true. */
	share?: boolean;
	/** Where unacknowledged events wait: 'memory' (default) or 'indexeddb' (they survive the tab closing, and the next page sends them). */
	outbox?: 'memory' | 'indexeddb';
	/** The outbox's database name; default 'kaiwa-bus-outbox'. */
	outboxName?: string;
	/** The IndexedDB for the outbox; default the global one. */
	indexedDB?: IDBFactory;
}

/** A relay's refusal of an event, or the connection's end. */
export declare class RelayError extends Error {
	constructor(kind: RelayError['kind'], message: string, issues?: ValidationIssue[]);
	readonly name: 'RelayError';
	readonly kind: 'validation' | 'unknown' | 'forbidden' | 'too-large' | 'rate' | 'unavailable' | 'malformed' | 'stale' | 'closed';
	readonly issues: ValidationIssue[];
	/** From kaiwa-bus/server's publish: every event's answer (the events not refused were stored). */
	readonly results?: Array<{ offset: string } | { refused: { kind: string; message: string; issues: ValidationIssue[] } }>;
}

/** A bus whose events also travel through kaiwa-relay. Every EventBus method is there. */
export interface RelayBus<E extends object = KaiwaEvents> extends PassedOn<E> {}
export declare class RelayBus<E extends object = KaiwaEvents> {
	constructor(bus: EventBus<E>, options: RelayOptions);
	readonly bus: EventBus<E>;
	/** This tab's view: the socket's status (its own or the leader tab's), its unacknowledged events, whether it leads. */
	readonly connection: RelayBusConnection;
	/** Resolves once the events an earlier page left in the outbox are queued again. */
	readonly ready: Promise<void>;
	readonly gaps: RelayGap[];
	/**
	 * Dispatches locally now (throwing as EventBus.emit does); the task's publishes are serialized
	 * and sent once it ends. Resolves with the relay's offset once stored.
	 */
	emit<N extends keyof E & string>(name: N, payload: EmittedPayload<E[N]>): Promise<{ offset: string }>;
	/** Called once per task whose work changed the connection (state, offset, outbox), and at once with each gap (also recorded as a `kaiwa.relay.gap` event). */
	onConnection(listener: (connection: RelayBusConnection, gap?: RelayGap) => void): () => void;
	close(): void;
}

/** A RelayBus on a new EventBus: the relay options plus the bus options; typed with `events` (only them with `catalog: false`). */
export declare function createRelayBus<M extends object>(options: RelayOptions & EventBusOptions & { events: EventDefinitions<M>; catalog: false }): RelayBus<M>;
export declare function createRelayBus<M extends object>(options: RelayOptions & EventBusOptions & { events: EventDefinitions<M> }): RelayBus<KaiwaEvents & M>;
export declare function createRelayBus<E extends object = KaiwaEvents>(options: RelayOptions & EventBusOptions): RelayBus<E>;

/** The payload with its schema's Date fields turned from ISO strings back into Dates (in place). */
export declare function reviveDates<T>(bus: EventBus<any>, name: string, payload: T): T;

/** Publishes from server code over HTTP: one `{ offset }` or `{ refused }` per event, in order. */
export declare function publish(
	url: string,
	token: string,
	events: Array<{ name: string; payload: unknown; ref?: string }>
): Promise<Array<{ offset: string } | { refused: { kind: string; message: string; issues: ValidationIssue[] } }>>;

/** A bus whose events reach the other tabs of this origin over a BroadcastChannel. Every EventBus method is there. */
export interface BroadcastBus<E extends object = KaiwaEvents> extends PassedOn<E> {}
export declare class BroadcastBus<E extends object = KaiwaEvents> {
	constructor(bus: EventBus<E>, options?: BroadcastOptions);
	readonly bus: EventBus<E>;
	readonly tab: string;
	readonly stats: { received: number; refused: number };
	emit: EventBus<E>['emit'];
	close(): void;
}

/** The options of createBroadcastBus besides the bus options. */
export interface BroadcastOptions {
	/** The BroadcastChannel name; default 'kaiwa-bus'. */
	channel?: string;
	/** The BroadcastChannel class; default the global one. */
	BroadcastChannel?: typeof BroadcastChannel;
}

/** A BroadcastBus on a new EventBus: the bus options plus `channel`; typed with `events` (only them with `catalog: false`). */
export declare function createBroadcastBus<M extends object>(options: BroadcastOptions & EventBusOptions & { events: EventDefinitions<M>; catalog: false }): BroadcastBus<M>;
export declare function createBroadcastBus<M extends object>(options: BroadcastOptions & EventBusOptions & { events: EventDefinitions<M> }): BroadcastBus<KaiwaEvents & M>;
export declare function createBroadcastBus<E extends object = KaiwaEvents>(options?: BroadcastOptions & EventBusOptions): BroadcastBus<E>;
