// Node entry point: the module is instantiated synchronously from the .wasm
// file at import, so no init() call is needed (it exists, and resolves, so
// the same code runs in both places).

import { existsSync, readFileSync } from 'node:fs';
import { initSync } from './kaiwa_bus.js';
import { attach } from './runtime.js';

export * from './api.js';

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
		`kaiwa-bus: cannot find kaiwa_bus_bg.wasm next to ${beside.pathname} nor in an installed kaiwa-bus package. ` +
			'If a bundler copied kaiwa-bus into server code, keep it external (Vite: ssr.external; SvelteKit: list it in dependencies).'
	);
}

attach(initSync({ module: wasmBytes() }));

const ready = Promise.resolve();

/** Already done in Node; resolves at once. */
export function init() {
	return ready;
}

export default init;
