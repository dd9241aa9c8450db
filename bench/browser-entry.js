// The workload in Chromium, bundled by esbuild into test-output/bench/.
// bench/page.html imports it; results go to window.__bench.

import { init } from '#kaiwa';
import { initSync } from '../pkg/kaiwa_bus.js';
import { runMemory, runTimings } from './workload.js';

export async function run(quick) {
	await init('/pkg/kaiwa_bus_bg.wasm');
	const wasm = initSync();
	const now = () => performance.now();
	const timings = runTimings(quick ? { now, rounds: 2, perRound: 2_000, warmup: 2_000 } : { now });
	const memory = runMemory({
		total: quick ? 5_000 : 1_000_000,
		checkpoints: quick ? [0, 2_500, 5_000] : undefined,
		wasmBytes: () => wasm.memory.buffer.byteLength,
		heapBytes: () => {
			globalThis.gc?.();
			return performance.memory?.usedJSHeapSize ?? 0;
		}
	});
	return { engine: `Chromium ${navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? '?'}`, timings, memory };
}
