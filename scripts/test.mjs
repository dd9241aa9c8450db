// `make test`: runs every check and test suite in order, logs each to
// test-output/logs/, and prints a summary: distinct tests and their runs
// (the package tests run in Node 20, Node 18 and Chromium: one test, three
// runs), skipped and to-do tests. A suite fails when it reports zero tests
// or fewer than its floor: a skipped suite is not a passed suite, and a
// test file that silently drops out (renamed, cfg'd off) is noticed.
// Floors are the counts of the suites when they were last set; raise them
// when you add tests, lower one only when tests were removed on purpose.

import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { cargoCounts, lineCounts, tapCounts } from './lib/test-counts.mjs';

const LOGS = 'test-output/logs';
mkdirSync(LOGS, { recursive: true });

// `make types` rewrites the generated files when KAIWA_WRITE_TYPES is set; a
// test run must compare them, never rewrite them, whatever the shell has.
const { KAIWA_WRITE_TYPES, ...baseEnv } = process.env;
if (KAIWA_WRITE_TYPES !== undefined) console.log('(KAIWA_WRITE_TYPES is set in your shell: ignored, the drift tests compare)');

// Each step belongs to one or more groups; `node scripts/test.mjs GROUP...` runs the steps of
// those groups, in this order (make check, make test-rust, -js, -relay, -browser). A group lists
// the builds its steps need ('build pkg/', 'build relay (debug)'). No group: every step (make test).
const CHECK = 'check'; // seconds with warm caches: fmt, lint, clippy, tsc, unit tests, the Node package suites
const RUST = 'rust'; // the bus's crate: host tests, wasm-bindgen tests
const JS = 'js'; // the npm package: its build, checks and suites
const RELAY = 'relay'; // kaiwa-relay and the JS relay client against it
const BROWSER = 'browser'; // everything that drives Chromium
const GROUPS = [CHECK, RUST, JS, RELAY, BROWSER];
// `sameTests` names steps that run the same tests in other environments (Node 20, Node 18, Chromium):
// the summary counts their distinct tests once.

// `--list` prints the steps a selection would run, and runs none.
const list = process.argv.includes('--list');
const wanted = process.argv.slice(2).filter((a) => a !== '--list');
const unknown = wanted.filter((g) => !GROUPS.includes(g));
if (unknown.length > 0) {
	console.error(`scripts/test.mjs: no group ${unknown.join(', ')}; the groups are ${GROUPS.join(', ')} (none: every step)`);
	process.exit(2);
}
const title = wanted.length === 0 ? 'make test' : wanted.map((g) => (g === CHECK ? 'make check' : `make test-${g}`)).join(' + ');
// `make check` alone runs the property tests with proptest's default 256 cases, `make test` with 4096.
const quick = wanted.length === 1 && wanted[0] === CHECK;

const wasm = { CHROMEDRIVER: '/usr/bin/chromedriver' };
const wasmTest = (file) => ['cargo', 'test', '--target', 'wasm32-unknown-unknown', '--test', file];

const steps = [
	{ name: 'rustfmt', groups: [CHECK, RUST, RELAY], cmd: ['cargo', 'fmt', '--all', '--', '--check'] },
	// eslint and prettier over js/, tests/ and scripts/: the commands are package.json's scripts
	// (`npm run lint`, `npm run format:check`; `npm run format` rewrites).
	{ name: 'eslint', groups: [CHECK, JS], cmd: ['npm', 'run', '--silent', 'lint'] },
	{ name: 'prettier', groups: [CHECK, JS], cmd: ['npm', 'run', '--silent', 'format:check'] },
	// rust-version (the MSRV) against every dependency's; clippy's incompatible_msrv lint checks the std APIs we call.
	{ name: 'MSRV (scripts/msrv.mjs)', groups: [CHECK, RUST, RELAY], cmd: ['node', 'scripts/msrv.mjs'] },
	{ name: 'clippy (host)', groups: [CHECK, RUST], cmd: ['cargo', 'clippy', '--all-targets', '--', '-D', 'warnings'] },
	{
		name: 'clippy (wasm32)',
		groups: [CHECK, RUST],
		cmd: ['cargo', 'clippy', '--all-targets', '--target', 'wasm32-unknown-unknown', '--', '-D', 'warnings']
	},
	// The package's build (`make pkg`): the crate without std (feature wasm-no-std, src/lib.rs).
	{
		name: 'clippy (wasm32, no std)',
		groups: [CHECK, RUST],
		cmd: ['cargo', 'clippy', '--lib', '--target', 'wasm32-unknown-unknown', '--features', 'wasm-no-std', '--', '-D', 'warnings']
	},
	// PROPTEST_CASES bounds the property tests (tests/fuzz.rs) to seconds (256 cases in `make check`); `make fuzz` runs more.
	{
		name: 'rust host (cargo test)',
		groups: [CHECK, RUST],
		cmd: ['cargo', 'test'],
		env: { PROPTEST_CASES: quick ? '256' : '4096' },
		count: cargoCounts,
		floor: 66
	},
	// The relay (relay/): unit tests, then real relay processes against a real redis-server.
	{
		name: 'clippy (relay)',
		groups: [CHECK, RELAY],
		cmd: ['cargo', 'clippy', '-p', 'kaiwa-relay', '--all-targets', '--', '-D', 'warnings']
	},
	{
		name: 'relay unit tests (cargo test)',
		groups: [CHECK, RELAY],
		cmd: ['cargo', 'test', '-p', 'kaiwa-relay', '--lib', '--bins'],
		count: cargoCounts,
		floor: 59
	},
	{
		name: 'relay integration (cargo test)',
		groups: [RELAY],
		cmd: ['cargo', 'test', '-p', 'kaiwa-relay', '--test', '*'],
		count: cargoCounts,
		floor: 94
	},
	{ name: 'wasm in Node', groups: [RUST], cmd: wasmTest('node'), env: wasm, count: cargoCounts, floor: 14, sameTests: 'wasm' },
	{
		name: 'wasm in Chromium',
		groups: [RUST, BROWSER],
		cmd: wasmTest('browser'),
		env: wasm,
		count: cargoCounts,
		floor: 14,
		sameTests: 'wasm'
	},
	{ name: 'build pkg/', groups: [CHECK, JS, RELAY, BROWSER], cmd: ['make', '--no-print-directory', 'pkg'] },
	// The licences of what kaiwa-bus and kaiwa-relay bring into a user's project (the crates' are `make audit`'s).
	{ name: 'npm licences', groups: [JS], cmd: ['node', 'scripts/npm-licenses.mjs'] },
	{ name: 'package installed (Node)', groups: [JS], cmd: ['node', 'tests/package/installed.mjs'], count: lineCounts, floor: 14 },
	// The core's download (.wasm + minified main entry, gzip) within its 36 KB ceiling, and no cut panic path back.
	{ name: 'size budget (36 KB gzip core)', groups: [JS], cmd: ['node', 'scripts/size-budget.mjs'] },
	// The ecosystem's package checks, on the packed package. attw: every entry resolves with its types
	// under node10, node16 and bundler resolution; the package is ESM only, so a require() from CommonJS
	// resolving to ESM is expected (cjs-resolves-to-esm), and the .wasm is a file for bundlers, not a module.
	{
		name: 'publint + attw (pkg/)',
		groups: [JS],
		cmd: [
			'sh',
			'-c',
			'node_modules/.bin/publint --strict pkg && node_modules/.bin/attw --pack pkg --ignore-rules cjs-resolves-to-esm --exclude-entrypoints kaiwa_bus_bg.wasm --format table-flipped --no-color'
		]
	},
	{
		name: 'package tests (Node)',
		groups: [CHECK, JS],
		cmd: ['node', '--expose-gc', '--test', '--test-reporter=tap', 'tests/js/'],
		count: tapCounts,
		floor: 211,
		sameTests: 'package'
	},
	// engines: >=18. The oldest Node the package promises, from scripts/node-bin.sh.
	{
		name: 'package tests (Node 18)',
		groups: [JS],
		cmd: ['sh', '-c', 'exec "$(scripts/node-bin.sh 18)" --expose-gc --test --test-reporter=tap tests/js/'],
		count: tapCounts,
		floor: 211,
		sameTests: 'package'
	},
	{
		name: 'package tests (Chromium)',
		groups: [JS, BROWSER],
		cmd: ['node', 'tests/js/run-browser.mjs'],
		count: lineCounts,
		floor: 213,
		sameTests: 'package'
	},
	// kaiwa-bus/svelte on Svelte's own runtime (svelte/compiler, svelte/server).
	{
		name: 'svelte binding (Node)',
		groups: [CHECK, JS],
		cmd: ['node', '--test', '--test-reporter=tap', 'tests/svelte/'],
		count: tapCounts,
		floor: 2
	},
	{
		name: 'init errors (Chromium)',
		groups: [JS, BROWSER],
		cmd: ['node', 'tests/package/browser-init.mjs'],
		count: lineCounts,
		floor: 11
	},
	// kaiwa-bus/relay in Node against real kaiwa-relay processes (both engines, a real redis-server).
	{ name: 'build relay (debug)', groups: [RELAY, BROWSER], cmd: ['cargo', 'build', '-p', 'kaiwa-relay'] },
	{
		name: 'relay client (Node)',
		groups: [RELAY],
		cmd: ['node', '--test', '--test-reporter=tap', 'tests/relay-js/'],
		count: tapCounts,
		floor: 46,
		sameTests: 'relay client'
	},
	{
		name: 'relay client (Node 22)',
		groups: [RELAY],
		cmd: ['sh', '-c', 'exec "$(scripts/node-bin.sh 22)" --test --test-reporter=tap tests/relay-js/relay-bus.test.js'],
		count: tapCounts,
		floor: 11,
		sameTests: 'relay client'
	},
	// kaiwa-bus/server (tokens, publish; no WebAssembly; Node 18/20/22) and `kaiwa-bus schemas` against real relays.
	{
		name: 'server entry and schemas CLI',
		groups: [RELAY],
		cmd: ['node', '--test', '--test-reporter=tap', 'tests/server/'],
		count: tapCounts,
		floor: 12
	},
	// kaiwa-relay from npm: the static linux-x64 release binary packed as the release does, installed
	// into a folder with no cargo on PATH, run with npx and talked to (tests/relay-npm/run.mjs). On a cold
	// target/ the musl release build costs about 3.3 min of CPU (2 cores: ~2 min alone); warm, ~35 s in all.
	{ name: 'relay from npm (no cargo)', groups: [RELAY], cmd: ['node', 'tests/relay-npm/run.mjs'], count: lineCounts, floor: 6 },
	// The devtools panel on a persistent bus (storage, restored records) and on a relay bus (connection, outbox, gaps).
	{
		name: 'devtools on store and relay buses (Chromium)',
		groups: [BROWSER],
		cmd: ['node', 'tests/e2e/buses.test.mjs'],
		count: lineCounts,
		floor: 4
	},
	// What the panel does: Emit, Replay, Compare, the keyboard, an axe-core audit; and its edge cases (a disposed bus, huge strings, look-alike names).
	{ name: 'devtools acting (Chromium)', groups: [BROWSER], cmd: ['node', 'tests/e2e/act.test.mjs'], count: lineCounts, floor: 16 },
	// kaiwa-bus/relay in Chromium: tabs sharing one socket, handover, offline emits, a hostile channel.
	{ name: 'relay e2e (Chromium)', groups: [RELAY, BROWSER], cmd: ['node', 'tests/relay-e2e/run.mjs'], count: lineCounts, floor: 8 },
	// kaiwa-bus/store on Chromium's IndexedDB: reload, a tab closed mid-burst, two tabs, retention.
	{ name: 'store e2e (Chromium)', groups: [JS, BROWSER], cmd: ['node', 'tests/store-e2e/run.mjs'], count: lineCounts, floor: 5 },
	// tsc --checkJs over every module in js/ (js/**/*.js: the core, the transports, the store, the
	// Svelte entries, the panel), against the .d.ts wasm-bindgen writes for the Rust bindings; fails
	// on any error, like clippy. A module with a hand-written .d.ts beside it is checked against that
	// instead (tests/jscheck/tsconfig.json); tests/jscheck/*.d.ts stand in for what the workspace
	// lacks (node:fs, svelte, the generated wasm-inline.js, Uint8Array.fromBase64). Incremental: an unchanged
	// file is not checked again, and its errors are reported again from target/jscheck/tsbuildinfo.
	{
		name: 'js static check (tsc)',
		groups: [CHECK, JS],
		cmd: [
			'sh',
			'-c',
			'wasm-bindgen --target web --out-dir target/jscheck target/wasm32-unknown-unknown/release/kaiwa_bus.wasm && node_modules/.bin/tsc -p tests/jscheck --incremental --tsBuildInfoFile target/jscheck/tsbuildinfo'
		]
	},
	// Each `@ts-expect-error` the compiler parsed is an assertion that a wrong type fails to compile.
	{ name: 'types (tsc)', groups: [CHECK, JS], cmd: ['node', 'scripts/lib/type-assertions.mjs'], count: lineCounts, floor: 62 },
	// One source of types: each entry's JS exports exactly the values its .d.ts declares, with the signatures it
	// declares (parameters, return types, class members), and the reference pages name them.
	{
		name: 'types match the JS and the docs (tsc)',
		groups: [CHECK, JS],
		cmd: ['node', 'scripts/lib/api-check.mjs'],
		count: lineCounts,
		floor: 37
	},
	// Every relative link between the repository's Markdown files leads to a file and a heading that exist.
	{ name: 'docs links', groups: [CHECK, JS], cmd: ['node', 'scripts/lib/doc-links.mjs'], count: lineCounts, floor: 23 },
	// Builds the www/ demo from the packed package, serves it, clicks through it in Chromium.
	{ name: 'e2e (demo + devtools)', groups: [BROWSER], cmd: ['node', 'tests/e2e/run.mjs'], count: lineCounts, floor: 33 },
	// Two fresh SvelteKit apps (2 on Node 20, 3 on Node 22) made from the README's code blocks, checked, served, clicked.
	{ name: 'fresh SvelteKit apps', groups: [BROWSER], cmd: ['node', 'tests/sveltekit/run.mjs'], count: lineCounts, floor: 25 },
	// The benchmark harness with tiny counts: it runs, it reports; no figure is checked.
	{ name: 'bench harness (smoke)', groups: [JS, BROWSER], cmd: ['node', 'bench/run.mjs', '--quick'] },
	{ name: 'bench store (smoke)', groups: [JS, BROWSER], cmd: ['node', 'bench/store.mjs', '--quick'] },
	{ name: 'bench transports (smoke)', groups: [BROWSER], cmd: ['node', 'bench/transports.mjs', '--quick'] }
];

const selected = wanted.length === 0 ? steps : steps.filter((step) => step.groups.some((g) => wanted.includes(g)));
if (list) {
	for (const step of selected) console.log(`${step.name.padEnd(44)} ${step.groups.join(', ')}`);
	process.exit(0);
}

function run(step) {
	const file = `${LOGS}/${step.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.log`;
	const out = createWriteStream(file);
	let log = '';
	return new Promise((resolve) => {
		const child = spawn(step.cmd[0], step.cmd.slice(1), { env: { ...baseEnv, ...step.env }, stdio: ['ignore', 'pipe', 'pipe'] });
		const take = (chunk) => {
			log += chunk;
			out.write(chunk);
		};
		child.stdout.on('data', take);
		child.stderr.on('data', take);
		child.on('close', (code) => {
			out.end();
			resolve({ code, log, file });
		});
	});
}

// Why a suite failed, or null.
function verdict(step, code, counts) {
	if (code !== 0) return `exit code ${code}`;
	if (!counts) return null;
	const ran = counts.passed + counts.failed;
	if (ran === 0) return 'it ran zero tests';
	if (counts.summary && (counts.summary.passed !== counts.passed || counts.summary.failed !== counts.failed)) {
		return `its summary line says ${counts.summary.passed} passed, ${counts.summary.failed} failed, its test lines ${counts.passed} and ${counts.failed}`;
	}
	if (counts.failed > 0) return `${counts.failed} failed`;
	if (step.floor && ran < step.floor) {
		return `it ran ${ran} tests, fewer than its floor of ${step.floor} (scripts/test.mjs): did a test file drop out?`;
	}
	return null;
}

const rows = [];
const distinct = new Map(); // group -> Set of test names
let failedSteps = 0;
const started = Date.now();
for (const step of selected) {
	const t0 = Date.now();
	process.stdout.write(`${step.name.padEnd(44)} `);
	const { code, log, file } = await run(step);
	const seconds = ((Date.now() - t0) / 1000).toFixed(1);
	const counts = step.count ? step.count(log) : null;
	const why = verdict(step, code, counts);
	let detail = why === null ? 'ok' : 'failed';
	if (counts) {
		const extra = [counts.skipped && `${counts.skipped} skipped`, counts.todo && `${counts.todo} todo`].filter(Boolean);
		detail = `${counts.passed} passed, ${counts.failed} failed${extra.length ? `, ${extra.join(', ')}` : ''}`;
		const group = step.sameTests ?? step.name;
		if (!distinct.has(group)) distinct.set(group, new Set());
		for (const name of counts.names) distinct.get(group).add(name);
	}
	console.log(`${why === null ? 'ok  ' : 'FAIL'} ${detail.padEnd(34)} ${seconds}s`);
	if (why !== null) {
		failedSteps++;
		console.log(`---- ${step.name} failed (${why}); last lines of ${file}:`);
		console.log(log.split('\n').slice(-40).join('\n'));
		console.log('----');
	}
	rows.push({ step, counts });
}

const suites = rows.filter((r) => r.counts);
const sum = (key) => suites.reduce((n, r) => n + r.counts[key], 0);
const runs = sum('passed') + sum('failed');
const tests = [...distinct.values()].reduce((n, names) => n + names.size, 0);
const minutes = ((Date.now() - started) / 60000).toFixed(1);
console.log(
	`\n${title}: ${suites.length} suites; ${tests} distinct tests in ${runs} runs (${sum('passed')} passed, ${sum('failed')} failed); ` +
		`${sum('skipped')} skipped, ${sum('todo')} todo; ${rows.length - suites.length} checks; ` +
		`${failedSteps === 0 ? 'all ok' : `${failedSteps} step(s) FAILED`} (${minutes} min)`
);
console.log('runs per suite against its floor:');
for (const { step, counts } of suites) {
	console.log(`  ${step.name.padEnd(44)} ${String(counts.passed + counts.failed).padStart(4)} / ${step.floor ?? '-'}`);
}
process.exit(failedSteps === 0 ? 0 : 1);
