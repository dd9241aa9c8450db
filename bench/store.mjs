// `make bench-store` (and part of `make bench`): the Event Store's benchmark
// in headless Chromium (bench/store-workload.js), written to
// bench/results/store.{json,md}.
//   node bench/store.mjs [--quick]

import { mkdirSync, writeFileSync } from 'node:fs';
import { launchChromium } from '../scripts/lib/chromium.mjs';
import { serveStatic } from '../scripts/lib/static-server.mjs';

const quick = process.argv.includes('--quick');
const out = quick ? 'test-output/bench' : 'bench/results';
mkdirSync(out, { recursive: true });

const server = await serveStatic('.');
const browser = await launchChromium();
let result;
try {
	const page = await browser.context.newPage();
	await page.goto(`${server.url}/bench/store.html${quick ? '?quick' : ''}`);
	await page.waitForFunction(() => window.__bench, null, { timeout: 20 * 60_000 });
	result = await page.evaluate(() => window.__bench);
} finally {
	await browser.close();
	await server.close();
}
if (result.error) throw new Error(result.error);

const f = (x, digits = 1) => x.toFixed(digits);
const md = `# Event Store benchmark (Chromium)

| | figure |
|---|---|
| emit, memory bus (validated, 1 handler) | ${f(result.memoryEmitNs)} ns |
| emit, persistent bus, batched (the synchronous part) | ${f(result.batchedEmitNs)} ns (${f(result.batchedEmitNs / result.memoryEmitNs, 2)}× the memory bus) |
| flush() after a burst of ${result.flushBurst.events} emits | p50 ${f(result.flushBurst.p50Ms)} ms, p99 ${f(result.flushBurst.p99Ms)} ms |
| emit, persistent bus, store-first (awaited, one at a time) | p50 ${f(result.storeFirst.p50Ms, 2)} ms, p99 ${f(result.storeFirst.p99Ms, 2)} ms |
| restore the newest ${result.restore.restored} of ${result.restore.stored} stored events | median ${f(result.restore.medianMs)} ms, max ${f(result.restore.maxMs)} ms |

Measured by \`make bench-store\` on ${new Date().toISOString().slice(0, 10)}.
`;
writeFileSync(`${out}/store.json`, `${JSON.stringify(result, null, '\t')}\n`);
writeFileSync(`${out}/store.md`, md);
console.log(md);
