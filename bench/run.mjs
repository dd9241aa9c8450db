// `make bench`: the same workload in Node and in headless Chromium, plus the
// package's size, init() time and memory over a million emits. Writes
// bench/results/latest.{json,md,svg} and the table in docs/benchmarks.md.
//   node bench/run.mjs [--quick]   (--quick: a smoke run with tiny counts)

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as esbuild from 'esbuild';
import { launchChromium } from '../scripts/lib/chromium.mjs';
import { serveStatic } from '../scripts/lib/static-server.mjs';
import { coreSize, gzipSize } from '../scripts/lib/size.mjs';
import { measureInit } from './init.mjs';
import { measurePanelChunk } from './panel-chunk.mjs';
import { buildReadyBundles, measureReady } from './ready.mjs';
import { available as cpuClockAvailable, lendCpuClock } from './renderer-clock.mjs';
import { renderMarkdown, renderSvg, summarize } from './report.js';

const quick = process.argv.includes('--quick');
const out = quick ? 'test-output/bench' : 'bench/results';
mkdirSync(out, { recursive: true });
mkdirSync('test-output/bench', { recursive: true });

// How busy the machine was: the figures of a shared machine are read with it.
const loadAtStart = os.loadavg()[0];
console.log('bench: Node…');
const node = JSON.parse(
	execFileSync('node', ['--expose-gc', '--single-threaded-gc', 'bench/node.mjs', ...(quick ? ['quick'] : [])], { encoding: 'utf8', maxBuffer: 1 << 26 })
);

console.log('bench: Chromium…');
await esbuild.build({
	entryPoints: ['bench/browser-entry.js'],
	bundle: true,
	format: 'esm',
	platform: 'browser',
	outfile: 'test-output/bench/bundle.js',
	logLevel: 'warning'
});
const readyBytes = await buildReadyBundles();
let readyMs;
const server = await serveStatic('.');
// GC work on the main thread, whose CPU time the page is timed in (as
// bench/node.mjs runs Node with --single-threaded-gc).
const browser = await launchChromium({ args: ['--js-flags=--expose-gc --single-threaded-gc', '--enable-precise-memory-info'] });
let chromium;
let initMs;
let initAfterDownloadMs;
try {
	const page = await browser.context.newPage();
	if (cpuClockAvailable) await lendCpuClock(page);
	await page.goto(`${server.url}/bench/page.html${quick ? '?quick' : ''}`);
	await page.waitForFunction(() => window.__bench, null, { timeout: 30 * 60_000 });
	chromium = await page.evaluate(() => window.__bench);
	if (chromium.error) throw new Error(chromium.error);
	await page.close();
	console.log('bench: init() in fresh pages…');
	({ ms: initMs, afterDownloadMs: initAfterDownloadMs } = (await measureInit(browser.context, server.url, quick ? 2 : 15))['/pkg']);
	console.log('bench: time to a usable bus in fresh pages…');
	readyMs = await measureReady(browser.context, server.url, quick ? 2 : 15);
} finally {
	await browser.close();
	await server.close();
}

const { wasm, jsMinified } = await coreSize();
// The JS a browser user of the bus loads (the devtools panel is a separate entry).
const snippetDir = readdirSync('pkg/snippets')[0];
const jsFiles = [
	...readdirSync('pkg', { recursive: true }).filter((f) => f.endsWith('.js') && !['node.js', 'inline.js', 'wasm-inline.js'].includes(f) && !/^(devtools|svelte|snippets)\//.test(f)),
	...readdirSync(`pkg/snippets/${snippetDir}/js`, { recursive: true }).filter((f) => f.endsWith('.js')).map((f) => `snippets/${snippetDir}/js/${f}`)
];
const glue = Buffer.concat(jsFiles.map((f) => readFileSync(`pkg/${f}`)));
const size = {
	wasm,
	js: { raw: glue.length, gzip: gzipSize(glue), files: jsFiles },
	// What a production build ships: the browser entry bundled and minified.
	jsMinified,
	// kaiwa-bus/inline: one minified bundle that carries the .wasm.
	inline: { raw: readyBytes.inline.length, gzip: gzipSize(readyBytes.inline) },
	// kaiwa-bus/devtools loaded with import(): its own chunk, none of it up front (checked).
	devtools: (await measurePanelChunk()).panel
};

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const result = {
	date: new Date().toISOString(),
	quick,
	machine: `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
	load: { start: loadAtStart, end: os.loadavg()[0] },
	engines: [node, chromium].map((e) => ({ engine: e.engine, clock: e.clock, timings: e.timings, memory: e.memory })),
	size,
	initMs,
	initAfterDownloadMs,
	readyMs
};
result.summary = summarize(result);
writeFileSync(`${out}/latest.json`, `${JSON.stringify(result, null, '\t')}\n`);
const markdown = renderMarkdown(result);
writeFileSync(`${out}/latest.md`, markdown);
writeFileSync(`${out}/latest.svg`, renderSvg(result));
console.log(markdown);

if (!quick) {
	const readme = readFileSync('docs/benchmarks.md', 'utf8');
	const start = '<!-- bench:start -->';
	const end = '<!-- bench:end -->';
	if (readme.includes(start) && readme.includes(end)) {
		const table = `${start}\n${markdown.split('\n').slice(2).join('\n').trim()}\n${end}`;
		writeFileSync('docs/benchmarks.md', readme.replace(new RegExp(`${start}[\\s\\S]*${end}`), table));
		console.log('bench: docs/benchmarks.md table updated');
	}
}
console.log(`bench: wrote ${out}/latest.{json,md,svg}`);
