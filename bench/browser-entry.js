// The workload in Chromium, bundled by esbuild into test-output/bench/.
// bench/page.html imports it; results go to window.__bench.

import { init } from '#kaiwa';
import { initSync } from '../pkg/kaiwa_bus.js';
import { runBench } from './workload.js';

export async function run(quick) {
	await init('/pkg/kaiwa_bus_bg.wasm');
	const wasm = initSync();
	// The renderer main thread's CPU time, lent by bench/run.mjs
	// (bench/renderer-clock.mjs); wall time if the page runs without it.
	const cpu = typeof window.__cpuMs === 'function';
	if (cpu) {
		// Spin, so bench/run.mjs can tell which renderer runs this page.
		await window.__cpuMark();
		for (const t0 = performance.now(); performance.now() - t0 < 300; );
		await window.__cpuMs();
	}
	const result = await runBench({
		quick,
		now: cpu ? () => window.__cpuMs() : () => performance.now(),
		wasmBytes: () => wasm.memory.buffer.byteLength,
		heapBytes: () => {
			globalThis.gc?.();
			return performance.memory?.usedJSHeapSize ?? 0;
		}
	});
	const clock = cpu ? 'renderer main-thread CPU time' : 'wall time';
	return { engine: `Chromium ${navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? '?'}`, clock, ...result };
}
