// Node entry point: the module is instantiated synchronously from the .wasm
// file at import, so no init() call is needed (it exists, and resolves, so
// the same code runs in both places).

import { readFileSync } from 'node:fs';
import { initSync } from './kaiwa_bus.js';
import { attach } from './runtime.js';

export * from './api.js';

attach(initSync({ module: readFileSync(new URL('./kaiwa_bus_bg.wasm', import.meta.url)) }));

const ready = Promise.resolve();

/** Already done in Node; resolves at once. */
export function init() {
	return ready;
}
