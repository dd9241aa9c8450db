// The declared MSRV (`rust-version` in Cargo.toml and relay/Cargo.toml), checked as far as this
// machine can without the old toolchain itself (rustup cannot download one here):
//   - both crates declare the same rust-version;
//   - every crate in Cargo.lock that the bus or the relay builds with (for the host, wasm32 and musl,
//     dev-dependencies included) declares a rust-version no newer than it: a newer one means that
//     toolchain's cargo refuses to build it. Crates that declare none cannot be checked; they are
//     counted.
// clippy's incompatible_msrv lint (on by default; `make check` runs clippy with -D warnings) does
// the other half: it reads rust-version and fails on a std API stabilised after it. Neither sees
// syntax or a compiler behaviour newer than the MSRV: only a build with that toolchain would.
//   node scripts/msrv.mjs

import { execFileSync } from 'node:child_process';

const TARGETS = ['x86_64-unknown-linux-gnu', 'x86_64-unknown-linux-musl', 'wasm32-unknown-unknown'];
const args = ['metadata', '--format-version', '1', '--locked', ...TARGETS.flatMap((t) => ['--filter-platform', t])];
const metadata = JSON.parse(execFileSync('cargo', args, { encoding: 'utf8', maxBuffer: 1 << 28 }));

const parse = (version) => version.split('.').map(Number);
const newer = (a, b) => {
	const [x, y] = [parse(a), parse(b)];
	for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
	return false;
};

const members = metadata.packages.filter((p) => metadata.workspace_members.includes(p.id));
const declared = new Set(members.map((p) => p.rust_version));
if (declared.size !== 1 || declared.has(null)) {
	console.error(`msrv: the crates must declare one rust-version: ${members.map((p) => `${p.name} ${p.rust_version}`).join(', ')}`);
	process.exit(1);
}
const [msrv] = declared;

const resolved = new Set(metadata.resolve.nodes.map((n) => n.id));
const dependencies = metadata.packages.filter((p) => resolved.has(p.id) && !metadata.workspace_members.includes(p.id));
const tooNew = dependencies.filter((p) => p.rust_version && newer(p.rust_version, msrv));
const undeclared = dependencies.filter((p) => !p.rust_version);

if (tooNew.length > 0) {
	console.error(`msrv: the crates declare rust-version ${msrv}, but these dependencies need a newer Rust:`);
	for (const p of tooNew) console.error(`  ${p.name} ${p.version}: rust-version ${p.rust_version}`);
	console.error('Raise rust-version in Cargo.toml and relay/Cargo.toml, or hold these back (cargo update -p NAME --precise VERSION).');
	process.exit(1);
}
console.log(
	`msrv: rust-version ${msrv}; ${dependencies.length - undeclared.length} of ${dependencies.length} dependencies declare one, none newer ` +
		`(${undeclared.length} declare none and are not checked)`
);
