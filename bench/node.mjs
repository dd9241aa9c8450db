// The workload in Node: prints { engine, timings, memory } as JSON on stdout.
// Run by bench/run.mjs as `node --expose-gc bench/node.mjs [quick]`.

import { init } from '#kaiwa';
import { initSync } from '../pkg/kaiwa_bus.js';
import { runBench } from './workload.js';

// The package's module instance: its node entry compiles it at the first bus
// or init(), so init() first, then initSync() hands back the instance.
await init();
const wasm = initSync();
const result = runBench({
	quick: process.argv.includes('quick'),
	now: () => performance.now(),
	wasmBytes: () => wasm.memory.buffer.byteLength,
	heapBytes: () => {
		globalThis.gc?.();
		return process.memoryUsage().heapUsed;
	}
});
process.stdout.write(JSON.stringify({ engine: `Node ${process.versions.node}`, ...result }));
