// kaiwa-relay from npm on a machine with only Node: builds the static
// linux-x64 binary (release, musl) and packs the packages as the release
// does (scripts/lib/relay-npm.mjs), installs the tarballs into a folder with
// no cargo on PATH, and checks that `npx kaiwa-relay --engine memory` serves
// a relay that two kaiwa-bus relay buses talk through; that the launcher
// passes SIGTERM on; that an install without the platform package says what
// to do; and the packed READMEs' links.
//   node tests/relay-npm/run.mjs
// Needs pkg/ built (the relay bus). Prints `# relay-npm: N passed, M failed`.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import WsWebSocket from 'ws';
import { createRelayBus } from '#kaiwa-relay';
import { PLATFORMS, buildBinary, packRelay, startRelayProcess } from '../../scripts/lib/relay-npm.mjs';
import { deadLinks } from '../../scripts/lib/readme-links.mjs';
import { SECRET, token, until } from '../relay-js/servers.js';

const WebSocket = globalThis.WebSocket ?? WsWebSocket;
const OUT = resolve('test-output/relay-npm');

let passed = 0;
let failed = 0;
async function check(name, fn) {
	try {
		await fn();
		passed++;
		console.log(`ok - ${name}`);
	} catch (error) {
		failed++;
		console.log(`not ok - ${name}\n${String(error.stack ?? error).replace(/^/gm, '    ')}`);
	}
}

/** Whether the ELF file at `path` names a program interpreter (a PT_INTERP header): dynamically linked. */
function hasInterpreter(path) {
	const fd = openSync(path, 'r');
	try {
		const header = Buffer.alloc(64);
		readSync(fd, header, 0, 64, 0);
		if (header.toString('latin1', 0, 4) !== '\x7fELF' || header[4] !== 2) throw new Error(`${path} is not a 64-bit ELF file`);
		const phoff = Number(header.readBigUInt64LE(32));
		const size = header.readUInt16LE(54);
		const count = header.readUInt16LE(56);
		const table = Buffer.alloc(size * count);
		readSync(fd, table, 0, table.length, phoff);
		for (let i = 0; i < count; i++) if (table.readUInt32LE(i * size) === 3) return true;
		return false;
	} finally {
		closeSync(fd);
	}
}

// Only Node (and npm, beside it) and the system's tools: no cargo, no rustc.
const PATH = [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter);
const env = { ...process.env, PATH, npm_config_update_notifier: 'false' };
delete env.CARGO_HOME;
delete env.RUSTUP_HOME;

/** A folder outside the repository with `tarballs` installed by npm (`flags` added). */
function install(tarballs, flags = []) {
	const dir = mkdtempSync(join(tmpdir(), 'kaiwa-relay-npm-'));
	writeFileSync(`${dir}/package.json`, JSON.stringify({ name: 'relay-user', private: true }));
	execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', ...flags, ...tarballs], {
		cwd: dir,
		env,
		stdio: 'pipe'
	});
	return dir;
}

/** Starts a relay with `cmd args` in `dir`, with the test's PATH and a secret. */
const startRelay = (cmd, args, dir) =>
	startRelayProcess(cmd, args, { cwd: dir, env: { ...env, KAIWA_RELAY_SECRET: SECRET, RUST_LOG: 'warn' } });

const exited = (child) =>
	child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
/** Ends the process group of a relay this test started (the launcher, and the binary even if the launcher is gone). */
async function stopGroup(child) {
	try {
		process.kill(-child.pid, 'SIGKILL');
	} catch (error) {
		if (error.code !== 'ESRCH') throw error;
	}
	await exited(child);
}

mkdirSync(OUT, { recursive: true });
const x64 = PLATFORMS.find((p) => p.name === 'linux-x64');
console.log(`# building the ${x64.target} release binary`);
const binary = buildBinary(x64);
const packages = packRelay({ [x64.name]: binary }, `${OUT}/packages`);
for (const p of packages)
	console.log(`# ${p.name}: ${(p.bytes / 1024).toFixed(0)} KiB packed, ${(p.unpacked / 1024).toFixed(0)} KiB unpacked`);
const tarballs = packages.map((p) => p.tarball);
const dirs = [];

await check('the linux-x64 binary is static: no ELF interpreter (Node, dynamically linked, has one)', () => {
	if (!hasInterpreter(process.execPath)) throw new Error(`the control failed: ${process.execPath} has no interpreter`);
	if (hasInterpreter(binary)) throw new Error(`${binary} is dynamically linked`);
});

await check('installed from the tarballs with no cargo on PATH: npx kaiwa-relay --engine memory serves two relay buses', async () => {
	for (const dir of PATH.split(delimiter)) {
		if (existsSync(`${dir}/cargo`) || existsSync(`${dir}/rustc`)) throw new Error(`cargo or rustc on the test's PATH in ${dir}`);
	}
	const dir = install(tarballs);
	dirs.push(dir);
	const relay = await startRelay('npx', ['kaiwa-relay', '--engine', 'memory', '--listen', '127.0.0.1:0'], dir);
	const buses = [];
	try {
		const url = `ws://${relay.address}/v1/ws`;
		const alice = () => token({ sub: 'alice', publish: ['*'] });
		const [a, b] = [0, 1].map(() => createRelayBus({ url, WebSocket, token: alice() }));
		buses.push(a, b);
		await until(() => a.connection.state === 'open' && b.connection.state === 'open', 'both connections to open');
		const seen = [];
		b.on('auth.user.logout', (payload) => seen.push(payload));
		const at = new Date('2026-12-01T10:00:00.000Z');
		const { offset } = await a.emit('auth.user.logout', { userId: 'alice', timestamp: at });
		if (typeof offset !== 'string') throw new Error(`no offset from the relay: ${offset}`);
		await until(() => seen.length === 1, "alice's event at her other connection");
		if (!(seen[0].timestamp instanceof Date) || seen[0].timestamp.getTime() !== at.getTime()) throw new Error(JSON.stringify(seen));
	} catch (error) {
		throw new Error(`${error.message}\n--- relay output:\n${relay.output()}`, { cause: error });
	} finally {
		for (const bus of buses) bus.close();
		await stopGroup(relay.child);
	}
});

await check('the launcher passes SIGTERM on: the relay shuts down and the launcher exits 0', async () => {
	if (!dirs[0]) throw new Error('no install to run');
	const relay = await startRelay(`${dirs[0]}/node_modules/.bin/kaiwa-relay`, ['--engine', 'memory', '--listen', '127.0.0.1:0'], dirs[0]);
	try {
		const health = await fetch(`http://${relay.address}/healthz`);
		if (health.status !== 200) throw new Error(`healthz: ${health.status}`);
		process.kill(relay.child.pid, 'SIGTERM'); // the launcher only, not its group
		await until(() => relay.child.exitCode !== null || relay.child.signalCode !== null, 'the launcher to exit', 15_000);
		if (relay.child.exitCode !== 0)
			throw new Error(`the launcher exited with ${relay.child.exitCode ?? relay.child.signalCode}:\n${relay.output()}`);
		const refused = await fetch(`http://${relay.address}/healthz`).then(
			() => false,
			() => true
		);
		if (!refused) throw new Error('the relay still answers after the launcher exited');
	} finally {
		await stopGroup(relay.child);
	}
});

await check('installed with --omit=optional: npx kaiwa-relay names the missing platform package and the fixes', () => {
	const dir = install([tarballs.at(-1)], ['--omit=optional']);
	dirs.push(dir);
	let result;
	try {
		execFileSync('npx', ['kaiwa-relay', '--engine', 'memory'], { cwd: dir, env, stdio: 'pipe', encoding: 'utf8' });
		throw new Error('it started');
	} catch (error) {
		result = error;
	}
	if (result.status !== 1) throw new Error(`exit ${result.status}: ${result.stderr ?? result.message}`);
	for (const words of ['@kaiwa-relay/linux-x64', '--omit=optional', 'cargo install']) {
		if (!result.stderr.includes(words)) throw new Error(`the message does not say ${words}:\n${result.stderr}`);
	}
});

await check("the relay package's README and PROTOCOL links work on the npm page and in node_modules", () => {
	const root = `${dirs[0]}/node_modules/kaiwa-relay`;
	for (const file of ['README.md', 'PROTOCOL.md', 'LICENSE'])
		if (!existsSync(`${root}/${file}`)) throw new Error(`no ${file} in the package`);
	const dead = ['README.md', 'PROTOCOL.md'].flatMap((file) =>
		deadLinks(readFileSync(`${root}/${file}`, 'utf8')).map((d) => `${file}: ${d}`)
	);
	if (dead.length) throw new Error(dead.join('\n'));
});

await check('publint and attw accept kaiwa-relay (ESM only: a require() from CommonJS resolving to ESM is expected)', () => {
	const main = packages.find((p) => p.name === 'kaiwa-relay');
	execFileSync('node_modules/.bin/publint', ['--strict', `${OUT}/packages/kaiwa-relay`], { stdio: 'pipe' });
	execFileSync(
		'node_modules/.bin/attw',
		[main.tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'table-flipped', '--no-color'],
		{ stdio: 'pipe' }
	);
});

for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
console.log(`# relay-npm: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
