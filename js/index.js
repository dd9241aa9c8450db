// Browser entry point: `await init()` once, then create buses.

import initWasm from './kaiwa_bus.js';
import { attach } from './runtime.js';

export * from './api.js';

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
		const options = input === undefined ? undefined : { module_or_path: input };
		ready = initWasm(options).then(
			(exports) => attach(exports),
			(error) => {
				ready = null;
				throw error;
			}
		);
	}
	return ready;
}
