// Time to a usable bus in Chromium, per entry: bench/ready.html in fresh
// pages, loading production bundles (esbuild, minified) of the two ways in.
// Used by bench/run.mjs (`make bench`); alone,
//   node bench/ready.mjs [pages]   (default 15)
// prints the medians and the gzip size of each bundle (+ the .wasm it fetches).

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

// The two ways to a usable bus, as an app would write them.
const entries = {
	core: "import { init, EventBus } from './pkg/index.js'; export async function ready() { await init('/pkg/kaiwa_bus_bg.wasm'); return new EventBus(); }",
	inline: "import { EventBus } from './pkg/inline.js'; export async function ready() { return new EventBus(); }"
};

/** Bundles each entry into test-output/bench/ready-<entry>.js; returns their bytes. */
export async function buildReadyBundles() {
	const bytes = {};
	for (const [entry, contents] of Object.entries(entries)) {
		const outfile = `test-output/bench/ready-${entry}.js`;
		await esbuild.build({ stdin: { contents, resolveDir: '.', loader: 'js' }, bundle: true, minify: true, format: 'esm', outfile, logLevel: 'warning' });
		bytes[entry] = readFileSync(outfile);
	}
	return bytes;
}

/** Ms from navigation start to a first emit, `pages` fresh pages per entry, interleaved. */
export async function measureReady(context, baseUrl, pages) {
	const ms = Object.fromEntries(Object.keys(entries).map((entry) => [entry, []]));
	for (let i = 0; i < pages; i++) {
		for (const entry of Object.keys(entries)) {
			const page = await context.newPage();
			await page.goto(`${baseUrl}/bench/ready.html?entry=${entry}`);
			await page.waitForFunction(() => window.__ready !== undefined);
			ms[entry].push(await page.evaluate(() => window.__ready.ms));
			await page.close();
		}
	}
	return ms;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
	const { launchChromium } = await import('../scripts/lib/chromium.mjs');
	const { serveStatic } = await import('../scripts/lib/static-server.mjs');
	const pages = Number(process.argv[2] ?? 15);
	const bytes = await buildReadyBundles();
	const server = await serveStatic('.');
	const browser = await launchChromium();
	try {
		const ms = await measureReady(browser.context, server.url, pages);
		const gz = (b) => gzipSync(b, { level: 9 }).length / 1024;
		const wasm = gz(readFileSync('pkg/kaiwa_bus_bg.wasm'));
		for (const [entry, times] of Object.entries(ms)) {
			const sorted = [...times].sort((a, b) => a - b);
			const median = (sorted[(pages - 1) >> 1] + sorted[pages >> 1]) / 2;
			const size = gz(bytes[entry]) + (entry === 'core' ? wasm : 0);
			console.log(`${entry}: ${median.toFixed(1)} ms median of ${pages} fresh pages (min ${sorted[0].toFixed(1)}, max ${sorted.at(-1).toFixed(1)}); ${size.toFixed(1)} KB gzip downloaded`);
		}
	} finally {
		await browser.close();
		await server.close();
	}
}
