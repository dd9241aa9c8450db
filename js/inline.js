// Browser entry that needs no init(): the .wasm travels inside this module
// (as base64, in wasm-inline.js, which `make pkg` writes) and is compiled
// and instantiated synchronously when the module is imported. So
// `new EventBus()` works on the first line, with any bundler and no
// bundler config. It costs about 10 KB more gzip than the main entry (the
// base64 compresses less than the binary), which is why it is a separate
// entry; see README "Loading the module". In Node the package's
// `node` condition maps this entry to node.js, which reads the .wasm file.

import { initSync } from './kaiwa_bus.js';
import { attach } from './core/runtime.js';
import wasmBase64 from './wasm-inline.js';

export * from './core/api.js';

function decode(base64) {
	if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(base64);
	const text = atob(base64);
	const bytes = new Uint8Array(text.length);
	for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
	return bytes;
}

attach(initSync({ module: decode(wasmBase64) }));

const ready = Promise.resolve();

/** Already done at import; resolves at once (kept so code can call it anywhere). */
export function init() {
	return ready;
}

export default init;
