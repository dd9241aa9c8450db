// The part of kaiwa-bus/svelte that is the same in the browser (svelte.js)
// and on the server (server.js): the private context key, useBus()
// and onEvent(). Each entry's provideBus() makes its bus and calls setBus().

import { getContext, hasContext, onDestroy, setContext } from 'svelte';

const KEY = Symbol('kaiwa-bus');

// Svelte throws `lifecycle_outside_component` when context is used outside
// a component's initialisation, and also when this module got a second copy
// of Svelte (kaiwa-bus/svelte loaded by Node instead of Vite on the server).
// Say which, and what to do.
function duringInit(what, fn) {
	try {
		return fn();
	} catch (error) {
		if (!String(error?.message).includes('lifecycle_outside_component')) throw error;
		throw new Error(
			`kaiwa-bus/svelte: ${what} must run while a component initialises (at the top of its <script>, not in a callback or a module). ` +
				'If it does, the app has two copies of Svelte: kaiwa-bus/svelte was loaded outside Vite. ' +
				"List kaiwa-bus in package.json (Vite's Svelte plugin then bundles it with your Svelte), or set ssr: { noExternal: ['kaiwa-bus'] } in vite.config.",
			{ cause: error }
		);
	}
}

/**
 * Puts `bus` in context for the components below and returns it. A bus the
 * binding made, or the function given to provideBus made (`owned`), is
 * cleared and closed (a relay bus: its connection) when the layout goes; a
 * bus it was given is the app's, left as it is (only onEvent()'s
 * subscriptions go, each with its component).
 */
export function setBus(bus, owned) {
	duringInit('provideBus()', () => setContext(KEY, bus));
	if (owned) {
		onDestroy(() => {
			bus.clear();
			bus.close?.();
		});
	}
	return bus;
}

/** The bus provideBus() put in context. Call it while a component initialises. */
export function useBus() {
	if (!duringInit('useBus()', () => hasContext(KEY))) {
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
 * @param {string} pattern
 * @param {(payload: any, meta: any) => unknown} handler
 * @returns {() => void}
 */
export function onEvent(pattern, handler) {
	const off = useBus().on(pattern, handler);
	onDestroy(off);
	return off;
}
