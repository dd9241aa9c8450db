// Assembles pkg/, the npm package, from the wasm-bindgen output in
// target/pkg-raw and the hand-written JS and types in js/:
//   node scripts/build-pkg.mjs <wasm-opt args...>
// Writes pkg/package.json from pkg.json with the version of Cargo.toml, and
// runs wasm-opt (the npm binaryen package's; Debian's v108 cannot read
// wasm-bindgen's externref table) over the .wasm.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const raw = 'target/pkg-raw';
const out = 'pkg';

rmSync(out, { recursive: true, force: true });
mkdirSync(out);
cpSync(`${raw}/kaiwa_bus.js`, `${out}/kaiwa_bus.js`);
cpSync(`${raw}/snippets`, `${out}/snippets`, { recursive: true });
// js/ with its folders (js/devtools/), .js and .d.ts files; wasm-imports.js
// reaches the package through wasm-bindgen's snippets/.
for (const file of readdirSync('js', { recursive: true })) {
	if ((file.endsWith('.js') && file !== 'wasm-imports.js') || file.endsWith('.d.ts')) cpSync(`js/${file}`, `${out}/${file}`);
}
cpSync('README.md', `${out}/README.md`);

execFileSync(
	'node_modules/.bin/wasm-opt',
	[
		`${raw}/kaiwa_bus_bg.wasm`,
		'-o',
		`${out}/kaiwa_bus_bg.wasm`,
		...process.argv.slice(2),
		'--enable-bulk-memory',
		'--enable-nontrapping-float-to-int',
		'--enable-reference-types',
		'--enable-multivalue',
		'--enable-sign-ext',
		'--enable-mutable-globals'
	],
	{ stdio: 'inherit' }
);

const version = readFileSync('Cargo.toml', 'utf8').match(/^version = "([^"]+)"/m)[1];
const manifest = JSON.parse(readFileSync('pkg.json', 'utf8'));
manifest.version = version;
writeFileSync(`${out}/package.json`, `${JSON.stringify(manifest, null, '\t')}\n`);

const size = (file) => {
	const bytes = readFileSync(file);
	return `${(bytes.length / 1024).toFixed(1)} KB raw, ${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KB gzip`;
};
console.log(`pkg/kaiwa_bus_bg.wasm: ${size(`${out}/kaiwa_bus_bg.wasm`)}`);
const js = readdirSync(out, { recursive: true }).filter((f) => f.endsWith('.js') && !f.startsWith('snippets'));
const jsBytes = Buffer.concat(js.map((f) => readFileSync(`${out}/${f}`)));
console.log(`pkg/*.js (${js.length} files): ${(jsBytes.length / 1024).toFixed(1)} KB raw, ${(gzipSync(jsBytes, { level: 9 }).length / 1024).toFixed(1)} KB gzip`);
