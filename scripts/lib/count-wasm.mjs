// Preloaded with `node --import ./count-wasm.mjs`: writes one line to the
// file $KAIWA_WASM_LOG for each WebAssembly module the process compiles
// (`new WebAssembly.Module`, `compile`, `compileStreaming`, `instantiate`
// of bytes, `instantiateStreaming`), with the stack that asked for it. The
// tests read it to show that server rendering compiles none.

import { appendFileSync } from 'node:fs';

const log = process.env.KAIWA_WASM_LOG;
if (!log) throw new Error('count-wasm.mjs: set KAIWA_WASM_LOG to the file to write');

const note = (how) => appendFileSync(log, `${JSON.stringify({ how, stack: new Error().stack.split('\n').slice(3, 9).join('\n') })}\n`);
const wasm = globalThis.WebAssembly;

wasm.Module = new Proxy(wasm.Module, {
	construct(target, args, newTarget) {
		note('new WebAssembly.Module');
		return Reflect.construct(target, args, newTarget);
	}
});
for (const name of ['compile', 'compileStreaming', 'instantiateStreaming']) {
	const original = wasm[name];
	wasm[name] = function (...args) {
		note(`WebAssembly.${name}`);
		return original.apply(this, args);
	};
}
const instantiate = wasm.instantiate;
wasm.instantiate = function (source, ...rest) {
	if (!(source instanceof wasm.Module)) note('WebAssembly.instantiate (bytes)');
	return instantiate.call(this, source, ...rest);
};
