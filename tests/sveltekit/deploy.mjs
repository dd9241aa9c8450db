// The fresh-app suite's deploy part (tests/sveltekit/run.mjs calls it after
// the production build): what leaves the machine after `vite build`.
//   - the client build carries no .wasm file (kaiwa-bus/svelte runs on
//     kaiwa-bus/inline, whose module is inside its JS);
//   - with adapter-node, build/ and package.json copied to a folder with no
//     node_modules (what serverless platforms run): the server answers 200,
//     the button works in Chromium, and the app compiled no WebAssembly on
//     the server while it rendered (counted by scripts/lib/count-wasm.mjs,
//     preloaded; first shown to count kaiwa-bus's own compilation).

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { startServer } from './server.mjs';

const COUNT_WASM = resolve('scripts/lib/count-wasm.mjs');

/**
 * The WebAssembly compilations count-wasm.mjs logged to `file` that the
 * app's code asked for: [{ how, stack }]. Not Node's own: undici, behind
 * `fetch`, `Request` and `Response` (which SvelteKit's server uses), compiles
 * its HTTP parser, llhttp, when first loaded.
 */
const compilations = (file) =>
	(existsSync(file)
		? readFileSync(file, 'utf8')
				.trim()
				.split('\n')
				.filter(Boolean)
				.map((line) => JSON.parse(line))
		: []
	).filter((c) => !/\(node:internal\/|at node:internal\//.test(c.stack.split('\n')[0]));

/** Runs `script` (an ES module's text) in `cwd` with the counter preloaded; returns how many compilations it logged. */
function countIn(app, cwd, script) {
	const dir = mkdtempSync(join(tmpdir(), 'kaiwa-wasm-log-'));
	try {
		execFileSync(app.nodeBin, ['--import', COUNT_WASM, '--input-type=module', '-e', script], {
			cwd,
			env: { ...process.env, KAIWA_WASM_LOG: `${dir}/log` },
			stdio: 'pipe'
		});
		return compilations(`${dir}/log`).length;
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

/** Every file under `dir` whose name ends in .wasm. */
const wasmFiles = (dir) => readdirSync(dir, { recursive: true }).filter((file) => String(file).endsWith('.wasm'));

/** Starts the adapter-node server in `dir` on `port` with the counter; resolves when it answers. */
function startNodeServer(app, dir, port, log) {
	const env = { ...process.env, HOST: '127.0.0.1', PORT: String(port), KAIWA_WASM_LOG: log };
	return startServer('node build', app.nodeBin, ['--import', COUNT_WASM, 'build/index.js'], {
		cwd: dir,
		env,
		url: `http://127.0.0.1:${port}`,
		timeout: 30_000
	});
}

/**
 * The deploy checks of one app, after its production build. `app.deploy`:
 * it is built with adapter-node. `tools`: run.mjs's check, clickThrough,
 * freePort and the shared browser.
 */
export async function deployChecks(app, { check, clickThrough, freePort, browser }) {
	await check(`${app.label}: the client build has no .wasm file (kaiwa-bus/inline carries the module)`, () => {
		const client = `${app.dir}/.svelte-kit/output/client`;
		if (!existsSync(`${client}/_app`)) throw new Error(`no client build in ${client}`);
		const found = wasmFiles(client);
		if (found.length) throw new Error(`the client build ships ${found.join(', ')}, which no page loads`);
	});
	if (!app.deploy) return;
	await check(
		`${app.label}: adapter-node's build/ run without node_modules: 200, the button works, no WebAssembly compiled by the app on the server`,
		async () => {
			// The counter sees kaiwa-bus's compilation: none at import, one at the first bus.
			const counted = countIn(
				app,
				app.dir,
				"const { createEventBus } = await import('kaiwa-bus'); if (typeof createEventBus !== 'function') throw 0;"
			);
			const countedBus = countIn(
				app,
				app.dir,
				"const { createEventBus } = await import('kaiwa-bus'); createEventBus('memory'); createEventBus('memory');"
			);
			if (counted !== 0 || countedBus !== 1)
				throw new Error(
					`count-wasm.mjs counted ${counted} compilations at import and ${countedBus} for two buses (expected 0 and 1)`
				);

			if (!existsSync(`${app.dir}/build/index.js`))
				throw new Error('no build/index.js: is adapter-node configured (tests/sveltekit/kit3/vite.config.ts)?');
			const dir = mkdtempSync(join(tmpdir(), 'kaiwa-deploy-'));
			try {
				cpSync(`${app.dir}/build`, `${dir}/build`, { recursive: true });
				cpSync(`${app.dir}/package.json`, `${dir}/package.json`);
				for (let up = dir; up !== dirname(up); up = dirname(up)) {
					if (existsSync(`${up}/node_modules`))
						throw new Error(`${up}/node_modules exists: the deploy folder must have none above it`);
				}
				const log = `${dir}/wasm.log`;
				const server = await startNodeServer(app, dir, await freePort(), log);
				try {
					const response = await fetch(server.url);
					const html = await response.text();
					if (response.status !== 200 || !html.includes('Add tea'))
						throw new Error(`GET /: HTTP ${response.status}\n${html.slice(0, 2000)}`);
					await clickThrough(browser.context, `${server.url}/?devtools`);
				} catch (error) {
					throw new Error(`${error.message}\n--- node build output:\n${server.output()}`, { cause: error });
				} finally {
					await server.stop();
				}
				const compiled = compilations(log);
				if (compiled.length)
					throw new Error(
						`the server compiled ${compiled.length} WebAssembly module(s):\n${compiled.map((c) => `${c.how}\n${c.stack}`).join('\n\n')}`
					);
			} finally {
				rmSync(dir, { recursive: true, force: true });
			}
		}
	);
}
