// The workload in Node: prints { engine, timings, memory } as JSON on stdout.
// Run by bench/run.mjs as `node --expose-gc bench/node.mjs [quick]`.

import { memory } from '../pkg/core/runtime.js';
import { runBench } from './workload.js';

const result = runBench({
	quick: process.argv.includes('quick'),
	now: () => performance.now(),
	// The package's memory (its Node entry compiles the module on first use).
	wasmBytes: () => memory().buffer.byteLength,
	heapBytes: () => {
		globalThis.gc?.();
		return process.memoryUsage().heapUsed;
	}
});
process.stdout.write(JSON.stringify({ engine: `Node ${process.versions.node}`, ...result }));
