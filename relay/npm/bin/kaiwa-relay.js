#!/usr/bin/env node
// `npx kaiwa-relay …`: runs the platform's binary with the same arguments,
// stdio and environment, passes on SIGINT, SIGTERM and SIGHUP (the relay
// shuts down gracefully on the first two), and exits as it exits.

import { spawn } from 'node:child_process';
import { binaryPath } from '../index.js';

let binary;
try {
	binary = binaryPath();
} catch (error) {
	console.error(error.message);
	process.exit(1);
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit' });
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const signal of signals) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
	console.error(`kaiwa-relay: could not run ${binary}: ${error.message}`);
	process.exit(1);
});
child.on('exit', (code, signal) => {
	if (signal === null) process.exit(code ?? 1);
	// Killed by a signal: die of the same one, so that the caller sees it.
	for (const s of signals) process.removeAllListeners(s);
	process.kill(process.pid, signal);
});
