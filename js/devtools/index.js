// The devtools panel: <kaiwa-devtools>, a framework-free custom element with
// its own shadow DOM and styles, and mountDevtools(bus, options), the
// one-line way to put it on a page. Shipped as the `kaiwa-bus/devtools`
// entry point.
//
// It reads the bus only through its public API, so it works with any
// EventBus and proves that API is enough for a debugger:
//   onRecord                the live feed of history records
//   getEventHistory         the records already kept, on open and resume
//   getPerformanceStats     the statistics table
//   getHandlerCount         who listens to the selected event now
//   getSchema, getSchemaNames   the selected event's schema, the name filter
//   clearHistory            the Clear button
// and, only on the buses that have them (devtools/buses.js):
//   persistence, storedCount, clearStored   a store's Storage line in the statistics
//   connection, onConnection, gaps          a relay's state, outbox and gaps in the header
// To act (devtools/actions.js), the Emit and Replay views use
//   validate, mode              the issues the bus would raise, as you type
//   attach (of the EventBus under any wrapper), emit, link.receive
//                               the panel's emits ('devtools') and replays ('replay')
//
// ## Cost
// Collapsed (closed), the panel has no listener on the bus (nor on a relay
// bus's connection), no timer and no frame callback: an emit costs what it costs without the panel. Open, each
// record is queued by the onRecord listener and the list is redrawn at most
// once per animation frame. The list is windowed: a small pool of row
// elements covers the visible part and is refilled in place, so a redraw
// costs the same for 1 new event or 10,000. The panel keeps at most
// `maxRecords` records (default 1000, the bus's default history).
//
// ## Safety
// Event data reaches the DOM only as text (Text nodes, textContent, and
// attribute values, see devtools/dom.js): the panel never assigns innerHTML, so a payload such as
// `<img src=x onerror=alert(1)>` is shown as those characters.
//
// ## Import in Node
// Importing this module does not touch the DOM. The element class extends
// HTMLElement only where one exists, and the element is registered by
// defineDevtools() or mountDevtools(), which are for browsers.
//
// ## Layout
// The parts are in js/devtools/: element.js (the element: state, live feed),
// shown.js (the records shown, the filter), chrome.js (toolbar, banner,
// menus, footer), buses.js (what a store or a relay bus adds), list.js (the
// windowed list), detail.js (the detail pane), tree.js (the payload tree),
// records.js (filters, stats of a file), dom.js (DOM building, formats),
// prefs.js (settings, localStorage, shortcut), keys.js (the keyboard), styles.js;
// views/index.js lists the views, one file each, in tab order: events.js,
// stats.js, emit.js (with form.js), replay.js, compare.js; actions.js is the
// panel as a transport, code.js Copy as code. The export format is
// js/history/index.js.

import { KaiwaDevtools } from './element.js';

export { KaiwaDevtools };

const TAG = 'kaiwa-devtools';

/**
 * Registers `<kaiwa-devtools>` (once; later calls return the same class).
 * Browsers only.
 * @returns {typeof KaiwaDevtools}
 */
export function defineDevtools() {
	const registry = globalThis.customElements;
	if (!registry) throw new Error('kaiwa-bus devtools: custom elements need a browser (call this in the browser only, e.g. in onMount)');
	const existing = registry.get(TAG);
	if (existing) return /** @type {typeof KaiwaDevtools} */ (existing);
	registry.define(TAG, KaiwaDevtools);
	return KaiwaDevtools;
}

/**
 * Puts a devtools panel for `bus` on the page (in `options.container`, by
 * default document.body) and returns the element; `element.remove()` takes
 * it away and stops it. Browsers only.
 * @param {import('./index.js').DevtoolsBus} bus
 * @param {import('./index.js').DevtoolsOptions} [options]
 * @returns {KaiwaDevtools}
 */
export function mountDevtools(bus, options = {}) {
	defineDevtools();
	const { container = globalThis.document.body, ...settings } = options ?? {};
	const element = /** @type {KaiwaDevtools} */ (globalThis.document.createElement(TAG));
	element.configure(settings);
	element.bus = bus;
	container.append(element);
	return element;
}
