// Runs the package tests (tests/js/*.test.js) in headless Chromium against
// pkg/, served over HTTP as a browser would load it. Prints one line per
// test and a summary line; exits 1 on any failure or if no test ran.

import { readdirSync } from 'node:fs';
import { launchChromium } from '../../scripts/lib/chromium.mjs';
import { serveStatic } from '../../scripts/lib/static-server.mjs';

const files = readdirSync('tests/js').filter((f) => f.endsWith('.test.js'));
const server = await serveStatic('.');
const browser = await launchChromium({ args: ['--js-flags=--expose-gc', '--enable-precise-memory-info'] });
let failed = 0;
let passed = 0;
try {
	const page = await browser.context.newPage();
	page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
	page.on('console', (m) => {
		if (m.text().startsWith('# memory')) console.log(m.text());
	});
	await page.goto(`${server.url}/tests/js/browser.html?files=${files.join(',')}`);
	await page.waitForFunction(() => window.__results, null, { timeout: 120_000 });
	const { results, errors } = await page.evaluate(() => window.__results);
	for (const r of results) {
		if (r.ok) passed++;
		else failed++;
		console.log(`${r.ok ? 'ok' : 'not ok'} - ${r.name}${r.ok ? '' : `\n${r.error}`}`);
	}
	for (const e of errors) {
		failed++;
		console.log(`not ok - page: ${e}`);
	}
} finally {
	await browser.close();
	await server.close();
}
console.log(`# browser: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
