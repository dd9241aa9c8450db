// The Event Store's benchmark, run in Chromium by bench/store.mjs: the cost
// of an emit on a persistent bus beside the memory bus, flush() latency for
// a burst, store-first emits, and the time to restore the newest 1,000 of
// 100,000 stored events. Every figure is measured here; none is checked.

import { EventBus } from 'kaiwa-bus';

const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];
const nextTask = () => new Promise((r) => setTimeout(r, 0));
const metric = (i) => ({ sessionId: 's', metric: 'm', value: i, unit: 'ms', timestamp: new Date() });

// ns per emit of one task's burst of `n` validated emits with one handler
// (for a persistent bus, with the reads from the history it makes then),
// median over `rounds`; `after` runs outside the timed part (a flush).
async function emitCost(bus, { n, rounds, after = async () => {} }) {
	bus.on('analytics.performance.metric', () => {});
	const payloads = Array.from({ length: n }, (_, i) => metric(i));
	const perEmit = [];
	for (let r = 0; r < rounds; r++) {
		const t0 = now();
		for (let i = 0; i < n; i++) bus.emit('analytics.performance.metric', payloads[i]);
		perEmit.push(((now() - t0) * 1e6) / n);
		await after();
		await nextTask();
	}
	return median(perEmit);
}

let dbCount = 0;
const fresh = (label) => `kaiwa-bench-${label}-${Date.now()}-${++dbCount}`;

export async function run({ createPersistentBus, IndexedDbEventStore, quick }) {
	// Bursts long enough for the browser's coarse clock (100 µs steps in a
	// page that is not cross-origin isolated).
	const burst = quick ? 2000 : 20_000;
	const n = quick ? 100 : 1000;
	const rounds = quick ? 3 : 21;
	const out = {};

	out.memoryEmitNs = await emitCost(new EventBus(), { n: burst, rounds });
	const batched = createPersistentBus({ name: fresh('batched') });
	await batched.ready;
	out.batchedEmitNs = await emitCost(batched, { n: burst, rounds, after: () => batched.flush() });

	// The whole main-thread and IndexedDB time of a burst: emit n, flush.
	const flushMs = [];
	const flushed = createPersistentBus({ name: fresh('flush') });
	await flushed.ready;
	for (let r = 0; r < rounds; r++) {
		for (let i = 0; i < n; i++) flushed.emit('analytics.performance.metric', metric(i));
		const t0 = now();
		await flushed.flush();
		flushMs.push(now() - t0);
		await nextTask();
	}
	out.flushBurst = { events: n, p50Ms: quantile(flushMs, 0.5), p99Ms: quantile(flushMs, 0.99) };

	const storeFirst = createPersistentBus({ name: fresh('first'), durability: 'store-first' });
	await storeFirst.ready;
	const firstMs = [];
	for (let i = 0; i < (quick ? 10 : 300); i++) {
		const t0 = now();
		await storeFirst.emit('analytics.performance.metric', metric(i));
		firstMs.push(now() - t0);
	}
	out.storeFirst = { p50Ms: quantile(firstMs, 0.5), p99Ms: quantile(firstMs, 0.99) };

	// Restore: the newest 1,000 of `stored` events, into a new bus.
	const stored = quick ? 5000 : 100_000;
	const name = fresh('restore');
	const filler = new IndexedDbEventStore({ name });
	for (let done = 0; done < stored; done += 5000) {
		await filler.append(Array.from({ length: 5000 }, (_, i) => ({ name: 'analytics.performance.metric', payload: metric(done + i) })));
	}
	filler.close();
	const restoreMs = [];
	for (let r = 0; r < (quick ? 2 : 7); r++) {
		const t0 = now();
		const bus = createPersistentBus({ name, historyLimit: 1000 });
		await bus.ready;
		restoreMs.push(now() - t0);
		if (bus.getEventHistory().length !== 1000) throw new Error(`restored ${bus.getEventHistory().length}, not 1000`);
	}
	out.restore = { stored, restored: 1000, medianMs: median(restoreMs), maxMs: Math.max(...restoreMs) };
	return out;
}
