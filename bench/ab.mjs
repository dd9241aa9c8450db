// A/B of the emit path: `node bench/ab.mjs <pkg dir>...` times the
// benchmark's kaiwa-bus cases (bench/workload.js) of each package directory
// beside mitt, mitt + zod v4 and mitt + ajv. Each package runs in its own
// Node process (a second wasm instance loaded into the same process runs
// measurably slower, whichever it is), and the processes alternate A, B, A,
// B… so that drift on a busy machine hits them alike. Times are the
// process's CPU time (user + system), so time spent descheduled does not
// count (`--clock wall` for wall time, as `make bench` measures: CPU time
// also counts the GC's helper threads, which makes allocating cases such as
// mitt look slower than they do in `make bench`, so children run with
// --single-threaded-gc, which brings them back to about their quiet
// `make bench` figures). Prints, per case, the median over processes of each process's
// median ns per emit, and of its ratio to the references of that process.
//   node bench/ab.mjs pkg /tmp/pkg-before [--runs 4] [--rounds 11] [--clock cpu|wall]

import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => {
	const at = args.indexOf(name);
	if (at < 0) return fallback;
	return args.splice(at, 2)[1];
};
const runs = Number(option('--runs', 4));
const rounds = Number(option('--rounds', 11));
const perRound = Number(option('--per-round', 100_000));
const clock = option('--clock', 'cpu');
const child = option('--child', null);
const REFERENCE = ['mitt', 'mitt + zod v4', 'mitt + ajv'];
const median = (xs) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (child !== null) {
	const { EventBus } = await import(pathToFileURL(resolve(child, 'node.js')).href);
	const { CASES, loginPayload } = await import('./workload.js');
	const cpuMs =
		clock === 'wall'
			? () => performance.now()
			: () => {
					const { user, system } = process.cpuUsage();
					return (user + system) / 1000;
				};
	const payload = loginPayload();
	const timed = [];
	for (const handlers of [1, 10]) {
		for (const [name, make] of Object.entries(CASES)) {
			if (!name.startsWith('kaiwa-bus') && !REFERENCE.includes(name)) continue;
			const loop = new Function('emit', 'count', 'for (let i = 0; i < count; i++) emit();');
			const emit = make(handlers, payload, EventBus);
			loop(emit, perRound);
			timed.push({ name, handlers, emit, loop, samples: [] });
		}
	}
	for (let r = 0; r < rounds; r++) {
		for (const t of timed) {
			const t0 = cpuMs();
			t.loop(t.emit, perRound);
			t.samples.push(((cpuMs() - t0) * 1e6) / perRound);
		}
	}
	process.stdout.write(JSON.stringify(timed.map(({ name, handlers, samples }) => ({ name, handlers, ns: median(samples) }))));
} else {
	const dirs = args.length ? args : ['pkg'];
	const results = new Map(dirs.map((d) => [d, []]));
	for (let i = 0; i < runs; i++) {
		for (const dir of i % 2 ? [...dirs].reverse() : dirs) {
			const out = execFileSync(process.execPath, ['--single-threaded-gc', new URL(import.meta.url).pathname, '--child', dir, '--rounds', `${rounds}`, '--per-round', `${perRound}`, '--clock', clock], { encoding: 'utf8' });
			results.get(dir).push(JSON.parse(out));
			process.stderr.write('.');
		}
	}
	process.stderr.write('\n');
	for (const handlers of [1, 10]) {
		console.log(`${handlers} handler${handlers > 1 ? 's' : ''}: ns per emit (${clock}), median over ${runs} processes of ${rounds} rounds; ratio to each reference of the same process`);
		const line = (label, runsOf, name) => {
			const of = (run, n) => run.find((t) => t.name === n && t.handlers === handlers).ns;
			const ns = median(runsOf.map((run) => of(run, name)));
			const ratios = REFERENCE.map((ref) => `${median(runsOf.map((run) => of(run, name) / of(run, ref))).toFixed(2)}× ${ref}`);
			console.log(`  ${label.padEnd(52)} ${ns.toFixed(1).padStart(6)}  ${ratios.join('  ')}`);
		};
		for (const dir of dirs) {
			for (const name of ['kaiwa-bus (validated, history + stats)', 'kaiwa-bus (no schema: dispatch only)']) line(`${dir}: ${name.slice(10)}`, results.get(dir), name);
		}
		const all = [...results.values()].flat();
		for (const ref of REFERENCE) line(ref, all, ref);
	}
}
