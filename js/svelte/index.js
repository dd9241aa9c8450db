// kaiwa-bus/svelte in the browser: the bus in a Svelte 5 app, through
// Svelte's context.
//
//   provideBus(options?)      root layout: creates this app's bus, returns it
//   useBus()                  any component below: the same bus, usable at once
//   onEvent(pattern, handler) a component: subscribed for its lifetime
//
// A thin binding, after TanStack Query's Svelte adapter: a private context
// key (context.js), no state at module level, and lifetimes adapted
// to components; the bus itself stays framework-free. It builds on
// kaiwa-bus/inline, whose WebAssembly module is ready at import, so the bus
// works in the component's first line, in onMount, $effect and event
// handlers alike, with no init() and no null. The server gets
// server.js instead (the package's `browser` export condition).

import { createEventBus } from '../inline.js';
import { setBus } from './context.js';

export { onEvent, useBus } from './context.js';

/**
 * Creates the bus for this app, puts it in context for every component
 * below, and returns it. Call it in the root layout's `<script>`. `options`
 * are the bus options (`events` from `defineEvents`, `mode`, `historyLimit`,
 * `timing`, `catalog`). Given a function instead, puts the bus it returns
 * in context (a relay bus: `provideBus(() => createRelayBus({ … }))`), and
 * clears and closes that bus when the layout goes, as the bus it creates;
 * given a bus made elsewhere (anything with `emit` and `on`), puts that one
 * and leaves it as it is then. On the server the function is never called
 * (server.js).
 */
export function provideBus(options) {
	if (typeof options === 'function') return setBus(options(), true);
	const given = typeof options?.emit === 'function' && typeof options?.on === 'function';
	return given ? setBus(options, false) : setBus(createEventBus('memory', options), true);
}
