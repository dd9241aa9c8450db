// Where a validated emit's time goes, in Node: times each step of
// js/core/bus.js's emit path on its own (reading the payload, the boundary call,
// the Rust decision and recording, the clock; the `meta` object and the
// handler loop as an emit to one handler less an emit to none) beside the
// whole emit and the references, interleaved round by round; and what Rust
// does per emit of an event without a schema, which is queued and recorded
// 64 at a time. Prints the median ns per call (per emit for the queued
// row) over the rounds (process CPU time, so time descheduled on a busy
// machine does not count).
//   node bench/breakdown.mjs [pkg dir] [rounds]
// The figures in docs/benchmarks.md ("Where the time goes") come from it.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import mitt from 'mitt';
import { z } from 'zod';
import Ajv from 'ajv';
import { loginPayload, silently } from './workload.js';

const dir = pathToFileURL(resolve(process.argv[2] ?? 'pkg')).href;
const rounds = Number(process.argv[3] ?? 11);
const { EventBus } = await import(`${dir}/node.js`);
const { BusCore } = await import(`${dir}/kaiwa_bus.js`);
const { compileReader } = await import(`${dir}/core/probe.js`);
const { memory } = await import(`${dir}/core/runtime.js`);

const NAME = 'auth.user.login';
const QUEUED = 64; // emits recorded by one core.queued call
const QUEUED_CASE = `core.queued: ${QUEUED} emits without schema, per emit`;
const payload = loginPayload();
const sink = { n: 0 };
const handler = (p) => {
	sink.n += p.tier.length;
};
const cases = {};
{
	const bus = new EventBus();
	bus.on(NAME, handler);
	cases['whole emit: validated, history + stats'] = () => bus.emit(NAME, payload);
	// No handler: no `meta` object and no handler loop.
	const alone = new EventBus();
	cases['whole emit: validated, no handler'] = () => alone.emit(NAME, payload);
}
{
	const bus = new EventBus({ catalog: false });
	bus.on(NAME, handler);
	silently(() => bus.emit(NAME, payload));
	cases['whole emit: no schema'] = () => bus.emit(NAME, payload);
}
{
	const emitter = mitt();
	emitter.on(NAME, handler);
	cases['mitt emit'] = () => emitter.emit(NAME, payload);
	const schema = z.object({ userId: z.string(), email: z.string(), tier: z.string(), timestamp: z.date() });
	cases['zod v4 parse'] = () => schema.parse(payload);
	const check = new Ajv().compile({
		type: 'object',
		properties: { userId: { type: 'string' }, email: { type: 'string' }, tier: { type: 'string' } },
		required: ['userId', 'email', 'tier', 'timestamp']
	});
	cases['ajv validate (+ instanceof Date)'] = () => check(payload) && payload.timestamp instanceof Date;
}
{
	const core = new BusCore(false, 1000, true);
	const id = core.intern(NAME);
	const read = compileReader(core.plan(id));
	const atoms = new Map(core.atoms().map((atom, i) => [atom, i]));
	const view = new Int32Array(memory().buffer, core.probeBuffer(256), 256);
	const word = read(payload, atoms, view, 0);
	cases['read the payload (compiled reader)'] = () => read(payload, atoms, view, 0);
	cases['a JS->wasm call (i32 in and out)'] = () => core.probeBuffer(16);
	cases['core.emit: Rust decision + record'] = () => core.emit(id, word, 0, 0, 1);
	// A literal field: its kinds alone do not decide, so Core::check does.
	const LONG = 'conversation.started';
	const longId = core.intern(LONG);
	const longRead = compileReader(core.plan(longId));
	const started = { conversationId: 'c1', userId: 'u1', targetLanguage: 'ja', mode: 'traditional', timestamp: new Date() };
	const longWord = longRead(started, atoms, view, 0);
	cases['core.emit: the long way (a literal field)'] = () => core.emit(longId, longWord, 0, 0, 1);
	const bare = new BusCore(false, 0, false);
	const bareId = bare.intern(NAME);
	bare.emit(bareId, 0, 0, 0, 1);
	bare.takeWarning();
	cases['core.emit: no schema, no history'] = () => bare.emit(bareId, 0, 0, 0, 1);
	// A package from before the queue (bench/ab.mjs compares builds) has no `queued`.
	if (typeof core.queued === 'function') {
		const quiet = new BusCore(false, 1000, false);
		const quietId = quiet.intern(NAME);
		quiet.emit(quietId, 0, 0, 0, 1);
		quiet.takeWarning();
		const queue = new Int32Array(memory().buffer, quiet.probeBuffer(2 * QUEUED), 2 * QUEUED);
		for (let i = 0; i < 2 * QUEUED; i += 2) queue.set([quietId, 1], i);
		cases[QUEUED_CASE] = () => quiet.queued(0, 2 * QUEUED, 0);
	}
}
{
	cases['performance.now()'] = () => {
		sink.t = performance.now();
	};
	const ids = new Map([[NAME, 3]]);
	cases['name -> id (Map.get)'] = () => {
		sink.id = ids.get(NAME);
	};
}

const PER_ROUND = 100_000;
const cpuMs = () => {
	const { user, system } = process.cpuUsage();
	return (user + system) / 1000;
};
const timed = Object.entries(cases).map(([name, fn]) => ({
	name,
	fn,
	loop: new Function('fn', 'count', 'for (let i = 0; i < count; i++) fn();'),
	samples: []
}));
for (const t of timed) t.loop(t.fn, PER_ROUND);
for (let r = 0; r < rounds; r++) {
	for (const t of timed) {
		const t0 = cpuMs();
		t.loop(t.fn, PER_ROUND);
		t.samples.push(((cpuMs() - t0) * 1e6) / PER_ROUND);
	}
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`Node ${process.versions.node}, median ns per call over ${rounds} rounds of ${PER_ROUND}`);
for (const t of timed) {
	const ns = median(t.samples) / (t.name === QUEUED_CASE ? QUEUED : 1);
	console.log(`  ${t.name.padEnd(44)} ${ns.toFixed(1).padStart(7)}`);
}
