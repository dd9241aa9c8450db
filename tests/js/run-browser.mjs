// Runs the package tests (tests/js/*.test.js) in headless Chromium against
// pkg/, served over HTTP as a browser would load it. Prints one line per
// test and a summary line; exits 1 on any failure or if no test ran.

import { readdirSync } from 'node:fs';
import { launchChromium } from '../../scripts/lib/chromium.mjs';
import { serveStatic } from '../../scripts/lib/static-server.mjs';

const files = readdirSync('tests/js').filter((f) => f.endsWith('.test.js'));
const CSP = "script-src 'self' 'wasm-unsafe-eval'";

// tests/js/csp.html under a strict CSP header: at most `allowed` violation
// reports for ten schemas on two buses, and every emit validated.
async function strictCsp(context, url, allowed) {
	const page = await context.newPage();
	await page.route('**/tests/js/csp.html*', async (route) => {
		const response = await route.fetch();
		await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': CSP } });
	});
	await page.goto(url);
	await page.waitForFunction(() => window.__csp, null, { timeout: 60_000 });
	const r = await page.evaluate(() => window.__csp);
	await page.close();
	const ok = !r.error && r.delivered === 10 && r.refused === 10 && r.violations.length <= allowed;
	return { ok, detail: JSON.stringify(r) };
}
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
	for (const [query, allowed, name] of [
		['', 1, 'strict CSP: one cached probe of new Function per page, at most one violation report'],
		['?jitless', 0, 'strict CSP with configure({ jitless: true }): no violation report']
	]) {
		const r = await strictCsp(browser.context, `${server.url}/tests/js/csp.html${query}`, allowed);
		if (r.ok) passed++;
		else failed++;
		console.log(`${r.ok ? 'ok' : 'not ok'} - ${name}${r.ok ? '' : `\n${r.detail}`}`);
	}
} finally {
	await browser.close();
	await server.close();
}
console.log(`# browser: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
