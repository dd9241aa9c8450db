// A server process of the fresh-app suite (vite dev, vite preview, an
// adapter-node build): started, polled until `url` answers, stopped.

import { spawn } from 'node:child_process';

/** Runs `cmd args` (in `cwd`, with `env`); resolves once `url` answers: { url, output(), stop() }. */
export async function startServer(label, cmd, args, { cwd, env = process.env, url, timeout = 60_000 }) {
	const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	child.stdout.on('data', (c) => (output += c));
	child.stderr.on('data', (c) => (output += c));
	await new Promise((done, fail) => {
		const timer = setTimeout(() => fail(new Error(`${label} did not answer in ${timeout / 1000} s:\n${output}`)), timeout);
		child.on('exit', (code) => (clearTimeout(timer), fail(new Error(`${label} exited (${code}):\n${output}`))));
		const poll = () =>
			fetch(url).then(
				() => (clearTimeout(timer), done()),
				() => setTimeout(poll, 200)
			);
		poll();
	});
	return {
		url,
		output: () => output,
		stop: () => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', done), child.kill('SIGTERM'))))
	};
}
