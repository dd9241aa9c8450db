// Types of defineEvents (define.js): the payload types of an app's events,
// derived by the type system from the same descriptor strings the bus
// compiles into validators ('string?' is an optional string, "'a' | 'b'"
// the literal union, 'Date' a Date).

import type { Audience, EventSchema } from '../index.js';

type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R> : S extends `${infer R} ` ? Trim<R> : S;

type Literal<S extends string> = Trim<S> extends `'${infer L}'` ? L : Trim<S> extends `"${infer L}"` ? L : never;
type Literals<S extends string> = S extends `${infer Head}|${infer Rest}` ? Literal<Head> | Literals<Rest> : Literal<S>;

/** The TypeScript type of a descriptor without its '?'. */
type Plain<D extends string> = D extends 'string'
	? string
	: D extends 'number'
		? number
		: D extends 'boolean'
			? boolean
			: D extends 'Date'
				? Date
				: D extends 'string[]'
					? string[]
					: D extends 'object' | 'Record<string, any>'
						? Record<string, any>
						: D extends 'any'
							? any
							: D extends `'${string}` | `"${string}`
								? Literals<D>
								: never;

type Optional<D> = D extends `${string}?` ? true : false;

/** The TypeScript type of a field descriptor such as 'string', 'Date?' or "'a' | 'b'". */
export type DescriptorType<D extends string> = D extends `${infer T}?` ? Plain<Trim<T>> : Plain<Trim<D>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The payload type of a record of field descriptors. */
export type PayloadFromDescriptors<F extends Record<string, string>> = Simplify<
	{ -readonly [K in keyof F as Optional<F[K]> extends true ? never : K]: DescriptorType<F[K]> } & {
		-readonly [K in keyof F as Optional<F[K]> extends true ? K : never]?: DescriptorType<F[K]>;
	}
>;

/**
 * One event: its fields (`{ itemId: 'string' }`, audience `'user'`), or the long
 * form, which may name its audience through the relay (see {@link Audience}).
 */
export type EventDefinition =
	| Record<string, string>
	| { version?: string; description?: string; audience?: Audience; payload: Record<string, string> };

type FieldsOf<D> = D extends { payload: infer P extends Record<string, string> } ? P : D extends Record<string, string> ? D : never;

/** The event map (name → payload type) of a set of definitions. */
export type EventMapOf<D extends Record<string, EventDefinition>> = { [N in keyof D & string]: PayloadFromDescriptors<FieldsOf<D[N]>> };

/** What defineEvents returns: the schemas, typed with their events' payloads. */
export interface EventDefinitions<M extends object = {}> {
	readonly schemas: readonly EventSchema[];
	/** Types only: the event map these definitions give. */
	readonly __events?: M;
}

/** The event map of what defineEvents returned: `EventsOf<typeof events>`. */
export type EventsOf<T> = T extends EventDefinitions<infer M> ? M : never;

/**
 * One definition of an app's own events gives both their types and their
 * runtime schemas (registered by `createEventBus('memory', { events })` and
 * `provideBus({ events })`).
 */
export declare function defineEvents<const D extends Record<string, EventDefinition>>(definitions: D & GroupsNamed<D>): EventDefinitions<EventMapOf<D>>;

/** An `audience: 'group'` event must have a required `groupId: 'string'` field (the group that receives it). */
type GroupsNamed<D> = {
	[N in keyof D]: D[N] extends { audience: 'group'; payload: infer P } ? (P extends { groupId: 'string' } ? D[N] : { payload: { groupId: 'string' } }) : D[N];
};

/** @internal Registers what defineEvents() returned on a bus; used by createEventBus and provideBus. */
export declare function registerEvents(bus: { registerSchema(schema: unknown): void }, events: unknown): void;
