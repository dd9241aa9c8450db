// The benchmark workload, shared by Node (bench/node.mjs) and Chromium
// (bench/page.html, bundled by esbuild): the same cases, the same payload,
// timed the same way. Each case returns an `emit` closure; `handlers` trivial
// handlers are subscribed to the seed's `auth.user.login` event.

import { EventBus } from '#kaiwa';
import mitt from 'mitt';
import EventEmitter3 from 'eventemitter3';
import { createNanoEvents } from 'nanoevents';
import { EventEmitter as Tseep } from 'tseep';
import { z } from 'zod';
import * as v from 'valibot';
import Ajv from 'ajv';

const NAME = 'auth.user.login';

export function loginPayload() {
	return { userId: 'user-123', email: 'aiko@example.com', tier: 'pro', timestamp: new Date() };
}

// Handlers do a little real work so no engine can drop the call.
export const sink = { n: 0 };
function handler(payload) {
	sink.n += payload.tier.length;
}
function eventHandler(event) {
	sink.n += event.detail.tier.length;
}

const zodLogin = z.object({ userId: z.string(), email: z.string(), tier: z.string(), timestamp: z.date() });
const valibotLogin = v.object({ userId: v.string(), email: v.string(), tier: v.string(), timestamp: v.date() });
const ajvLogin = new Ajv().compile({
	type: 'object',
	properties: { userId: { type: 'string' }, email: { type: 'string' }, tier: { type: 'string' } },
	required: ['userId', 'email', 'tier', 'timestamp']
});
function ajvValid(p) {
	// ajv has no Date type: the timestamp is checked by hand, as users do.
	return ajvLogin(p) && p.timestamp instanceof Date && !Number.isNaN(p.timestamp.getTime());
}

export function silently(fn) {
	const warn = console.warn;
	console.warn = () => {};
	try {
		fn();
	} finally {
		console.warn = warn;
	}
}

// name -> (handlers, payload) => emit(). Each case is a separate closure so
// the engine optimises each on its own. The kaiwa-bus cases take another
// build's EventBus as a third argument (bench/ab.mjs).
export const CASES = {
	'kaiwa-bus (validated, history + stats)': (n, payload, Bus = EventBus) => {
		const bus = new Bus();
		for (let i = 0; i < n; i++) bus.on(NAME, handler);
		return () => bus.emit(NAME, payload);
	},
	'kaiwa-bus (no schema: dispatch only)': (n, payload, Bus = EventBus) => {
		const bus = new Bus({ catalog: false });
		for (let i = 0; i < n; i++) bus.on(NAME, handler);
		silently(() => bus.emit(NAME, payload));
		return () => bus.emit(NAME, payload);
	},
	mitt: (n, payload) => {
		const m = mitt();
		for (let i = 0; i < n; i++) m.on(NAME, handler);
		return () => m.emit(NAME, payload);
	},
	eventemitter3: (n, payload) => {
		const e = new EventEmitter3();
		for (let i = 0; i < n; i++) e.on(NAME, handler);
		return () => e.emit(NAME, payload);
	},
	nanoevents: (n, payload) => {
		const e = createNanoEvents();
		for (let i = 0; i < n; i++) e.on(NAME, handler);
		return () => e.emit(NAME, payload);
	},
	tseep: (n, payload) => {
		const e = new Tseep();
		for (let i = 0; i < n; i++) e.on(NAME, handler);
		return () => e.emit(NAME, payload);
	},
	'EventTarget + CustomEvent': (n, payload) => {
		const t = new EventTarget();
		// addEventListener ignores a second registration of the same function.
		for (let i = 0; i < n; i++) t.addEventListener(NAME, (e) => eventHandler(e));
		return () => t.dispatchEvent(new CustomEvent(NAME, { detail: payload }));
	},
	'mitt + zod v4': (n, payload) => {
		const m = mitt();
		for (let i = 0; i < n; i++) m.on(NAME, handler);
		return () => m.emit(NAME, zodLogin.parse(payload));
	},
	'mitt + valibot': (n, payload) => {
		const m = mitt();
		for (let i = 0; i < n; i++) m.on(NAME, handler);
		return () => m.emit(NAME, v.parse(valibotLogin, payload));
	},
	'mitt + ajv': (n, payload) => {
		const m = mitt();
		for (let i = 0; i < n; i++) m.on(NAME, handler);
		return () => {
			if (!ajvValid(payload)) throw new Error('invalid');
			m.emit(NAME, payload);
		};
	}
};

// A loop per case, compiled separately (new Function), so one case's types
// never make another's call site megamorphic.
function makeLoop() {
	return new Function('emit', 'count', 'for (let i = 0; i < count; i++) emit();');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// Times every case with 1 and with 10 handlers: `rounds` timed rounds of
// `perRound` emits, the cases interleaved round by round so drift hits them
// alike. Before them, each case's `warmup` emits, then `warmupRounds`
// untimed rounds of them all: the engine settles its code for each case
// beside the others (zod's first timed rounds in Chromium were 2-4x its
// later ones). `now()` reads the clock in ms, and may return a promise
// (Chromium's CPU clock, bench/renderer-clock.mjs): what reading it twice
// costs is measured first and taken off each round.
// Returns [{ case, handlers, samples: ns/emit[] }].
export async function runTimings({ now, rounds = 21, perRound = 100_000, warmup = 100_000, warmupRounds = 3, handlerCounts = [1, 10], only } = {}) {
	const payload = loginPayload();
	const runs = [];
	for (const handlers of handlerCounts) {
		for (const [name, make] of Object.entries(CASES)) {
			if (only && !only.includes(name)) continue;
			const emit = make(handlers, payload);
			const loop = makeLoop();
			loop(emit, warmup);
			runs.push({ case: name, handlers, emit, loop, samples: [] });
		}
	}
	for (let r = 0; r < warmupRounds; r++) for (const run of runs) run.loop(run.emit, perRound);
	const empty = [];
	for (let i = 0; i < 21; i++) {
		const t0 = await now();
		empty.push((await now()) - t0);
	}
	const overhead = median(empty);
	for (let r = 0; r < rounds; r++) {
		for (const run of runs) {
			const t0 = await now();
			run.loop(run.emit, perRound);
			run.samples.push((((await now()) - t0 - overhead) * 1e6) / perRound);
		}
	}
	return runs.map(({ case: c, handlers, samples }) => ({ case: c, handlers, samples }));
}

// Emits `total` validated events with the default history limit and samples
// memory at checkpoints: [{ emits, wasmBytes, heapBytes }].
export function runMemory({ total = 1_000_000, checkpoints = [0, 100_000, 250_000, 500_000, 750_000, 1_000_000], wasmBytes, heapBytes }) {
	const bus = new EventBus();
	bus.on(NAME, handler);
	const samples = [];
	let done = 0;
	for (const at of checkpoints) {
		for (; done < at && done < total; done++) bus.emit(NAME, loginPayload());
		samples.push({ emits: done, wasmBytes: wasmBytes(), heapBytes: heapBytes() });
	}
	return samples;
}

// Everything one engine measures: timings, then memory. `quick` is the smoke
// run of `make test` (tiny counts; the figures mean nothing).
export async function runBench({ quick, now, wasmBytes, heapBytes }) {
	const timings = await runTimings(quick ? { now, rounds: 2, perRound: 2_000, warmup: 2_000, warmupRounds: 1 } : { now });
	const memory = runMemory({
		total: quick ? 5_000 : 1_000_000,
		checkpoints: quick ? [0, 2_500, 5_000] : undefined,
		wasmBytes,
		heapBytes
	});
	return { timings, memory };
}
