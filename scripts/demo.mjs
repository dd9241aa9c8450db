// `make demo`: builds the www/ SvelteKit demo against the packed npm package
// and serves its production build on http://127.0.0.1:PORT.
//   node scripts/demo.mjs [port]
//
// How the package reaches the demo: `npm pack pkg` makes the tarball a
// customer would download, and `npm install --no-save` puts it in
// www/node_modules. It is not in www/package.json or its lock file, because
// the tarball's hash changes with every build and would break `npm ci`; a
// file missing from the package therefore fails the demo build.
//
// The e2e tests (tests/e2e/run.mjs) import buildDemo and startDemo from here.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const WWW = `${ROOT}/www`;
const PACK_DIR = `${ROOT}/target/pack`;

function run(cmd, args, cwd, quiet = false) {
	return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: quiet ? ['ignore', 'pipe', 'inherit'] : 'inherit' });
}

/** Packs pkg/, installs the tarball into www/, and runs `vite build`. */
export function buildDemo({ log = console.log } = {}) {
	const manifest = JSON.parse(readFileSync(`${ROOT}/pkg/package.json`, 'utf8'));
	rmSync(PACK_DIR, { recursive: true, force: true });
	mkdirSync(PACK_DIR, { recursive: true });
	const tarball = run('npm', ['pack', '--silent', '--pack-destination', PACK_DIR, `${ROOT}/pkg`], ROOT, true).trim().split('\n').at(-1);
	log(`demo: packed ${tarball}; installing it into www/node_modules`);
	// A fresh copy every time: an unchanged version number must not keep a stale install.
	rmSync(`${WWW}/node_modules/kaiwa-bus`, { recursive: true, force: true });
	run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `${PACK_DIR}/${tarball}`], WWW);
	checkInstalled(manifest.version);
	log('demo: vite build');
	run(`${WWW}/node_modules/.bin/vite`, ['build', '--logLevel', 'warn'], WWW);
}

// The installed package must be the one just built, file for file.
function checkInstalled(version) {
	const installed = `${WWW}/node_modules/kaiwa-bus`;
	const got = JSON.parse(readFileSync(`${installed}/package.json`, 'utf8')).version;
	if (got !== version) throw new Error(`demo: www has kaiwa-bus ${got} installed, expected ${version}`);
	for (const file of readdirSync(`${ROOT}/pkg`)) {
		if (file === 'package.json' || !/\.(js|wasm|d\.ts)$/.test(file)) continue;
		if (!readFileSync(`${installed}/${file}`).equals(readFileSync(`${ROOT}/pkg/${file}`))) {
			throw new Error(`demo: www/node_modules/kaiwa-bus/${file} differs from pkg/${file}`);
		}
	}
}

/** Resolves to a port free on 127.0.0.1: `port` itself (rejects if taken), or any when 0. */
export function freePort(port = 0) {
	return new Promise((resolve, reject) => {
		const probe = createServer();
		probe.once('error', (error) => reject(error.code === 'EADDRINUSE' ? new Error(`demo: port ${port} is already in use`) : error));
		probe.listen(port, '127.0.0.1', () => {
			const { port: got } = probe.address();
			probe.close(() => resolve(got));
		});
	});
}

/**
 * Serves www/build (`node build`, the adapter-node server) on 127.0.0.1;
 * port 0 picks a free one. Resolves to `{ url, stop }` once it answers.
 */
export async function startDemo({ port = 5173, quiet = false } = {}) {
	port = await freePort(port); // so that another server on the port cannot pass for this one
	const server = spawn(process.execPath, ['build'], {
		cwd: WWW,
		env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ORIGIN: `http://127.0.0.1:${port}` },
		stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit']
	});
	const exited = new Promise((done) => server.once('exit', (code, signal) => done(code ?? signal)));
	const url = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + 30_000;
	for (;;) {
		const status = await Promise.race([exited.then((code) => ({ exited: code })), fetch(url).then((r) => r.status, () => 0)]);
		if (typeof status === 'object') throw new Error(`demo: the server exited (${status.exited}) before answering`);
		if (status === 200) break;
		if (Date.now() > deadline) {
			server.kill();
			throw new Error(`demo: ${url} did not answer within 30 s`);
		}
		await new Promise((r) => setTimeout(r, 200));
	}
	return {
		url,
		stop() {
			server.kill();
			return exited;
		}
	};
}

async function main() {
	const port = Number(process.argv[2] ?? process.env.PORT ?? 5173);
	if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`demo: bad port ${process.argv[2]}`);
	buildDemo();
	const demo = await startDemo({ port });
	console.log(`\nkaiwa-bus demo: ${demo.url}  (Ctrl+C stops it)`);
	const stop = async () => {
		await demo.stop();
		process.exit(0);
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
	main().catch((error) => {
		console.error(error.message);
		process.exit(1);
	});
}
