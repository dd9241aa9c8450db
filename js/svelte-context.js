// The part of kaiwa-bus/svelte that is the same in the browser (svelte.js)
// and on the server (svelte-server.js): the private context key, useBus()
// and onEvent(). Each entry's provideBus() makes its bus and calls setBus().

import { getContext, hasContext, onDestroy, setContext } from 'svelte';

const KEY = Symbol('kaiwa-bus');

/** Puts `bus` in context for the components below, clears it when the layout goes; returns it. */
export function setBus(bus) {
	setContext(KEY, bus);
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
 * unsubscribe function, to stop earlier.
 */
export function onEvent(pattern, handler) {
	const off = useBus().on(pattern, handler);
	onDestroy(off);
	return off;
}
