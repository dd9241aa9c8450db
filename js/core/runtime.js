// The instantiated WebAssembly module, shared by every EventBus. The browser
// entries (index.js after init(), inline.js at import) instantiate it and
// call attach(); the Node entry (node.js) registers a loader instead, which
// the first bus runs, so server code that only imports (defineEvents, the
// types, MockEventBus) compiles no WebAssembly. bus.js reads the memory to
// hand payload probes to Rust.
//
// That the payload reader (probe.js) and the module agree on the kind codes
// is checked when the package is tested (tests/js/probe.test.js), not here:
// the call into the module cost every init() about 0.4 ms in Chromium.

let wasm = null;
let load = null;

export function attach(exports) {
	wasm = exports;
}

/** Node: `loader()` returns the instantiated module's exports; it runs when the first bus needs them. */
export function loadOnFirstUse(loader) {
	load = loader;
}

export function memory() {
	if (wasm === null && load !== null) attach(load());
	if (wasm === null) {
		throw new Error(
			'kaiwa-bus: the WebAssembly module is not initialised: `await init()` before creating an EventBus, ' +
				"or import from 'kaiwa-bus/inline' (or use 'kaiwa-bus/svelte'), which needs no init()"
		);
	}
	return wasm.memory;
}
