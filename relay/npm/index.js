// kaiwa-relay on npm: the binary comes in a package per platform
// (@kaiwa-relay/linux-x64, ...), each an optional dependency of this one
// with `os` and `cpu` set, so npm installs only the one that runs here (as
// esbuild does). binaryPath() finds it; bin/kaiwa-relay.js runs it.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const CARGO = 'cargo install --locked --git https://github.com/kaiwa/kaiwa-bus kaiwa-relay';

/** The path of the kaiwa-relay binary for this platform; throws an Error that says what to do when there is none. */
export function binaryPath() {
	const override = process.env.KAIWA_RELAY_BINARY;
	if (override) return override;
	const platform = `${process.platform}-${process.arch}`;
	const name = `@kaiwa-relay/${platform}`;
	const { optionalDependencies } = require('./package.json');
	if (!Object.hasOwn(optionalDependencies, name)) {
		const shipped = Object.keys(optionalDependencies).map((n) => n.split('/')[1]);
		throw new Error(
			`kaiwa-relay: no prebuilt binary for ${platform} (there are: ${shipped.join(', ')}). ` +
				`Build it from source with Rust (${CARGO}) and run that kaiwa-relay, or set KAIWA_RELAY_BINARY to its path.`
		);
	}
	try {
		return require.resolve(`${name}/bin/kaiwa-relay`);
	} catch {
		throw new Error(
			`kaiwa-relay: ${name}, the package with the binary for ${platform}, is not installed. ` +
				'It is an optional dependency: reinstall without --omit=optional (or --no-optional), ' +
				'and if your lock file was made on another platform, run npm install here once. ' +
				`Or build it from source (${CARGO}) and set KAIWA_RELAY_BINARY to its path.`
		);
	}
}
