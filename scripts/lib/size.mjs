// The core entry's download, as a production app ships it: the .wasm plus
// pkg/index.js bundled and minified, each gzip -9. bench/run.mjs reports it;
// scripts/size-budget.mjs (in make test) fails above CORE_BUDGET.

import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

// The ceiling make test holds: 39.5 KB. The target is lower (36 KB, issue
// 24; issue 20's 40 KB is met), and `make bench` reports it as met or not;
// the core went past 40 KB with audiences, the name rule, cross-realm Dates
// and the numbers-only emit (41.7 KB), and came back to 39.1 KB when the
// package's .wasm stopped linking std (docs/internals.md, "Size"), so this
// ceiling stops it growing again until the 36 KB work lands.
export const CORE_BUDGET = 39.5 * 1024;

export const gzipSize = (buffer) => gzipSync(buffer, { level: 9 }).length;

/** { wasm, jsMinified: { raw, gzip }, totalGzip } of pkg/, in bytes. */
export async function coreSize() {
	const wasm = readFileSync('pkg/kaiwa_bus_bg.wasm');
	const bundled = await esbuild.build({
		entryPoints: ['pkg/index.js'],
		bundle: true,
		minify: true,
		format: 'esm',
		write: false,
		logLevel: 'warning'
	});
	const minified = Buffer.from(bundled.outputFiles[0].contents);
	const size = { wasm: { raw: wasm.length, gzip: gzipSize(wasm) }, jsMinified: { raw: minified.length, gzip: gzipSize(minified) } };
	return { ...size, totalGzip: size.wasm.gzip + size.jsMinified.gzip };
}
