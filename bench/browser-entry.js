// The workload in Chromium, bundled by esbuild into test-output/bench/.
// bench/page.html imports it; results go to window.__bench.

import { init } from '#kaiwa';
import { initSync } from '../pkg/kaiwa_bus.js';
import { runBench } from './workload.js';

export async function run(quick) {
	await init('/pkg/kaiwa_bus_bg.wasm');
	const wasm = initSync();
	const result = runBench({
		quick,
		now: () => performance.now(),
		wasmBytes: () => wasm.memory.buffer.byteLength,
		heapBytes: () => {
			globalThis.gc?.();
			return performance.memory?.usedJSHeapSize ?? 0;
		}
	});
	return { engine: `Chromium ${navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? '?'}`, ...result };
}
