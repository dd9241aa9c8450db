// Browser entry point: `await init()` once, then create buses. (The
// `kaiwa-bus/inline` entry, js/inline.js, needs no init() at all.)

import initWasm from './kaiwa_bus.js';
import { attach } from './core/runtime.js';

export * from './core/api.js';

let ready = null;

/**
 * Loads the WebAssembly module. Idempotent and safe to call concurrently:
 * every call returns the same promise. `input` is the module's URL (for
 * example from `import wasmUrl from 'kaiwa-bus/kaiwa_bus_bg.wasm?url'` in
 * Vite), a `Response`, bytes, or a `WebAssembly.Module`; by default the
 * `.wasm` file next to this module.
 */
export function init(input) {
	if (ready === null) {
		ready = initWasm({ module_or_path: input === undefined ? defaultUrl() : input }).then(
			(exports) => attach(exports),
			(error) => {
				ready = null;
				throw loadError(input, error);
			}
		);
	}
	return ready;
}

export default init;

// Here rather than in wasm-bindgen's glue (scripts/build-pkg.mjs takes it out
// there), so that bundlers emit the .wasm only for apps that load it from
// this entry: an app on kaiwa-bus/inline ships no unused .wasm file.
function defaultUrl() {
	return new URL('./kaiwa_bus_bg.wasm', import.meta.url);
}

// The first thing a new user meets when a bundler moved this file away from
// its .wasm (Vite's dev server pre-bundles dependencies into
// node_modules/.vite/deps/): say so, and what to do.
function loadError(input, cause) {
	const where = input === undefined ? defaultUrl().href : String(input);
	const message = cause instanceof Error ? cause.message : String(cause);
	return new Error(
		`kaiwa-bus: could not load the WebAssembly module from ${where} (${message}). ` +
			(input === undefined
				? 'Most likely a bundler pre-bundled kaiwa-bus away from its .wasm file (Vite does this in dev). ' +
					"Fix: import from 'kaiwa-bus/inline' (or use 'kaiwa-bus/svelte'), which carries the module and needs no init(); " +
					"or pass the file's URL: import wasmUrl from 'kaiwa-bus/kaiwa_bus_bg.wasm?url'; await init(wasmUrl)."
				: "Check that this URL serves kaiwa_bus_bg.wasm (with Vite: import wasmUrl from 'kaiwa-bus/kaiwa_bus_bg.wasm?url')."),
		{ cause }
	);
}
