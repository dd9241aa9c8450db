// `make release`: builds and packs what goes to npm, into target/npm-release/:
//   - kaiwa-bus, from pkg/ (`make pkg` first);
//   - kaiwa-relay and its platform packages (scripts/lib/relay-npm.mjs): the
//     static release binary for each platform, linux-x64 with cargo and
//     Debian's musl-gcc, linux-arm64 with cargo-zigbuild (scripts/setup.sh
//     cross installs zig and cargo-zigbuild; the Makefile runs it first).
// Prints each tarball's size and the publish commands, in the order that
// keeps every published version installable (platforms before kaiwa-relay).
// Publishing itself stays a person's decision: this script publishes nothing.

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PLATFORMS, buildBinary, cargoVersion, packRelay, smokeTest } from './lib/relay-npm.mjs';

const OUT = 'target/npm-release';
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;

const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim();
if (dirty) console.warn(`release: the working tree has uncommitted changes; the packed READMEs link to files at HEAD:\n${dirty}\n`);

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

const [bus] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', OUT, './pkg'], { encoding: 'utf8' }));
const packed = [{ name: bus.name, tarball: join(OUT, bus.filename), bytes: bus.size, unpacked: bus.unpackedSize }];

const crossPath = execFileSync('scripts/setup.sh', ['cross-path'], { encoding: 'utf8' }).trim();
const binaries = {};
for (const platform of PLATFORMS) {
	console.log(`release: building kaiwa-relay for ${platform.name} (${platform.target})`);
	binaries[platform.name] = buildBinary(platform, `${crossPath}:${process.env.PATH}`);
	await smokeTest(platform, binaries[platform.name]);
	console.log(`release: ${platform.name} serves (/healthz 200${platform.cpu === process.arch ? '' : `, through ${platform.emulator}`})`);
}
const relay = packRelay(binaries, `${OUT}/relay`);
packed.push(...relay);

console.log(`\nkaiwa-bus ${cargoVersion('Cargo.toml')}, kaiwa-relay ${cargoVersion('relay/Cargo.toml')}, in ${OUT}:\n`);
console.log('| package | tarball | unpacked |\n|---|---:|---:|');
for (const p of packed) console.log(`| ${p.name} | ${kib(p.bytes)} | ${kib(p.unpacked)} |`);
console.log('\nTo publish (platform packages first, so that kaiwa-relay never names a missing one):');
// packRelay lists the platform packages first.
for (const p of [...relay, packed[0]]) {
	console.log(`  npm publish ${p.name.startsWith('@') ? '--access public ' : ''}${p.tarball}`);
}
