// End-to-end tests: the www/ demo's production build, served by its own
// adapter-node server, clicked through in headless Chromium; the assertions
// read the devtools panel (tests/e2e/panel.test.mjs).
//   node tests/e2e/run.mjs [name filter]
// Builds the demo first (scripts/demo.mjs: npm pack pkg/, install the
// tarball into www/, vite build; cargo build --release -p kaiwa-relay), so
// pkg/ must be built; startDemo() serves it next to a real kaiwa-relay
// (memory engine, free ports), which the relay tests stop and restart. Prints one line per
// test and `# e2e: N passed, M failed`; exits 1 on any failure or if no test
// ran. Screenshots go to test-output/e2e/.

import { mkdirSync, rmSync } from 'node:fs';
import { buildDemo, buildRelay, startDemo } from '../../scripts/demo.mjs';
import { launchChromium } from '../../scripts/lib/chromium.mjs';
import { SHOTS, openDemo } from './helpers.mjs';
import { tests as hostile } from './hostile.test.mjs';
import { tests as panel } from './panel.test.mjs';
import { tests as relay } from './relay.test.mjs';

// The relay tests last: the last one stops the relay (and starts it again).
const tests = [...panel, ...hostile, ...relay];

const TEST_TIMEOUT_MS = 60_000;
const only = process.argv[2];

let passed = 0;
let failed = 0;
const report = (ok, name, detail = '') => {
	if (ok) passed++;
	else failed++;
	console.log(`${ok ? 'ok' : 'not ok'} - ${name}${detail ? `\n${detail.replace(/^/gm, '    ')}` : ''}`);
};

function withTimeout(promise, ms, what) {
	let timer;
	const timeout = new Promise((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms / 1000} s`)), ms);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

rmSync(SHOTS, { recursive: true, force: true });
mkdirSync(SHOTS, { recursive: true });

let demo = null;
let browser = null;
try {
	buildRelay({ log: (line) => console.log(`# ${line}`) });
	buildDemo({ log: (line) => console.log(`# ${line}`) });
	demo = await startDemo({ port: 0, quiet: true });
	console.log(`# demo served at ${demo.url}`);
	browser = await launchChromium();
	for (const test of tests) {
		if (only && !test.name.includes(only)) continue;
		let session = null;
		try {
			const body = async () => {
				if (test.browser !== false) session = await openDemo(browser.context, demo.url, test);
				await test.run({ ...session, url: demo.url, context: browser.context, demo });
				session?.assertClean();
			};
			await withTimeout(body(), TEST_TIMEOUT_MS, test.name);
			report(true, test.name);
		} catch (error) {
			report(false, test.name, error.stack ?? String(error));
		} finally {
			await session?.page.close().catch(() => {});
		}
	}
} catch (error) {
	report(false, 'build and serve the demo', error.stack ?? String(error));
} finally {
	await browser?.close();
	await demo?.stop();
}

console.log(`# screenshots in ${SHOTS}/`);
console.log(`# e2e: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
