// Node entry point: the module is compiled from the .wasm file when the
// first bus is created (or at init()), not at import. So server code that
// imports defineEvents, MockEventBus or the types compiles no WebAssembly
// and needs no .wasm file: a server build deployed without node_modules
// (adapter-node's build/, serverless functions) renders its pages.

import { existsSync, readFileSync } from 'node:fs';
import { initSync } from './kaiwa_bus.js';
import { loadOnFirstUse, memory } from './core/runtime.js';

export * from './core/api.js';

// The .wasm next to this file; when a bundler has moved this code into a
// chunk of its own (an SSR build that bundles dependencies), the copy in the
// installed package.
function wasmBytes() {
	const beside = new URL('./kaiwa_bus_bg.wasm', import.meta.url);
	if (existsSync(beside)) return readFileSync(beside);
	let installed = null;
	try {
		installed = new URL(import.meta.resolve('kaiwa-bus/kaiwa_bus_bg.wasm'));
	} catch {
		// Not resolvable from here: reported below.
	}
	if (installed !== null && existsSync(installed)) return readFileSync(installed);
	throw new Error(
		`kaiwa-bus: cannot create a bus: kaiwa_bus_bg.wasm is neither next to ${beside.pathname} nor in an installed kaiwa-bus package. ` +
			'This server code was bundled and deployed without node_modules: importing kaiwa-bus works there (defineEvents, MockEventBus, ' +
			"kaiwa-bus/svelte's server side), creating a bus does not. Create buses in the browser, or deploy node_modules with kaiwa-bus in dependencies."
	);
}

loadOnFirstUse(() => initSync({ module: wasmBytes() }));

/** Compiles the module now rather than at the first bus (a server's start, say); rejects if the .wasm cannot be found. */
export function init() {
	try {
		memory();
		return Promise.resolve();
	} catch (error) {
		return Promise.reject(error);
	}
}

export default init;
