// The instantiated WebAssembly module, shared by every EventBus. The entry
// points (index.js for browsers, node.js for Node) instantiate it and call
// attach(); bus.js reads the memory to hand payload probes to Rust.

import { BusCore } from './kaiwa_bus.js';
import { KIND_NAMES } from './probe.js';

let wasm = null;

export function attach(exports) {
	const rust = BusCore.kindNames();
	if (rust.join('|') !== KIND_NAMES.join('|')) {
		throw new Error('kaiwa-bus: the JS payload reader and the wasm module disagree on kind codes; rebuild the package');
	}
	wasm = exports;
}

export function memory() {
	if (wasm === null) {
		throw new Error(
			"kaiwa-bus: the WebAssembly module is not initialised: `await init()` before creating an EventBus, " +
				"or import from 'kaiwa-bus/inline' (or use 'kaiwa-bus/svelte'), which needs no init() " +
				"(in Node, importing 'kaiwa-bus' initialises it)"
		);
	}
	return wasm.memory;
}
