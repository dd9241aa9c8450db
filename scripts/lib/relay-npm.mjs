// kaiwa-relay on npm, the way esbuild ships its binary: a small package,
// `kaiwa-relay` (relay/npm/: the `npx kaiwa-relay` launcher and
// binaryPath()), whose optional dependencies are one package per platform,
// `@kaiwa-relay/<os>-<cpu>`, each carrying a static binary and declaring its
// `os` and `cpu`, so that npm installs only the one that runs. Used by
// scripts/release.mjs and by the test that installs them (tests/relay-npm/).

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { absoluteLinks } from './readme-links.mjs';

/** The platforms with a binary: static (musl) builds, which run on any Linux distribution. */
export const PLATFORMS = [
	// Debian's musl-gcc compiles ring's and mimalloc's C (scripts/setup.sh musl).
	{ name: 'linux-x64', os: 'linux', cpu: 'x64', target: 'x86_64-unknown-linux-musl', cargo: ['build'] },
	// Cross-compiled, zig as C compiler and linker, and run through qemu (scripts/setup.sh cross).
	{
		name: 'linux-arm64',
		os: 'linux',
		cpu: 'arm64',
		target: 'aarch64-unknown-linux-musl',
		cargo: ['zigbuild'],
		emulator: 'qemu-aarch64-static'
	}
];

/** The version in a Cargo.toml: `relay/Cargo.toml`'s is the relay packages'. */
export const cargoVersion = (file) => readFileSync(file, 'utf8').match(/^version = "([^"]+)"/m)[1];

/**
 * Builds the release binary of `platform` with cargo; returns its path.
 * `path`: the PATH to build with (cross builds need zig and cargo-zigbuild on it).
 */
export function buildBinary(platform, path = process.env.PATH) {
	execFileSync('cargo', [...platform.cargo, '--release', '--target', platform.target, '-p', 'kaiwa-relay'], {
		stdio: 'inherit',
		env: { ...process.env, PATH: path }
	});
	return `target/${platform.target}/release/kaiwa-relay`;
}

/**
 * Starts a relay (`cmd args`, in its own process group) and resolves once it
 * prints `listening on ADDR`: { child, address, output() }.
 */
export function startRelayProcess(cmd, args, options = {}) {
	const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
	let output = '';
	return new Promise((done, fail) => {
		const timer = setTimeout(() => fail(new Error(`${cmd}: no 'listening on' in 30 s:\n${output}`)), 30_000);
		const take = (chunk) => {
			output += chunk;
			const match = output.match(/listening on ([\d.]+:\d+)/);
			if (match) (clearTimeout(timer), done({ child, address: match[1], output: () => output }));
		};
		child.stdout.on('data', take);
		child.stderr.on('data', take);
		child.on('exit', (code) => (clearTimeout(timer), fail(new Error(`${cmd} exited (${code}) before listening:\n${output}`))));
	});
}

/** Runs the built binary (through its emulator on another CPU) with the memory engine: resolves once /healthz answers 200. */
export async function smokeTest(platform, binary) {
	const run = platform.cpu === process.arch ? [binary] : [platform.emulator, binary];
	const relay = await startRelayProcess(run[0], [...run.slice(1), '--engine', 'memory', '--insecure-dev', '--listen', '127.0.0.1:0']);
	try {
		const response = await fetch(`http://${relay.address}/healthz`);
		if (response.status !== 200) throw new Error(`${platform.name}: /healthz answered ${response.status}\n${relay.output()}`);
	} finally {
		process.kill(-relay.child.pid, 'SIGKILL');
	}
}

const manifest = (fields) => `${JSON.stringify(fields, null, '\t')}\n`;

/**
 * Writes the packages into `out` (kaiwa-relay, and one per platform in
 * `binaries`: { 'linux-x64': path }), packs each with npm pack, and returns
 * [{ name, tarball, bytes, unpacked }] (tarball sizes, and the unpacked size).
 */
export function packRelay(binaries, out) {
	const relayVersion = cargoVersion('relay/Cargo.toml');
	const template = JSON.parse(readFileSync('relay/npm/package.json', 'utf8'));
	const common = { license: template.license, repository: template.repository, homepage: template.homepage, bugs: template.bugs };
	rmSync(out, { recursive: true, force: true });
	const dirs = [];
	const optional = {};
	for (const [name, binary] of Object.entries(binaries)) {
		const platform = PLATFORMS.find((p) => p.name === name);
		const dir = join(out, name);
		mkdirSync(`${dir}/bin`, { recursive: true });
		cpSync(binary, `${dir}/bin/kaiwa-relay`);
		chmodSync(`${dir}/bin/kaiwa-relay`, 0o755);
		cpSync('LICENSE', `${dir}/LICENSE`);
		const packageName = `@kaiwa-relay/${name}`;
		writeFileSync(
			`${dir}/README.md`,
			`# ${packageName}\n\nThe ${name} binary of [kaiwa-relay](https://www.npmjs.com/package/kaiwa-relay), built static (${platform.target}). Install \`kaiwa-relay\`, which depends on it.\n`
		);
		writeFileSync(
			`${dir}/package.json`,
			manifest({
				name: packageName,
				version: relayVersion,
				description: `The ${name} binary of kaiwa-relay (static, ${platform.target}); install kaiwa-relay, which picks it`,
				...common,
				os: [platform.os],
				cpu: [platform.cpu],
				files: ['bin/kaiwa-relay'],
				preferUnplugged: true
			})
		);
		optional[packageName] = relayVersion;
		dirs.push(dir);
	}
	const main = join(out, 'kaiwa-relay');
	mkdirSync(main, { recursive: true });
	for (const file of ['bin', 'index.js', 'index.d.ts']) cpSync(`relay/npm/${file}`, `${main}/${file}`, { recursive: true });
	cpSync('LICENSE', `${main}/LICENSE`);
	writeFileSync(`${main}/README.md`, absoluteLinks(readFileSync('relay/README.md', 'utf8'), 'relay/README.md'));
	writeFileSync(`${main}/PROTOCOL.md`, absoluteLinks(readFileSync('relay/PROTOCOL.md', 'utf8'), 'relay/PROTOCOL.md'));
	writeFileSync(`${main}/package.json`, manifest({ ...template, version: relayVersion, optionalDependencies: optional }));
	dirs.push(main);
	return dirs.map((dir) => {
		const [info] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out, resolve(dir)], { encoding: 'utf8' }));
		const tarball = join(out, info.filename);
		return { name: info.name, tarball, bytes: statSync(tarball).size, unpacked: info.unpackedSize };
	});
}
