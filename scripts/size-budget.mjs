// `make test`'s size check: the core entry (the .wasm plus the minified
// main entry, gzip -9; scripts/lib/size.mjs) must stay within CORE_BUDGET (36 KB). Exits 1
// above it, with the two parts, so a change that grows the package fails
// here rather than in the next benchmark report; and if the .wasm holds the
// text of a panic path the core has cut (CUT_PANICS). Needs pkg/ built.

import { readFileSync } from 'node:fs';
import { CORE_BUDGET, CUT_PANICS, coreSize } from './lib/size.mjs';

const wasmText = readFileSync('pkg/kaiwa_bus_bg.wasm').toString('latin1');
const back = CUT_PANICS.filter((text) => wasmText.includes(text));
if (back.length > 0) {
	console.error(
		`core: the .wasm holds the text of panic paths the core had cut: ${back.map((t) => JSON.stringify(t)).join(', ')}. ` +
			'See docs/internals.md#size for what brings each back.'
	);
	process.exitCode = 1;
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const { wasm, jsMinified, totalGzip } = await coreSize();
const line = `core: .wasm ${kb(wasm.gzip)} + minified JS ${kb(jsMinified.gzip)} = ${kb(totalGzip)} gzip (${totalGzip} bytes), budget ${kb(CORE_BUDGET)}`;
if (totalGzip > CORE_BUDGET) {
	console.error(`${line}: ${totalGzip - CORE_BUDGET} bytes OVER. See docs/internals.md#size for where the bytes go.`);
	process.exitCode = 1;
} else {
	console.log(`${line}: ${CORE_BUDGET - totalGzip} bytes left`);
}
