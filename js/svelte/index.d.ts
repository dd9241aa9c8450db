// Types of kaiwa-bus/svelte (svelte.js).

import type { EventBus, EventBusOptions, EventDefinitions, EventHandler, KaiwaEvents, NamesOf, Pattern, PayloadOf, Unsubscribe } from '../index.js';

/**
 * In the root layout: creates this app's bus, puts it in Svelte context and
 * returns it. With `events` from `defineEvents`, their schemas are
 * registered and the bus is typed with them. During SSR the bus is a
 * stand-in for that render (a MockEventBus: emits recorded, no handler
 * called).
 */
export declare function provideBus<M extends object>(options: EventBusOptions & { events: EventDefinitions<M>; catalog: false }): EventBus<M>;
export declare function provideBus<M extends object>(options: EventBusOptions & { events: EventDefinitions<M> }): EventBus<KaiwaEvents & M>;
export declare function provideBus<E extends object = KaiwaEvents>(options?: EventBusOptions): EventBus<E>;
/**
 * In the root layout: puts the bus `create` returns in context (called in the browser only: during SSR the bus is
 * the stand-in), closes it when the layout goes, and returns it: `provideBus(() => createRelayBus({ … }))`.
 */
export declare function provideBus<B extends AnyBus>(create: () => B): B;
/** In the root layout: puts a bus made elsewhere (a RelayBus, a PersistentEventBus) in context, and returns it. */
export declare function provideBus<B extends AnyBus>(bus: B): B;

/** Anything with the bus's `emit` and `on`: an EventBus, a RelayBus, a PersistentEventBus… */
type AnyBus = { emit(name: string, payload: any): unknown; on(pattern: string, handler: (...args: any[]) => unknown): unknown };

/**
 * The bus of the nearest provideBus(), usable at once (in the script, in
 * onMount, in $effect, in event handlers). Call it while the component
 * initialises. `E` is the event map; by default the catalog plus what
 * declaration merging adds to KaiwaEvents.
 */
export declare function useBus<E extends object = KaiwaEvents>(): EventBus<E>;

/**
 * Subscribes `handler` for the component's lifetime (unsubscribed when it is
 * destroyed); returns the unsubscribe function. Never called on the server.
 */
export declare function onEvent<E extends object = KaiwaEvents, P extends Pattern<E> = Pattern<E>>(
	pattern: P,
	handler: EventHandler<PayloadOf<E, P>, NamesOf<E, P>>
): Unsubscribe;
