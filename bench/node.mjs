// The workload in Node: prints { timings, memory } as JSON on stdout.
// Run by bench/run.mjs as `node --expose-gc bench/node.mjs [quick]`.

import { initSync } from '../pkg/kaiwa_bus.js';
import { runMemory, runTimings } from './workload.js';

const quick = process.argv.includes('quick');
const now = () => performance.now();
// The package's module instance (already initialised by its node entry).
const wasm = initSync();

const timings = runTimings(quick ? { now, rounds: 2, perRound: 2_000, warmup: 2_000 } : { now });
const memory = runMemory({
	total: quick ? 5_000 : 1_000_000,
	checkpoints: quick ? [0, 2_500, 5_000] : undefined,
	wasmBytes: () => wasm.memory.buffer.byteLength,
	heapBytes: () => {
		globalThis.gc?.();
		return process.memoryUsage().heapUsed;
	}
});
process.stdout.write(JSON.stringify({ engine: `Node ${process.versions.node}`, timings, memory }));
