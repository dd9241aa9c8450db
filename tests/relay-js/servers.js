// Real servers for the relay client's tests: a kaiwa-relay process and a
// redis-server, each on a free loopback port, stopped (or killed) by the
// test. Nothing is mocked.

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// `cargo build -p kaiwa-relay` builds it (make test does, before these suites).
export const RELAY_BIN = process.env.KAIWA_RELAY_BIN ?? 'target/debug/kaiwa-relay';
export const SECRET = 'test-secret-for-the-relay-client';

/** A port nobody listens on now (a small race, fine on loopback in tests). */
export function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

// Spawns a process and resolves once a line of its output matches `ready`.
function start(cmd, args, ready, env = {}) {
	const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${cmd} did not start in 20 s:\n${output}`)), 20_000);
		const take = (chunk) => {
			output += chunk;
			const match = output.match(ready);
			if (match) {
				clearTimeout(timer);
				resolve({ child, match });
			}
		};
		child.stdout.on('data', take);
		child.stderr.on('data', take);
		child.on('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`${cmd} exited with ${code} before it was ready:\n${output}`));
		});
	});
}

const stopped = (child) =>
	child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));

/** Starts kaiwa-relay; `port` 0 picks one. Resolves to { url, http, port, kill(signal) }. */
export async function startRelay({ port = 0, engine = 'memory', redisUrl, mode = 'development', insecure = false, extra = [] } = {}) {
	const args = ['--listen', `127.0.0.1:${port}`, '--engine', engine, '--mode', mode, ...extra];
	if (redisUrl) args.push('--redis-url', redisUrl);
	if (insecure) args.push('--insecure-dev');
	const { child, match } = await start(
		RELAY_BIN,
		args,
		/listening on ([\d.]+:\d+)/,
		insecure ? {} : { KAIWA_RELAY_SECRET: SECRET, RUST_LOG: 'warn' }
	);
	const address = match[1];
	return {
		port: Number(address.split(':').at(-1)),
		url: `ws://${address}/v1/ws`,
		http: `http://${address}`,
		async kill(signal = 'SIGKILL') {
			child.kill(signal);
			await stopped(child);
		}
	};
}

/** Starts a redis-server with no persistence on a free port. Resolves to { url, port, kill() }. */
export async function startRedis(port) {
	port ??= await freePort();
	const dir = mkdtempSync(join(tmpdir(), 'kaiwa-redis-'));
	const { child } = await start(
		'redis-server',
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
		/Ready to accept connections/
	);
	return {
		port,
		url: `redis://127.0.0.1:${port}`,
		async kill() {
			child.kill('SIGKILL');
			await stopped(child);
			rmSync(dir, { recursive: true, force: true });
		}
	};
}

/** An HS256 JWT signed with SECRET: `claims` plus `exp` in `seconds` from now. */
export function token(claims, seconds = 3600) {
	const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
	const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ exp: Math.floor(Date.now() / 1000) + seconds, ...claims })}`;
	return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** Resolves when `check()` is (or resolves to) true, polling every 20 ms; rejects after `ms` with `what`. */
export async function until(check, what, ms = 10_000) {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}

/**
 * The buses and servers a test file makes, closed and stopped after its
 * tests: `bus(b)` and `server(s)` register one and return it.
 */
export function owned(after) {
	const buses = [];
	const servers = [];
	after(async () => {
		for (const bus of buses) bus.close();
		for (const server of servers) await server.kill();
	});
	return { bus: (bus) => (buses.push(bus), bus), server: (server) => (servers.push(server), server) };
}
