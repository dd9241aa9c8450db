// `make test`: runs every check and test suite in order, logs each to
// test-output/logs/, and prints a summary. A suite that reports zero tests
// fails: a skipped suite is not a passed suite.

import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';

const LOGS = 'test-output/logs';
mkdirSync(LOGS, { recursive: true });

const wasm = { CHROMEDRIVER: '/usr/bin/chromedriver' };
const wasmTest = (file) => ['cargo', 'test', '--target', 'wasm32-unknown-unknown', '--test', file];

// Counters: each reads the log and returns { passed, failed }.
const cargoCounts = (log) => sumMatches(log, /test result: \w+\. (\d+) passed; (\d+) failed/g);
const tapCounts = (log) => ({ passed: lastNumber(log, /^# pass (\d+)$/gm), failed: lastNumber(log, /^# fail (\d+)$/gm) });
const summaryCounts = (label) => (log) => sumMatches(log, new RegExp(`^# ${label}: (\\d+) passed, (\\d+) failed$`, 'gm'));
const expectErrorCounts = () => {
	const files = JSON.parse(readFileSync('tests/types/tsconfig.json', 'utf8')).files;
	const lines = files.flatMap((file) => readFileSync(`tests/types/${file}`, 'utf8').match(/@ts-expect-error/g) ?? []);
	return { passed: lines.length, failed: 0 };
};

const steps = [
	{ name: 'rustfmt', cmd: ['cargo', 'fmt', '--all', '--', '--check'] },
	{ name: 'clippy (host)', cmd: ['cargo', 'clippy', '--all-targets', '--', '-D', 'warnings'] },
	{ name: 'clippy (wasm32)', cmd: ['cargo', 'clippy', '--all-targets', '--target', 'wasm32-unknown-unknown', '--', '-D', 'warnings'] },
	// PROPTEST_CASES bounds the property tests (tests/fuzz.rs) to seconds; `make fuzz` runs more.
	{ name: 'rust host (cargo test)', cmd: ['cargo', 'test'], env: { PROPTEST_CASES: '4096' }, count: cargoCounts },
	// The relay (relay/): unit tests, then real relay processes against a real redis-server.
	{ name: 'clippy (relay)', cmd: ['cargo', 'clippy', '-p', 'kaiwa-relay', '--all-targets', '--', '-D', 'warnings'] },
	{ name: 'relay (cargo test)', cmd: ['cargo', 'test', '-p', 'kaiwa-relay'], count: cargoCounts },
	{ name: 'wasm in Node', cmd: wasmTest('node'), env: wasm, count: cargoCounts },
	{ name: 'wasm in Chromium', cmd: wasmTest('browser'), env: wasm, count: cargoCounts },
	{ name: 'build pkg/', cmd: ['make', '--no-print-directory', 'pkg'] },
	{ name: 'package installed (Node)', cmd: ['node', 'tests/package/installed.mjs'], count: summaryCounts('installed') },
	{ name: 'package tests (Node)', cmd: ['node', '--expose-gc', '--test', '--test-reporter=tap', 'tests/js/'], count: tapCounts },
	// engines: >=18. The oldest Node the package promises, from scripts/node-bin.sh.
	{ name: 'package tests (Node 18)', cmd: ['sh', '-c', 'exec "$(scripts/node-bin.sh 18)" --expose-gc --test --test-reporter=tap tests/js/'], count: tapCounts },
	{ name: 'package tests (Chromium)', cmd: ['node', 'tests/js/run-browser.mjs'], count: summaryCounts('browser') },
	{ name: 'init errors (Chromium)', cmd: ['node', 'tests/package/browser-init.mjs'], count: summaryCounts('init') },
	// kaiwa-bus/relay in Node against real kaiwa-relay processes (both engines, a real redis-server).
	{ name: 'build relay (debug)', cmd: ['cargo', 'build', '-p', 'kaiwa-relay'] },
	{ name: 'relay client (Node)', cmd: ['node', '--test', '--test-reporter=tap', 'tests/relay-js/'], count: tapCounts },
	{ name: 'relay client (Node 22)', cmd: ['sh', '-c', 'exec "$(scripts/node-bin.sh 22)" --test --test-reporter=tap tests/relay-js/relay-bus.test.js'], count: tapCounts },
	// The devtools panel on a persistent bus (storage, restored records) and on a relay bus (connection, outbox, gaps).
	{ name: 'devtools on store and relay buses (Chromium)', cmd: ['node', 'tests/e2e/buses.test.mjs'], count: summaryCounts('panel-buses') },
	// What the panel does: Emit, Replay, Compare, the keyboard, an axe-core audit; and its edge cases (a disposed bus, huge strings, look-alike names).
	{ name: 'devtools acting (Chromium)', cmd: ['node', 'tests/e2e/act.test.mjs'], count: summaryCounts('panel-act') },
	// kaiwa-bus/relay in Chromium: tabs sharing one socket, handover, offline emits, a hostile channel.
	{ name: 'relay e2e (Chromium)', cmd: ['node', 'tests/relay-e2e/run.mjs'], count: summaryCounts('relay-e2e') },
	// kaiwa-bus/store on Chromium's IndexedDB: reload, a tab closed mid-burst, two tabs, retention.
	{ name: 'store e2e (Chromium)', cmd: ['node', 'tests/store-e2e/run.mjs'], count: summaryCounts('store-e2e') },
	// tsc --checkJs over every module in js/ (js/**/*.js: the core, the transports, the store, the
	// Svelte entries, the panel), against the .d.ts wasm-bindgen writes for the Rust bindings; fails
	// on any error, like clippy. A module with a hand-written .d.ts beside it is checked against that
	// instead (tests/jscheck/tsconfig.json); tests/jscheck/*.d.ts stand in for what the workspace
	// lacks (node:fs, svelte, the generated wasm-inline.js, Uint8Array.fromBase64).
	{ name: 'js static check (tsc)', cmd: ['sh', '-c', 'wasm-bindgen --target web --out-dir target/jscheck target/wasm32-unknown-unknown/release/kaiwa_bus.wasm && node_modules/.bin/tsc -p tests/jscheck'] },
	{ name: 'types (tsc)', cmd: ['node_modules/.bin/tsc', '-p', 'tests/types'], count: expectErrorCounts },
	// Builds the www/ demo from the packed package, serves it, clicks through it in Chromium.
	{ name: 'e2e (demo + devtools)', cmd: ['node', 'tests/e2e/run.mjs'], count: summaryCounts('e2e') },
	// Two fresh SvelteKit apps (2 on Node 20, 3 on Node 22) made from the README's code blocks, checked, served, clicked.
	{ name: 'fresh SvelteKit apps', cmd: ['node', 'tests/sveltekit/run.mjs'], count: summaryCounts('sveltekit') },
	// The benchmark harness with tiny counts: it runs, it reports; no figure is checked.
	{ name: 'bench harness (smoke)', cmd: ['node', 'bench/run.mjs', '--quick'] },
	{ name: 'bench store (smoke)', cmd: ['node', 'bench/store.mjs', '--quick'] },
	{ name: 'bench transports (smoke)', cmd: ['node', 'bench/transports.mjs', '--quick'] }
];

function sumMatches(log, re) {
	let passed = 0;
	let failed = 0;
	let seen = false;
	for (const m of log.matchAll(re)) {
		seen = true;
		passed += Number(m[1]);
		failed += Number(m[2]);
	}
	return seen ? { passed, failed } : { passed: 0, failed: 0 };
}

function lastNumber(log, re) {
	const all = [...log.matchAll(re)];
	return all.length ? Number(all.at(-1)[1]) : 0;
}

function run(step) {
	const file = `${LOGS}/${step.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.log`;
	const out = createWriteStream(file);
	let log = '';
	return new Promise((resolve) => {
		const child = spawn(step.cmd[0], step.cmd.slice(1), { env: { ...process.env, ...step.env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

const rows = [];
let failedSteps = 0;
const started = Date.now();
for (const step of steps) {
	const t0 = Date.now();
	process.stdout.write(`${step.name.padEnd(28)} `);
	const { code, log, file } = await run(step);
	const seconds = ((Date.now() - t0) / 1000).toFixed(1);
	let counts = null;
	let ok = code === 0;
	if (step.count) {
		counts = step.count(log);
		if (counts.passed + counts.failed === 0) ok = false;
		if (counts.failed > 0) ok = false;
	}
	const detail = counts ? `${counts.passed} passed, ${counts.failed} failed` : ok ? 'ok' : 'failed';
	console.log(`${ok ? 'ok  ' : 'FAIL'} ${detail.padEnd(24)} ${seconds}s`);
	if (!ok) {
		failedSteps++;
		const why = counts && counts.passed + counts.failed === 0 ? 'it ran zero tests' : `exit code ${code}`;
		console.log(`---- ${step.name} failed (${why}); last lines of ${file}:`);
		console.log(log.split('\n').slice(-40).join('\n'));
		console.log('----');
	}
	rows.push({ step, ok, counts });
}

const suites = rows.filter((r) => r.counts);
const passed = suites.reduce((n, r) => n + r.counts.passed, 0);
const failed = suites.reduce((n, r) => n + r.counts.failed, 0);
const minutes = ((Date.now() - started) / 60000).toFixed(1);
console.log(
	`\nmake test: ${suites.length} suites, ${passed} tests passed, ${failed} failed; ` +
		`${rows.length - suites.length} checks; ${failedSteps === 0 ? 'all ok' : `${failedSteps} step(s) FAILED`} (${minutes} min)`
);
process.exit(failedSteps === 0 ? 0 : 1);
