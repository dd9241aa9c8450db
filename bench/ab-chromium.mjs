// A/B of the emit path in Chromium, as bench/ab.mjs is in Node:
// `node bench/ab-chromium.mjs <pkg dir>...` times the benchmark's kaiwa-bus
// cases (bench/workload.js, 1 handler) of each package beside mitt, mitt +
// zod v4 and mitt + ajv, each package in its own fresh page (its own wasm
// instance), the pages alternating A, B, B, A… Rounds are timed in the
// renderer main thread's CPU time (bench/renderer-clock.mjs), with the GC on
// that thread, as `make bench` does. Prints, per case, the median over pages
// of each page's median ns per emit, and of its ratio to each reference of
// the same page. Only the five cases run: mitt reads a few ns faster than
// among `make bench`'s full set, so its ratios to mitt read higher.
//   node bench/ab-chromium.mjs /tmp/pkg-before pkg [--runs 4] [--rounds 9]

import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { launchChromium } from '../scripts/lib/chromium.mjs';
import { serveStatic } from '../scripts/lib/static-server.mjs';
import { lendCpuClock } from './renderer-clock.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
	const at = args.indexOf(name);
	return at < 0 ? fallback : Number(args.splice(at, 2)[1]);
};
const runs = option('--runs', 4);
const rounds = option('--rounds', 9);
const dirs = args.length ? args : ['pkg'];
const KAIWA = ['kaiwa-bus (validated, history + stats)', 'kaiwa-bus (no schema: dispatch only)'];
const REFERENCE = ['mitt', 'mitt + zod v4', 'mitt + ajv'];
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// Each package is copied under test-output/ab/ (served with the repository)
// with a bundle of the workload that imports it.
const pages = [];
rmSync('test-output/ab', { recursive: true, force: true });
for (const [i, dir] of dirs.entries()) {
	const at = `test-output/ab/${i}`;
	mkdirSync(at, { recursive: true });
	cpSync(dir, `${at}/pkg`, { recursive: true });
	const only = JSON.stringify([...KAIWA, ...REFERENCE]);
	writeFileSync(
		`${at}/entry.js`,
		`import { init } from '#kaiwa';
import { runTimings } from '../../../bench/workload.js';
export async function run() {
	await init('/${at}/pkg/kaiwa_bus_bg.wasm');
	await window.__cpuMark();
	for (const t0 = performance.now(); performance.now() - t0 < 300; );
	return runTimings({ now: () => window.__cpuMs(), rounds: ${rounds}, warmupRounds: 2, handlerCounts: [1], only: ${only} });
}
`
	);
	await esbuild.build({
		entryPoints: [`${at}/entry.js`],
		bundle: true,
		format: 'esm',
		outfile: `${at}/bundle.js`,
		logLevel: 'warning',
		plugins: [{ name: 'kaiwa', setup: (b) => b.onResolve({ filter: /^#kaiwa$/ }, () => ({ path: resolve(`${at}/pkg/index.js`) })) }]
	});
	writeFileSync(
		`${at}/page.html`,
		`<!doctype html><script type="module">const { run } = await import('/${at}/bundle.js'); try { window.__ab = await run(); } catch (e) { window.__ab = { error: String(e?.stack ?? e) }; }</script>`
	);
	pages.push(`${at}/page.html`);
}

const server = await serveStatic('.');
const browser = await launchChromium({ args: ['--js-flags=--expose-gc --single-threaded-gc'] });
const results = dirs.map(() => []); // per package: per page, case -> median ns
try {
	for (let r = 0; r < runs; r++) {
		const order = r % 2 ? [...pages.keys()].reverse() : [...pages.keys()];
		for (const i of order) {
			const page = await browser.context.newPage();
			await lendCpuClock(page);
			await page.goto(`${server.url}/${pages[i]}`);
			await page.waitForFunction(() => window.__ab, null, { timeout: 10 * 60_000 });
			const timings = await page.evaluate(() => window.__ab);
			if (timings.error) throw new Error(timings.error);
			results[i].push(Object.fromEntries(timings.map((t) => [t.case, median(t.samples)])));
			await page.close();
			process.stderr.write('.');
		}
	}
} finally {
	await browser.close();
	await server.close();
}
process.stderr.write('\n');
console.log(
	`Chromium, 1 handler: ns per emit (renderer CPU time), median over ${runs} pages of ${rounds} rounds; ratio to each reference of the same page`
);
const line = (label, perPage, name) => {
	const ratios = REFERENCE.map((ref) => `${median(perPage.map((p) => p[name] / p[ref])).toFixed(2)}× ${ref}`);
	console.log(
		`  ${label.padEnd(52)} ${median(perPage.map((p) => p[name]))
			.toFixed(1)
			.padStart(6)}  ${ratios.join('  ')}`
	);
};
for (const [i, dir] of dirs.entries()) for (const name of KAIWA) line(`${dir}: ${name.slice(10)}`, results[i], name);
for (const ref of REFERENCE) line(ref, results.flat(), ref);
