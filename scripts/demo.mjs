// `make demo`: builds the www/ SvelteKit demo against the packed npm package
// and serves its production build on http://127.0.0.1:PORT, next to a
// kaiwa-relay (target/release/kaiwa-relay, built by `make demo`) on a free
// loopback port.
//   node scripts/demo.mjs [port]
//   REDIS_URL=redis://127.0.0.1:6379 node scripts/demo.mjs   (the relay on Redis)
//
// The relay: `--engine memory` (or `--engine redis --redis-url $REDIS_URL`),
// with an HS256 secret made here at start (random, never written anywhere)
// in its environment as KAIWA_RELAY_SECRET, and `--schemas` the demo's own
// events (www/src/lib/events.js) as `JSON.stringify(events.schemas)`, so the
// relay validates them and knows their audience (the maintenance notice is
// 'all': every user gets it; every other event is private to its user). The
// SvelteKit server gets the same secret and the relay's address
// (KAIWA_RELAY_SECRET, KAIWA_RELAY_URL), and signs each signed-in user's
// token with it (www/src/lib/server/relay.js).
// Ctrl+C stops both; a relay that dies is reported loudly, and the page goes
// on with its local bus (its relay card and panel say 'closed').
//
// How the package reaches the demo: `npm pack pkg` makes the tarball a
// customer would download, and `npm install --no-save` puts it in
// www/node_modules. It is not in www/package.json or its lock file, because
// the tarball's hash changes with every build and would break `npm ci`; a
// file missing from the package therefore fails the demo build.
//
// The e2e tests (tests/e2e/run.mjs) import buildDemo and startDemo from here.

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const WWW = `${ROOT}/www`;
const PACK_DIR = `${ROOT}/target/pack`;
const RELAY_BIN = `${ROOT}/target/release/kaiwa-relay`;

function run(cmd, args, cwd, quiet = false) {
	return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: quiet ? ['ignore', 'pipe', 'inherit'] : 'inherit' });
}

/** Packs pkg/, installs the tarball into www/, and runs `vite build`. */
export function buildDemo({ log = console.log } = {}) {
	const manifest = JSON.parse(readFileSync(`${ROOT}/pkg/package.json`, 'utf8'));
	rmSync(PACK_DIR, { recursive: true, force: true });
	mkdirSync(PACK_DIR, { recursive: true });
	const tarball = run('npm', ['pack', '--silent', '--pack-destination', PACK_DIR, `${ROOT}/pkg`], ROOT, true)
		.trim()
		.split('\n')
		.at(-1);
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

/** Builds target/release/kaiwa-relay (`make relay`; quick when it is up to date). */
export function buildRelay({ log = console.log } = {}) {
	log('demo: cargo build --release -p kaiwa-relay');
	run('cargo', ['build', '--release', '--quiet', '-p', 'kaiwa-relay'], ROOT);
}

/**
 * Writes the relay's --schemas file from the demo's events module (after
 * buildDemo, which installs the package it imports) and returns its path.
 */
async function writeSchemas() {
	const { events } = await import(pathToFileURL(`${WWW}/src/lib/events.js`).href);
	const file = `${ROOT}/target/demo-schemas.json`;
	mkdirSync(`${ROOT}/target`, { recursive: true });
	writeFileSync(file, JSON.stringify(events.schemas));
	return file;
}

/**
 * Starts kaiwa-relay on 127.0.0.1 (`port` 0: a free one) with `secret`, on
 * Redis when `redisUrl` is given. Resolves once it listens, to
 * `{ http, port, stop(), restart() }`; `restart()` starts it again on the same
 * port (the demo server knows it by that). `onExit(code)` is called when it
 * exits without being asked to.
 */
export async function startRelay({ secret, port = 0, redisUrl, quiet = false, onExit = () => {} }) {
	const engine = redisUrl ? ['--engine', 'redis', '--redis-url', redisUrl] : ['--engine', 'memory'];
	engine.push('--schemas', await writeSchemas());
	let child = null;
	let stopping = false;
	const launch = (listen) =>
		new Promise((resolve, reject) => {
			child = spawn(RELAY_BIN, ['--listen', `127.0.0.1:${listen}`, ...engine], {
				env: { ...process.env, KAIWA_RELAY_SECRET: secret },
				stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit']
			});
			const proc = child;
			const lines = createInterface({ input: proc.stdout });
			lines.on('line', (line) => {
				const found = line.match(/^listening on 127\.0\.0\.1:(\d+)$/);
				if (found) resolve(Number(found[1]));
				else if (!quiet) console.log(`relay: ${line}`);
			});
			proc.once('error', (error) => reject(new Error(`demo: cannot start ${RELAY_BIN} (${error.message}); run \`make relay\``)));
			proc.once('exit', (code, signal) => {
				reject(new Error(`demo: the relay exited (${code ?? signal}) before listening`));
				if (!stopping && child === proc) onExit(code ?? signal);
			});
		});
	port = await launch(port);
	const stop = () => {
		stopping = true;
		const proc = child;
		if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
		const exited = new Promise((done) => proc.once('exit', done));
		proc.kill('SIGTERM');
		return exited;
	};
	return {
		http: `http://127.0.0.1:${port}`,
		port,
		stop,
		async restart() {
			await stop();
			stopping = false;
			await launch(port);
		}
	};
}

/**
 * Serves www/build (`node build`, the adapter-node server) on 127.0.0.1;
 * port 0 picks a free one. With `relay` (default true) it starts kaiwa-relay
 * first, on a free port with a secret made now (on Redis with `redisUrl`),
 * and gives the server its address and the secret. Resolves to
 * `{ url, relay, stop }` once the page answers; `stop()` stops both.
 */
export async function startDemo({ port = 5173, quiet = false, relay: withRelay = true, redisUrl, onRelayExit } = {}) {
	port = await freePort(port); // so that another server on the port cannot pass for this one
	const secret = randomBytes(32).toString('base64url');
	const relay = withRelay ? await startRelay({ secret, redisUrl, quiet, onExit: onRelayExit }) : null;
	const server = spawn(process.execPath, ['build'], {
		cwd: WWW,
		env: {
			...process.env,
			HOST: '127.0.0.1',
			PORT: String(port),
			ORIGIN: `http://127.0.0.1:${port}`,
			...(relay ? { KAIWA_RELAY_SECRET: secret, KAIWA_RELAY_URL: relay.http } : {})
		},
		stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit']
	});
	const exited = new Promise((done) => server.once('exit', (code, signal) => done(code ?? signal)));
	const url = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + 30_000;
	try {
		for (;;) {
			const status = await Promise.race([
				exited.then((code) => ({ exited: code })),
				fetch(url).then(
					(r) => r.status,
					() => 0
				)
			]);
			if (typeof status === 'object') throw new Error(`demo: the server exited (${status.exited}) before answering`);
			if (status === 200) break;
			if (Date.now() > deadline) throw new Error(`demo: ${url} did not answer within 30 s`);
			await new Promise((r) => setTimeout(r, 200));
		}
	} catch (error) {
		server.kill();
		await relay?.stop();
		throw error;
	}
	return {
		url,
		relay,
		exited,
		async stop() {
			server.kill();
			await Promise.all([exited, relay?.stop()]);
		}
	};
}

async function main() {
	const port = Number(process.argv[2] ?? process.env.PORT ?? 5173);
	if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`demo: bad port ${process.argv[2]}`);
	const redisUrl = process.env.REDIS_URL || undefined;
	buildRelay();
	buildDemo();
	let stopping = false;
	// Ctrl+C reaches the children too: a relay that exits as the demo stops is no news.
	const onRelayExit = (code) => setTimeout(() => stopping || relayDied(code), 300);
	const relayDied = (code) => {
		const bar = '!'.repeat(72);
		console.error(
			`\n${bar}\n!! demo: THE RELAY EXITED (${code}). The page keeps working on its local bus,\n!! but nothing reaches other users, the webhook fails and /devtools shows 'closed'.\n!! Restart \`make demo\` to get it back.\n${bar}\n`
		);
	};
	const demo = await startDemo({ port, redisUrl, onRelayExit });
	console.log(`\nkaiwa-bus demo: ${demo.url}  (Ctrl+C stops it and the relay)`);
	console.log(
		`  relay: ${demo.relay.http} (${redisUrl ? `--engine redis, ${redisUrl}` : '--engine memory'}), a secret made for this run`
	);
	console.log(`  remote devtools (every user's events, demo-only admin token): ${demo.url}/devtools`);
	const stop = async () => {
		stopping = true;
		await demo.stop();
		process.exit(0);
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
	demo.exited.then(async (code) => {
		if (stopping) return;
		stopping = true;
		console.error(`demo: the SvelteKit server exited (${code}); stopping the relay`);
		await demo.stop();
		process.exit(1);
	});
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
	main().catch((error) => {
		console.error(error.message);
		process.exit(1);
	});
}
