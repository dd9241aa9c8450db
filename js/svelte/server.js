// kaiwa-bus/svelte during server-side rendering (the package's exports map
// gives browsers svelte.js). There is no bus on the server: each render's
// provideBus() puts a stand-in in context, a MockEventBus that records
// emits and calls no handler, dropped with the render. So nothing is
// shared between requests, nothing throws, handlers never run on the
// server, and the server bundle carries no WebAssembly.

import { MockEventBus } from '../core/mock.js';
import { setBus } from './context.js';

export { onEvent, useBus } from './context.js';

/** The server's stand-in for the app's bus, for this render only (whatever the browser's provideBus is given: a function given is not called). */
export function provideBus() {
	return setBus(new MockEventBus(), true);
}
