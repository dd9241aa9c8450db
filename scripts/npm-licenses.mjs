// The licences of what the published npm packages bring into a user's project (`make audit`):
// the dependencies, optional and peer dependencies of kaiwa-bus (pkg.json) and kaiwa-relay
// (relay/npm/package.json), and theirs in turn, read from node_modules (the workspace installs
// each of them as a devDependency). Fails on a licence outside ALLOWED, or on one it cannot find.
// Our own platform packages (@kaiwa-relay/*) are built here and MIT. The Rust crates compiled into
// the .wasm and the relay binary are cargo-deny's (deny.toml).
//   node scripts/npm-licenses.mjs

import { existsSync, readFileSync } from 'node:fs';

// The same list as deny.toml's [licenses] allow.
const ALLOWED = new Set(['MIT', 'Apache-2.0', 'BSD-3-Clause', 'ISC', 'Zlib', 'Unicode-3.0']);
const PUBLISHED = ['pkg.json', 'relay/npm/package.json'];

const manifest = (file) => JSON.parse(readFileSync(file, 'utf8'));
const needs = (pkg) => Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies });

// An SPDX expression is allowed when one side of each OR is: `(MIT OR Apache-2.0)`, `MIT AND ISC`.
function allowed(expression) {
	const text = expression.replace(/[()]/g, ' ').trim();
	return text.split(/\s+OR\s+/).some((side) => side.split(/\s+AND\s+/).every((id) => ALLOWED.has(id.trim())));
}

// Where Node would find `name` from the package in `dir`: its own node_modules, then each parent's.
function resolve(name, dir) {
	for (let at = dir; ; at = at.slice(0, at.lastIndexOf('/node_modules/'))) {
		const path = `${at}/node_modules/${name}`;
		if (existsSync(`${path}/package.json`)) return path;
		if (!at.includes('/node_modules/')) return null;
	}
}

const seen = new Map(); // path in node_modules -> `name@version licence`
const problems = [];
const queue = PUBLISHED.flatMap((file) => needs(manifest(file)).map((name) => ({ name, from: manifest(file).name, dir: '.' })));
while (queue.length > 0) {
	const { name, from, dir } = queue.shift();
	if (name.startsWith('@kaiwa-relay/')) continue;
	const path = resolve(name, dir);
	if (path === null) {
		problems.push(
			`${name} (needed by ${from}) is not in node_modules: add it to the workspace's devDependencies so its licence can be read`
		);
		continue;
	}
	if (seen.has(path)) continue;
	const pkg = manifest(`${path}/package.json`);
	const licence = typeof pkg.license === 'string' ? pkg.license : 'none declared';
	seen.set(path, `${name}@${pkg.version} ${licence}`);
	if (!allowed(licence)) problems.push(`${name}@${pkg.version} (needed by ${from}): licence ${licence} is not allowed`);
	for (const next of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) queue.push({ name: next, from: name, dir: path });
}

for (const problem of problems) console.error(`npm licences: ${problem}`);
const list = [...seen.values()].join(', ');
console.log(`npm licences: ${seen.size} packages reach a user through ${PUBLISHED.join(' and ')}${seen.size ? `: ${list}` : ''}`);
process.exit(problems.length === 0 ? 0 : 1);
