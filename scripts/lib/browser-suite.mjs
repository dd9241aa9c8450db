// A small runner for the end-to-end suites that drive pages of this repo in
// headless Chromium (tests/store-e2e, tests/relay-e2e): serves the repo,
// launches Chromium, runs each test with `{ context, url }` plus what
// `around` gives it, prints `ok`/`not ok` lines and
// `# <label>: N passed, N failed`, and exits 1 on a failure or on no test.

import { launchChromium } from './chromium.mjs';
import { serveStatic } from './static-server.mjs';

/**
 * @param {string} label the summary line's label
 * @param {{name: string, fn: Function}[]} tests
 * @param {(run: (extra: object) => Promise<void>) => Promise<void>} [around] wraps each test, e.g. to start and stop a server
 */
export async function runBrowserSuite(label, tests, around = (run) => run({})) {
	const server = await serveStatic('.');
	const browser = await launchChromium();
	let passed = 0;
	let failed = 0;
	try {
		for (const t of tests) {
			try {
				await around((extra) => t.fn({ context: browser.context, url: server.url, ...extra }));
				passed++;
				console.log(`ok - ${t.name}`);
			} catch (error) {
				failed++;
				console.log(`not ok - ${t.name}\n${error?.stack ?? error}`);
			}
		}
	} finally {
		await browser.close();
		await server.close();
	}
	console.log(`# ${label}: ${passed} passed, ${failed} failed`);
	process.exit(failed > 0 || passed === 0 ? 1 : 0);
}
