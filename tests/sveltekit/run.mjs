// The fresh-app test: what a SvelteKit developer does in the first hour,
// with the README as the only guide. For SvelteKit 2 (Vite 6, Node 20) and
// SvelteKit 3 (Vite 8, Node 22), it makes a new app from a bare template
// (tests/sveltekit/template, as `npx sv create` leaves it, plus the pinned
// package.json and lock file of kit2/ or kit3/, with each one's
// tsconfig.json, kit2's svelte.config.js and kit3's vite.config.ts), writes
// into it every code block of the README that starts with a `src/...` path
// comment (so the README cannot rot), installs
// the packed package (npm pack pkg/) and checks:
//   - svelte-check passes (the blocks are lang="ts"), warnings included;
//   - server-side rendering with kaiwa-bus/svelte (ssr-check.mjs);
//   - in `vite dev` and in the production build (`vite build`, `vite
//     preview`): the server renders the page; after hydration a button
//     emits an event with a real Date, which a component subscribed with
//     onEvent and one subscribed with useBus().on in onMount both receive;
//     the devtools panel lists it as delivered to 2 handlers; the page logs
//     no error and no request fails (the template's favicon included);
//   - what is deployed (deploy.mjs): no .wasm in the client build, and
//     SvelteKit 3's adapter-node build/ run from a folder without
//     node_modules answers, works, and compiles no WebAssembly on the server;
//   - docs/store.md's "Keeping history across reloads" layout on the same app
//     (history.mjs): stored in IndexedDB, restored after a reload, strict;
//   - then docs/relay-sveltekit.md (the README's "Many users" carried on) on
//     the same app, against a real kaiwa-relay (many-users.mjs): two users,
//     three browsers, a stale schema.
//   node tests/sveltekit/run.mjs [kit2|kit3]
// Needs pkg/ built. Prints `# sveltekit: N passed, M failed`.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { launchChromium } from '../../scripts/lib/chromium.mjs';
import { deployChecks } from './deploy.mjs';
import { startServer } from './server.mjs';
import { keepingHistory } from './history.mjs';
import { manyUsers, nodeAbortedAtExit } from './many-users.mjs';

const ROOT = resolve('.');
const OUT = `${ROOT}/test-output/sveltekit`;
const HERE = `${ROOT}/tests/sveltekit`;
const only = process.argv[2];

const nodeOf = (major) =>
	process.versions.node.split('.')[0] === String(major)
		? process.execPath
		: execFileSync(`${ROOT}/scripts/node-bin.sh`, [String(major)], { encoding: 'utf8' }).trim();

const APPS = [
	{ name: 'kit2', label: 'SvelteKit 2 + Vite 6 on Node 20', node: 20, kit: 2 },
	// deploy: built with adapter-node (kit3/vite.config.ts), and run without node_modules.
	{ name: 'kit3', label: 'SvelteKit 3 + Vite 8 on Node 22', node: 22, kit: 3, deploy: true }
];

let passed = 0;
let failed = 0;
async function check(name, fn) {
	const t0 = Date.now();
	try {
		await fn();
		passed++;
		console.log(`ok - ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
		return true;
	} catch (error) {
		failed++;
		console.log(`not ok - ${name}\n${String(error.stack ?? error).replace(/^/gm, '    ')}`);
		return false;
	}
}

/**
 * The README's code blocks that begin with a `src/...` path comment: { path: text }. A block
 * marked for one version (`// src/env.ts (SvelteKit 3)`) is taken only for that `kit` major.
 */
export function readmeFiles(readme, kit) {
	const files = {};
	for (const [, body] of readme.matchAll(/^```(?:svelte|ts|js)\n([\s\S]*?)^```$/gm)) {
		const [, path, only] = body.match(/^(?:<!--|\/\/) (src\/\S+)(?: \(SvelteKit (\d+)\))?/) ?? [];
		if (path && (only === undefined || Number(only) === kit)) files[path] = body;
	}
	return files;
}

function run(cmd, args, cwd, retried = false) {
	try {
		return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: 'pipe', maxBuffer: 1 << 26 });
	} catch (error) {
		const output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
		if (!retried && nodeAbortedAtExit(error.status ?? 1, output)) return run(cmd, args, cwd, true);
		throw new Error(`${[cmd, ...args].join(' ')} failed:\n${output}`, { cause: error });
	}
}

function freePort() {
	return new Promise((done, fail) => {
		const server = createServer();
		server.on('error', fail);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => done(port));
		});
	});
}

/** Starts `vite dev` or `vite preview` on a free loopback port (with `env` added); resolves when it answers. */
async function startVite(app, command, env = {}) {
	const port = await freePort();
	const args = ['node_modules/vite/bin/vite.js', command, '--host', '127.0.0.1', '--port', String(port), '--strictPort'];
	return startServer(`vite ${command}`, app.nodeBin, args, {
		cwd: app.dir,
		env: { ...process.env, ...env },
		url: `http://127.0.0.1:${port}`
	});
}

/** The click-through of one served app; throws what went wrong. */
async function clickThrough(context, url) {
	const html = await (await fetch(url)).text();
	if (!html.includes('Add tea') || !html.includes('0 in the cart'))
		throw new Error(`the server did not render the page:\n${html.slice(0, 2000)}`);
	const page = await context.newPage();
	const problems = [];
	page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} for ${r.url()}`));
	page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
	try {
		const response = await page.goto(url);
		if (response.status() !== 200) throw new Error(`GET ${url}: HTTP ${response.status()}`);
		// The panel is mounted from the layout's onMount: the page is hydrated.
		await page.waitForFunction(() => document.querySelector('kaiwa-devtools')?.shadowRoot, null, { timeout: 30_000 });
		await page.waitForLoadState('networkidle');
		await page.getByRole('button', { name: 'Add tea' }).click();
		const iso = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;
		await page.locator('.cart-count', { hasText: /^1 in the cart, the last at / }).waitFor({ timeout: 10_000 });
		const count = await page.locator('.cart-count').innerText();
		if (!iso.test(count)) throw new Error(`onEvent's handler did not get a Date: ${count}`);
		await page.locator('.activity li', { hasText: /^cart\.item\.added at / }).waitFor({ timeout: 10_000 });
		const activity = await page.locator('.activity li').allInnerTexts();
		if (activity.length !== 1 || !iso.test(activity[0])) throw new Error(`useBus().on in onMount: ${JSON.stringify(activity)}`);
		const listed = await page.waitForFunction(
			() => {
				const root = document.querySelector('kaiwa-devtools').shadowRoot;
				const row = [...root.querySelectorAll('.row[data-status]')].find((r) => r.textContent.includes('cart.item.added'));
				return row && { status: row.dataset.status, text: row.textContent };
			},
			null,
			{ timeout: 10_000 }
		);
		const row = await listed.jsonValue();
		if (row.status !== 'delivered') throw new Error(`the panel lists the event as ${row.status}: ${row.text}`);
		const history = await page.evaluate(() =>
			document
				.querySelector('kaiwa-devtools')
				.bus.getEventHistory()
				.map((r) => ({ name: r.name, handlers: r.handlerCount, date: r.payload.at instanceof Date }))
		);
		const event = history.find((r) => r.name === 'cart.item.added');
		if (!event || event.handlers !== 2 || !event.date) throw new Error(`the bus history: ${JSON.stringify(history)}`);
		await page.waitForTimeout(100);
		if (problems.length) throw new Error(problems.join('\n'));
	} finally {
		await page.close();
	}
}

// The app of the quick start, from the README's blocks; docs/store.md's "Keeping history across reloads" and
// docs/relay-sveltekit.md's blocks are built on it after (history.mjs, many-users.mjs).
const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
const historySection =
	readFileSync(`${ROOT}/docs/store.md`, 'utf8')
		.split(/^(?=## )/m)
		.find((s) => s.startsWith('## Keeping history across reloads')) ?? '';
const manyUsersSection = readFileSync(`${ROOT}/docs/relay-sveltekit.md`, 'utf8');
const files = readmeFiles(readme);
console.log(`# README blocks: ${Object.keys(files).join(', ')}`);
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const tarball = run('npm', ['pack', '--silent', '--pack-destination', OUT, `${ROOT}/pkg`], ROOT)
	.trim()
	.split('\n')
	.at(-1);

const browser = await launchChromium();
try {
	for (const spec of APPS) {
		if (only && spec.name !== only) continue;
		const app = { ...spec, dir: `${OUT}/${spec.name}`, nodeBin: nodeOf(spec.node) };
		const ready = await check(`${app.label}: a fresh app with the README's files installs`, () => {
			if (Object.keys(files).length < 5 || !files['src/routes/+layout.svelte'])
				throw new Error(`the README's SvelteKit blocks are missing: ${Object.keys(files)}`);
			cpSync(`${HERE}/template`, app.dir, { recursive: true });
			// Each version's pinned package.json and lock file (and SvelteKit 2's svelte.config.js: 3 takes none).
			cpSync(`${HERE}/${app.name}`, app.dir, { recursive: true });
			for (const [path, text] of Object.entries(files)) {
				mkdirSync(dirname(join(app.dir, path)), { recursive: true });
				writeFileSync(join(app.dir, path), text);
			}
			const npm = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
			run('npm', ['ci', ...npm], app.dir);
			// As a user does: kaiwa-bus in package.json (Vite's Svelte plugin reads it there).
			run('npm', ['install', ...npm, `${OUT}/${tarball}`], app.dir);
			const version = run(app.nodeBin, ['--version'], app.dir).trim();
			if (!version.startsWith(`v${app.node}.`)) throw new Error(`expected Node ${app.node}, got ${version}`);
		});
		if (!ready) continue;
		await check(`${app.label}: svelte-check passes (lang="ts")`, () => {
			run(app.nodeBin, ['node_modules/@sveltejs/kit/svelte-kit.js', 'sync'], app.dir);
			run(
				app.nodeBin,
				['node_modules/svelte-check/bin/svelte-check', '--tsconfig', './tsconfig.json', '--fail-on-warnings'],
				app.dir
			);
		});
		await check(`${app.label}: SSR with Svelte's server renderer: a bus per render, no handler runs, errors name the fix`, () => {
			cpSync(`${HERE}/ssr-check.mjs`, `${app.dir}/ssr-check.mjs`);
			try {
				run(app.nodeBin, ['ssr-check.mjs'], app.dir);
			} finally {
				// Its files are not the app's (SvelteKit 3's svelte-check would check them).
				rmSync(join(app.dir, 'ssr-check'), { recursive: true, force: true });
				rmSync(join(app.dir, 'ssr-check.mjs'), { force: true });
			}
		});
		await check(`${app.label}: vite dev: onEvent and useBus().on receive a click's event with a Date; the panel lists it`, async () => {
			const server = await startVite(app, 'dev');
			try {
				await clickThrough(browser.context, server.url);
			} catch (error) {
				throw new Error(`${error.message}\n--- vite dev output:\n${server.output()}`, { cause: error });
			} finally {
				await server.stop();
			}
		});
		await check(`${app.label}: production build: the same, with ?devtools`, async () => {
			run(app.nodeBin, ['node_modules/vite/bin/vite.js', 'build'], app.dir);
			const server = await startVite(app, 'preview');
			try {
				await clickThrough(browser.context, `${server.url}/?devtools`);
			} catch (error) {
				throw new Error(`${error.message}\n--- vite preview output:\n${server.output()}`, { cause: error });
			} finally {
				await server.stop();
			}
		});
		await deployChecks(app, { check, clickThrough, freePort, browser });
		await keepingHistory(app, historySection, { check, run, startVite, readmeFiles, browser });
		await manyUsers(app, manyUsersSection, { check, run, startVite, readmeFiles });
	}
} finally {
	await browser.close();
}
console.log(`# sveltekit: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
