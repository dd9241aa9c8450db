// Types of the kaiwa-bus package. The catalog's event map (KaiwaEvents) is
// generated from the Rust catalog into core/events.d.ts.

import type { EventDefinitions } from './core/define.js';
import type { KaiwaEvents } from './core/events.js';

export { defineEvents } from './core/define.js';
export type { DescriptorType, EventDefinition, EventDefinitions, EventMapOf, EventsOf, PayloadFromDescriptors } from './core/define.js';
export * from './core/events.js';

/** 'development' delivers unknown events with a warning; 'strict' refuses them. */
export type Mode = 'development' | 'strict';

/**
 * The options every bus takes: `new EventBus()`, `createEventBus()`,
 * `createBroadcastBus()`, `createRelayBus()`, `createPersistentBus()` and
 * `provideBus()` (the factories type the bus with `events`).
 */
export interface EventBusOptions {
	/** Your events, from `defineEvents`: their schemas are registered, so strict mode accepts them and remote Dates arrive as Dates. */
	events?: EventDefinitions<object>;
	/** Default 'development'. */
	mode?: Mode;
	/** Records kept in the history; 0 keeps none. Default 1000. */
	historyLimit?: number;
	/** Register the seed's 21-event catalog. Default true. */
	catalog?: boolean;
	/**
	 * Which emits are timed (a clock read costs more than a whole emit of a
	 * plain emitter). 'sampled' (default): the first emit of every task, then
	 * one in 32 while the task keeps emitting. 'every': all of them.
	 */
	timing?: 'sampled' | 'every';
}

/** What a handler learns about the event besides its payload. */
export interface EventMeta<N extends string = string> {
	name: N;
	/** The history record id. */
	id: number;
	/** When the emit started. */
	timestamp: Date;
	/** 'local' for an emit of this page, or the `source` of the transport that handed the event in. */
	source: 'local' | (string & {});
	/** What the transport that handed the event in gave as its offset; undefined for local emits. */
	offset?: unknown;
}

/**
 * A handler may return anything (`p => p.email` and `p => list.push(p)` are
 * fine); a returned promise that rejects is reported like a throw.
 */
export type EventHandler<P = unknown, N extends string = string> = (payload: P, meta: EventMeta<N>) => unknown;

/** Stops a subscription; calling it again does nothing. */
export type Unsubscribe = () => void;

type Names<E> = keyof E & string;
type Prefixes<K extends string> = K extends `${infer Head}.${infer Tail}` ? Head | `${Head}.${Prefixes<Tail>}` : never;

/** What `on` accepts: an event name, '*', or 'prefix.*' ('auth.*', 'auth.user.*'). */
export type Pattern<E> = Names<E> | '*' | `${Prefixes<Names<E>>}.*`;

/** The event names a pattern matches. */
export type NamesOf<E, P extends string> = P extends '*'
	? Names<E>
	: P extends `${infer Prefix}.*`
		? Extract<Names<E>, `${Prefix}.${string}`>
		: P;

/** The payload type a handler of `P` receives. */
export type PayloadOf<E, P extends string> = string extends Names<E>
	? E[keyof E]
	: NamesOf<E, P> extends infer N extends keyof E
		? E[N]
		: never;

/**
 * What `emit` takes for an event: its declared fields, plus any others.
 * Fields not in the schema are allowed and kept at run time, and the types
 * say the same (so a typo in an optional field's name is not caught).
 */
export type EmittedPayload<T> = T & { readonly [field: string]: unknown };

/**
 * What a feature needs from a bus: `EventBus` and `MockEventBus` both
 * implement it, so code typed with `Bus` takes either (tests pass a mock).
 */
export interface Bus<E extends object = KaiwaEvents> {
	emit<N extends Names<E>>(name: N, payload: EmittedPayload<E[N]>): void;
	on<P extends Pattern<E>>(pattern: P, handler: EventHandler<PayloadOf<E, P>, NamesOf<E, P>>): Unsubscribe;
	once<P extends Pattern<E>>(pattern: P, handler: EventHandler<PayloadOf<E, P>, NamesOf<E, P>>): Unsubscribe;
	off<P extends Pattern<E>>(pattern: P, handler: EventHandler<PayloadOf<E, P>, NamesOf<E, P>>): void;
	getHandlerCount(pattern: Pattern<E>): number;
	clear(): void;
}

export type Status = 'delivered' | 'failed' | 'rejected';

/** One mismatch between a payload and its schema. */
export interface ValidationIssue {
	/** '' for the payload itself, 'userId', or 'wordsLearned[2]'. */
	path: string;
	/** In descriptor notation: 'string', 'Date', "'a' | 'b'"... */
	expected: string;
	received: string;
}

/** One emit attempt, as the history keeps it. */
export interface EventRecord {
	/** Increasing from 1. */
	id: number;
	name: string;
	/** The emitted object itself (not a copy). */
	payload: unknown;
	timestamp: Date;
	status: Status;
	handlerCount: number;
	/** Validation plus dispatch, in ms; null when the emit was not timed (see `timing`) or was rejected. */
	durationMs: number | null;
	/** Handler failures, or the refusal reason for a rejected record. */
	errors: string[];
	/** Validation issues of a rejected payload. */
	issues: ValidationIssue[];
	/** The `source` of the transport that handed the event in; absent for this page's emits ('local'). */
	source?: string;
}

/** What a transport gets from `bus.attach(transport)`. See docs/transports.md. */
export interface TransportLink {
	readonly source: string;
	readonly bus: EventBus<any>;
	/** Hands the bus an event from elsewhere: validated again, recorded and delivered with its source; throws what `emit` throws. */
	receive(name: string, payload: unknown, extra?: { offset?: unknown }): void;
	/** Subscribes; the handler never gets back the events this link handed in. */
	on(pattern: string, handler: EventHandler): Unsubscribe;
}

/** A transport or a store: `source` names where its events come from ('tab', 'remote', 'restored'…). */
export interface Transport {
	readonly source: string;
	attach(link: TransportLink): void | (() => void);
}

export type RecordChange = 'added' | 'updated' | 'cleared';

/** Durations in ms, over the timed dispatches; null if none was timed. */
export interface PerformanceStats {
	/** Dispatches (delivered or failed). */
	count: number;
	/** How many of them were timed (see `timing`). */
	timedCount: number;
	averageDuration: number | null;
	minDuration: number | null;
	maxDuration: number | null;
}

/**
 * A payload field type in the seed's descriptor notation: 'string',
 * 'number', 'boolean', 'Date', 'string[]', 'object', 'any', or a union of
 * quoted strings such as "'traditional' | 'realtime'"; a trailing '?' makes
 * the field optional.
 */
export type FieldDescriptor = string;

/**
 * Who receives an event through kaiwa-relay (relay/PROTOCOL.md, "Who sees what"):
 * - `'user'` (the default): the publishing user's own connections (every tab and
 *   device of the token's `sub`); when an admin token publishes, the user the
 *   payload's `userId` names.
 * - `'all'`: every connection whose token may subscribe to the event's name.
 * - `'group'`: the connections whose token lists the payload's `groupId` in its
 *   `groups` claim (a chat room, a team, a shared document); such an event needs
 *   a required `groupId: 'string'` field.
 *
 * Admin tokens see every event. The bus itself delivers every event to every
 * handler of the page, whatever its audience.
 */
export type Audience = 'user' | 'all' | 'group';

/** The seed's EventSchema, without `validate` (validation is compiled from `payload`). */
export interface EventSchema {
	name: string;
	/** MAJOR.MINOR.PATCH; registering a name again needs a higher version. */
	version: string;
	description: string;
	/** Who receives it through the relay; `'user'` when left out (getSchema always says). */
	audience?: Audience;
	payload: Record<string, FieldDescriptor>;
}

export interface ValidationResult {
	ok: boolean;
	/** Whether the event has a schema. */
	known: boolean;
	issues: ValidationIssue[];
}

export declare class EventBus<E extends object = KaiwaEvents> implements Bus<E> {
	constructor(options?: EventBusOptions);
	readonly mode: Mode;
	readonly historyLimit: number;
	readonly timing: 'sampled' | 'every';

	emit<N extends Names<E>>(name: N, payload: EmittedPayload<E[N]>): void;
	on<P extends Pattern<E>>(pattern: P, handler: EventHandler<PayloadOf<E, P>, NamesOf<E, P>>): Unsubscribe;
	once<P extends Pattern<E>>(pattern: P, handler: EventHandler<PayloadOf<E, P>, NamesOf<E, P>>): Unsubscribe;
	off<P extends Pattern<E>>(pattern: P, handler: EventHandler<PayloadOf<E, P>, NamesOf<E, P>>): void;
	/** Removes every handler, the history and the statistics. Schemas stay. */
	clear(): void;
	clearHistory(): void;

	getHandlerCount(pattern: Pattern<E>): number;
	getEventHistory(): EventRecord[];
	getRecentEvents(limit?: number): EventRecord[];
	getEventsByName(name: Names<E>): EventRecord[];
	getEventFlow(userId: string): EventRecord[];
	getEventPerformanceStats(name: Names<E>): PerformanceStats | null;
	/** A null-prototype object keyed by event name. */
	getPerformanceStats(): Record<string, PerformanceStats>;
	onRecord(listener: (record: EventRecord | null, change: RecordChange) => void): Unsubscribe;

	registerSchema(schema: EventSchema): void;
	getSchema(name: string): EventSchema | undefined;
	getSchemaNames(): string[];
	validate(name: string, payload: unknown): ValidationResult;
	validateEvent<N extends Names<E>>(name: N, payload: unknown): payload is E[N];
	/** Connects a transport or a store; returns detach(). */
	attach(transport: Transport): () => void;
	/** Detaches every transport and releases everything the bus holds; later calls throw. */
	dispose(): void;
}

/** Thrown by `emit` when the payload does not match the schema. */
export declare class ValidationError extends Error {
	constructor(message: string, event: string, issues: ValidationIssue[]);
	readonly name: 'ValidationError';
	readonly event: string;
	readonly issues: ValidationIssue[];
}

/** Thrown by `emit` in strict mode for an event without a schema or with a bad name. */
export declare class UnknownEventError extends Error {
	constructor(message: string, event: string);
	readonly name: 'UnknownEventError';
	readonly event: string;
}

/** Thrown by `emit` when handlers nest emits more than MAX_EMIT_DEPTH deep. */
export declare class EmitDepthError extends RangeError {
	constructor(message: string, event: string);
	readonly name: 'EmitDepthError';
	readonly event: string;
}

export declare const MAX_EMIT_DEPTH: 64;

/**
 * The seed's EventBusFactory.create: 'memory', or a transport to attach to
 * a new in-browser bus (docs/transports.md). With `events` (from `defineEvents`), their schemas are registered
 * and the bus is typed with the catalog plus them (them only with
 * `catalog: false`).
 */
export declare function createEventBus<M extends object>(
	type: 'memory' | Transport,
	options: EventBusOptions & { events: EventDefinitions<M>; catalog: false }
): EventBus<M>;
export declare function createEventBus<M extends object>(type: 'memory' | Transport, options: EventBusOptions & { events: EventDefinitions<M> }): EventBus<KaiwaEvents & M>;
export declare function createEventBus<E extends object = KaiwaEvents>(type?: 'memory' | Transport, options?: EventBusOptions): EventBus<E>;
/**
 * 'broadcast' and 'redis' once `kaiwa-bus/relay` is imported, 'persistent'
 * once `kaiwa-bus/store` is: the bus their createBroadcastBus,
 * createRelayBus and createPersistentBus make (which carry the full types).
 */
export declare function createEventBus<E extends object = KaiwaEvents>(type: 'broadcast' | 'redis' | 'persistent', options?: EventBusOptions & Record<string, unknown>): Bus<E>;

/** Package-wide settings. `jitless: true`: never compile payload readers with `new Function` (strict CSP). */
export declare function configure(options: { jitless?: boolean }): void;

/**
 * The seed's testing utility: records emits and, by default, calls no
 * handler; `{ deliver: true }` calls the handlers subscribed with on/once.
 * It implements `Bus`, so it goes wherever a feature takes a `Bus`.
 */
export interface MockEventBus<E extends object = KaiwaEvents> extends Bus<E> {}
export declare class MockEventBus<E extends object = KaiwaEvents> {
	constructor(options?: { deliver?: boolean });
	emittedEvents: Array<{ name: string; payload: unknown }>;
	getEmittedEvents(name?: string): Array<{ name: string; payload: unknown }>;
}

/**
 * Loads the WebAssembly module. Browsers: once before the first bus (not
 * needed with `kaiwa-bus/inline`). Node: optional, the first bus compiles
 * it; `init()` does so now and rejects if the `.wasm` is missing.
 * Idempotent and safe to call concurrently. `input` defaults to the .wasm
 * file next to the module; with Vite, pass
 * `import wasmUrl from 'kaiwa-bus/kaiwa_bus_bg.wasm?url'`.
 */
export declare function init(input?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
export default init;
