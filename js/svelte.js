// kaiwa-bus/svelte: the bus in a Svelte 5 app, for Svelte's context.
//
//   provideBus(options?)      root layout: creates this app's bus, returns it
//   useBus()                  any component below: the same bus, usable at once
//   onEvent(pattern, handler) a component: subscribed for its lifetime
//
// A thin binding, after TanStack Query's Svelte adapter: a private context
// key, no state at module level (nothing is shared between SSR requests),
// and lifetimes adapted to components; the bus itself stays
// framework-free. It builds on kaiwa-bus/inline, whose WebAssembly module is
// ready at import, so the bus works in the component's first line, in
// onMount, $effect and event handlers alike, with no init() and no null.
//
// On the server each render gets a bus of its own, dropped with it; onEvent
// subscribes nothing there, so handlers never run during SSR.

import { getContext, hasContext, onDestroy, setContext } from 'svelte';
import { createEventBus } from './inline.js';

const KEY = Symbol('kaiwa-bus');

const inBrowser = () => typeof window !== 'undefined' && typeof document !== 'undefined';

/**
 * Creates the bus for this app (this render, on the server), puts it in
 * context for every component below, and returns it. Call it in the root
 * layout's `<script>`. `options` are createEventBus's: `mode`,
 * `historyLimit`, `timing`, `catalog`, and `events` from `defineEvents`.
 */
export function provideBus(options) {
	const bus = createEventBus('memory', options);
	setContext(KEY, bus);
	// The layout is gone (an SSR render ended, or a hot reload): let go of
	// the handlers and the history.
	onDestroy(() => bus.clear());
	return bus;
}

/** The bus provideBus() put in context. Call it while a component initialises. */
export function useBus() {
	if (!hasContext(KEY)) {
		throw new Error(
			'kaiwa-bus/svelte: useBus() found no bus. Call provideBus() in the root layout (src/routes/+layout.svelte), ' +
				'and call useBus() and onEvent() while a component below it initialises (at the top of its <script>, not in a callback).'
		);
	}
	return getContext(KEY);
}

/**
 * Calls `handler(payload, meta)` for every event matching `pattern` while
 * the component lives; unsubscribes when it is destroyed. Returns the
 * unsubscribe function, to stop earlier. Does nothing on the server.
 */
export function onEvent(pattern, handler) {
	const bus = useBus();
	if (!inBrowser()) return () => {};
	const off = bus.on(pattern, handler);
	onDestroy(off);
	return off;
}
