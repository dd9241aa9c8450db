// `make test`'s size check: the core entry (the .wasm plus the minified
// main entry, gzip -9; scripts/lib/size.mjs) must stay within CORE_BUDGET (39.5 KB). Exits 1
// above it, with the two parts, so a change that grows the package fails
// here rather than in the next benchmark report. Needs pkg/ built.

import { CORE_BUDGET, coreSize } from './lib/size.mjs';

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const { wasm, jsMinified, totalGzip } = await coreSize();
const line = `core: .wasm ${kb(wasm.gzip)} + minified JS ${kb(jsMinified.gzip)} = ${kb(totalGzip)} gzip (${totalGzip} bytes), budget ${kb(CORE_BUDGET)}`;
if (totalGzip > CORE_BUDGET) {
	console.error(`${line}: ${totalGzip - CORE_BUDGET} bytes OVER. See docs/internals.md#size for where the bytes go.`);
	process.exit(1);
}
console.log(`${line}: ${CORE_BUDGET - totalGzip} bytes left`);
