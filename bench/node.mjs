// The workload in Node: prints { engine, timings, memory } as JSON on stdout.
// Run by bench/run.mjs as `node --expose-gc --single-threaded-gc bench/node.mjs [quick]`.

import { memory } from '../pkg/core/runtime.js';
import { runBench } from './workload.js';

const result = await runBench({
	quick: process.argv.includes('quick'),
	// Process CPU time (user + system), in ms: time spent descheduled on a
	// shared machine does not count. bench/run.mjs runs this with
	// --single-threaded-gc, so the GC's helper threads do not count either
	// (as bench/ab.mjs does).
	now: () => {
		const { user, system } = process.cpuUsage();
		return (user + system) / 1000;
	},
	// The package's memory (its Node entry compiles the module on first use).
	wasmBytes: () => memory().buffer.byteLength,
	heapBytes: () => {
		globalThis.gc?.();
		return process.memoryUsage().heapUsed;
	}
});
process.stdout.write(JSON.stringify({ engine: `Node ${process.versions.node}`, clock: 'process CPU time', ...result }));
