// The workload in Node: prints { engine, timings, memory } as JSON on stdout.
// Run by bench/run.mjs as `node --expose-gc bench/node.mjs [quick]`.

import { initSync } from '../pkg/kaiwa_bus.js';
import { runBench } from './workload.js';

// The package's module instance (already initialised by its node entry).
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
