// The bus API from JavaScript, against the built package (pkg/). Runs in
// Node (node --test) and in Chromium (tests/js/browser.html).

import { EventBus, MockEventBus, createEventBus, EmitDepthError, MAX_EMIT_DEPTH } from '#kaiwa';
import { assert, captureConsole, inNode, settle, test } from './harness.js';

const at = new Date('2026-11-26T10:00:00Z');
const login = (userId = 'u1') => ({ userId, email: `${userId}@example.com`, tier: 'pro', timestamp: at });

// A bus whose unknown-event warnings are silenced for tests that use made-up names.
function quietBus(options) {
	const bus = new EventBus({ catalog: false, ...options });
	const warn = console.warn;
	console.warn = () => {};
	try {
		for (const name of ['x.a', 'x.b', 'x.loop', 'y.a']) bus.validateEvent(name, {});
	} finally {
		console.warn = warn;
	}
	return bus;
}

async function quietly(fn) {
	return captureConsole(fn);
}

test('on/emit: handlers get the emitted payload object and meta', () => {
	const bus = new EventBus();
	const seen = [];
	bus.on('auth.user.login', (payload, meta) => seen.push({ payload, meta }));
	const payload = login();
	bus.emit('auth.user.login', payload);
	assert.equal(seen.length, 1);
	assert.equal(seen[0].payload, payload, 'the payload is the emitted object, not a copy');
	assert.equal(seen[0].meta.name, 'auth.user.login');
	assert.equal(seen[0].meta.id, 1);
	assert.ok(seen[0].meta.timestamp instanceof Date);
	assert.ok(Math.abs(seen[0].meta.timestamp.getTime() - Date.now()) < 60_000);
});

test('options: defaults, strict mode, history limit, and bad options', () => {
	const bus = new EventBus();
	assert.equal(bus.mode, 'development');
	assert.equal(bus.historyLimit, 1000);
	const strict = new EventBus({ mode: 'strict', historyLimit: 5 });
	assert.equal(strict.mode, 'strict');
	assert.equal(strict.historyLimit, 5);
	assert.throws(() => new EventBus({ mode: 'production' }), {
		name: 'TypeError',
		message: /options\.mode must be 'development' or 'strict'/
	});
	assert.throws(() => new EventBus({ historyLimit: -1 }), { name: 'RangeError', message: /historyLimit/ });
	assert.throws(() => new EventBus({ historyLimit: 1.5 }), { name: 'RangeError' });
	assert.throws(() => new EventBus('strict'), { name: 'TypeError', message: /options must be an object/ });
	assert.throws(() => new EventBus({ catalog: 'yes' }), { name: 'TypeError', message: /options\.catalog/ });
});

test('on and once return unsubscribe functions that are harmless twice', () => {
	const bus = quietBus();
	const calls = [];
	const offA = bus.on('x.a', () => calls.push('on'));
	const offB = bus.once('x.a', () => calls.push('once'));
	offB();
	offB();
	bus.emit('x.a', {});
	offA();
	offA();
	bus.emit('x.a', {});
	assert.deepEqual(calls, ['on']);
	assert.equal(bus.getHandlerCount('x.a'), 0);
});

test('once fires once, and off removes a once registration before it fires', () => {
	const bus = quietBus();
	const calls = [];
	bus.once('x.a', (p) => calls.push(p.n));
	bus.emit('x.a', { n: 1 });
	bus.emit('x.a', { n: 2 });
	assert.deepEqual(calls, [1]);
	const h = () => calls.push('never');
	bus.once('x.a', h);
	assert.equal(bus.getHandlerCount('x.a'), 1);
	bus.off('x.a', h);
	bus.emit('x.a', { n: 3 });
	assert.deepEqual(calls, [1]);
});

test('off removes one registration of a handler, the oldest, and ignores unknown ones', () => {
	const bus = quietBus();
	let n = 0;
	const h = () => n++;
	bus.on('x.a', h);
	bus.on('x.a', h);
	bus.emit('x.a', {});
	assert.equal(n, 2);
	bus.off('x.a', h);
	bus.emit('x.a', {});
	assert.equal(n, 3);
	bus.off('x.a', () => {});
	bus.off('x.b', h);
	bus.off('x.a', h);
	bus.off('x.a', h);
	bus.emit('x.a', {});
	assert.equal(n, 3);
});

test("wildcards: '*' and 'domain.*' in subscription order", () => {
	const bus = new EventBus();
	const calls = [];
	bus.on('*', (_, m) => calls.push(`all:${m.name}`));
	bus.on('auth.user.login', () => calls.push('exact'));
	bus.on('auth.*', (_, m) => calls.push(`auth:${m.name}`));
	bus.on('conversation.*', () => calls.push('conversation'));
	bus.emit('auth.user.login', login());
	bus.emit('auth.user.logout', { userId: 'u1', timestamp: at });
	assert.deepEqual(calls, ['all:auth.user.login', 'exact', 'auth:auth.user.login', 'all:auth.user.logout', 'auth:auth.user.logout']);
	assert.equal(bus.getHandlerCount('*'), 1);
	assert.equal(bus.getHandlerCount('auth.*'), 1);
	assert.equal(bus.getHandlerCount('auth.user.login'), 1);
});

test('history: records with every documented field, oldest first, as a copy', async () => {
	const bus = new EventBus();
	bus.on('auth.user.login', () => {});
	bus.emit('auth.user.login', login('a'));
	bus.emit('auth.user.login', login('b'));
	const history = bus.getEventHistory();
	assert.deepEqual(
		history.map((r) => [r.id, r.name, r.payload.userId, r.status, r.handlerCount]),
		[
			[1, 'auth.user.login', 'a', 'delivered', 1],
			[2, 'auth.user.login', 'b', 'delivered', 1]
		]
	);
	for (const r of history) {
		assert.ok(r.timestamp instanceof Date);
		assert.deepEqual(r.errors, []);
		assert.deepEqual(r.issues, []);
	}
	// The first emit of a task is timed; the next ones in the same task are sampled.
	assert.equal(typeof history[0].durationMs, 'number');
	assert.ok(history[0].durationMs >= 0);
	assert.equal(history[1].durationMs, null);
	history.pop();
	history[0].name = 'changed';
	assert.equal(bus.getEventHistory().length, 2);
	assert.equal(bus.getEventHistory()[0].name, 'auth.user.login');
});

test("timing: 'sampled' times each task's first emit and one in 32 after it; 'every' times all", async () => {
	const sampled = quietBus();
	assert.equal(sampled.timing, 'sampled');
	for (let i = 0; i < 64; i++) sampled.emit('x.a', {});
	await settle();
	sampled.emit('x.a', {});
	const timed = sampled.getEventHistory().map((r) => r.durationMs !== null);
	assert.deepEqual(
		timed.flatMap((t, i) => (t ? [i] : [])),
		[0, 32, 64]
	);
	const stats = sampled.getEventPerformanceStats('x.a');
	assert.equal(stats.count, 65);
	assert.equal(stats.timedCount, 3);
	const every = quietBus({ timing: 'every' });
	assert.equal(every.timing, 'every');
	for (let i = 0; i < 5; i++) every.emit('x.a', {});
	assert.ok(every.getEventHistory().every((r) => typeof r.durationMs === 'number' && r.durationMs >= 0));
	assert.equal(every.getEventPerformanceStats('x.a').timedCount, 5);
	assert.throws(() => new EventBus({ timing: 'never' }), { name: 'TypeError', message: /options\.timing/ });
});

test('history is a ring of historyLimit records, and 0 keeps none', () => {
	const bus = quietBus({ historyLimit: 3 });
	for (let i = 1; i <= 5; i++) bus.emit('x.a', { i });
	assert.deepEqual(
		bus.getEventHistory().map((r) => r.payload.i),
		[3, 4, 5]
	);
	const none = quietBus({ historyLimit: 0 });
	none.emit('x.a', {});
	assert.deepEqual(none.getEventHistory(), []);
	assert.equal(none.getEventPerformanceStats('x.a').count, 1, 'stats still count');
});

test('getRecentEvents() without a limit gives the newest 50, oldest first', () => {
	const bus = new EventBus({ historyLimit: 100 });
	for (let i = 0; i < 70; i++) bus.emit('app.recent.tick', { i });
	const recent = bus.getRecentEvents();
	assert.equal(recent.length, 50);
	assert.deepEqual(
		recent.map((r) => r.payload.i),
		Array.from({ length: 50 }, (_, k) => 20 + k)
	);
});

test('debugger queries: recent, by name, by user flow', () => {
	const bus = new EventBus();
	bus.emit('auth.user.login', login('u1'));
	bus.emit('auth.user.login', login('u2'));
	bus.emit('auth.user.logout', { userId: 'u1', timestamp: at });
	bus.emit('audio.playback.started', { sessionId: 's', audioId: 'a', timestamp: at });
	assert.deepEqual(
		bus.getRecentEvents(2).map((r) => r.name),
		['auth.user.logout', 'audio.playback.started']
	);
	assert.equal(bus.getRecentEvents().length, 4, 'fewer than the default: all of them');
	assert.deepEqual(bus.getRecentEvents(0), []);
	assert.throws(() => bus.getRecentEvents(-1), { name: 'RangeError' });
	assert.deepEqual(
		bus.getEventsByName('auth.user.login').map((r) => r.payload.userId),
		['u1', 'u2']
	);
	assert.deepEqual(
		bus.getEventFlow('u1').map((r) => r.name),
		['auth.user.login', 'auth.user.logout']
	);
	assert.deepEqual(bus.getEventFlow('nobody'), []);
});

test('performance stats: null before any dispatch, then count/average/min/max', () => {
	const bus = new EventBus();
	assert.equal(bus.getEventPerformanceStats('auth.user.login'), null);
	bus.emit('auth.user.login', login());
	bus.emit('auth.user.login', login());
	const stats = bus.getEventPerformanceStats('auth.user.login');
	assert.equal(stats.count, 2);
	assert.ok(stats.minDuration <= stats.averageDuration && stats.averageDuration <= stats.maxDuration);
	assert.ok(stats.minDuration >= 0);
	assert.deepEqual(Object.keys(bus.getPerformanceStats()), ['auth.user.login']);
	assert.throws(() => bus.emit('auth.user.login', { userId: 1 }), { name: 'ValidationError' });
	assert.equal(bus.getEventPerformanceStats('auth.user.login').count, 2, 'rejected emits are not timed');
});

test('clear removes handlers, history and stats; schemas stay', () => {
	const bus = new EventBus();
	let n = 0;
	bus.on('auth.user.login', () => n++);
	bus.on('*', () => n++);
	bus.emit('auth.user.login', login());
	bus.clear();
	assert.deepEqual(bus.getEventHistory(), []);
	assert.equal(bus.getHandlerCount('auth.user.login'), 0);
	assert.equal(bus.getHandlerCount('*'), 0);
	assert.equal(bus.getEventPerformanceStats('auth.user.login'), null);
	bus.emit('auth.user.login', login());
	assert.equal(n, 2);
	assert.throws(() => bus.emit('auth.user.login', { userId: 1 }), { name: 'ValidationError' });
});

test('onRecord follows the history live: added, updated, cleared', async () => {
	const bus = new EventBus();
	const seen = [];
	const stop = bus.onRecord((record, change) => seen.push([change, record?.id, record?.status]));
	bus.on('auth.user.login', async () => {
		throw new Error('later');
	});
	await quietly(async () => {
		bus.emit('auth.user.login', login());
		await settle();
	});
	assert.throws(() => bus.emit('auth.user.login', {}), { name: 'ValidationError' });
	bus.clearHistory();
	stop();
	stop();
	bus.emit('auth.user.logout', { userId: 'u', timestamp: at });
	assert.deepEqual(seen, [
		['added', 1, 'delivered'],
		['updated', 1, 'failed'],
		['added', 2, 'rejected'],
		['cleared', undefined, undefined]
	]);
	assert.equal(bus.getHandlerCount('auth.user.login'), 1, 'clearHistory keeps handlers');
});

test('a handler that throws is reported and the others still run', async () => {
	const bus = new EventBus();
	const calls = [];
	const boom = new Error('boom');
	bus.on('auth.user.login', () => calls.push('first'));
	bus.on('auth.user.login', () => {
		throw boom;
	});
	bus.on('auth.user.login', () => calls.push('third'));
	const logged = await quietly(() => bus.emit('auth.user.login', login()));
	assert.deepEqual(calls, ['first', 'third']);
	assert.equal(logged.error.length, 1);
	assert.equal(logged.error[0][0], 'Event handler error for auth.user.login:');
	assert.equal(logged.error[0][1], boom);
	const [record] = bus.getEventHistory();
	assert.equal(record.status, 'failed');
	assert.equal(record.handlerCount, 3);
	assert.deepEqual(record.errors, ['Error: boom']);
	bus.emit('auth.user.login', login());
	assert.deepEqual(calls, ['first', 'third', 'first', 'third']);
});

test('a handler whose promise rejects is caught, recorded, and leaves the others alone', async () => {
	const bus = new EventBus();
	const calls = [];
	bus.on('auth.user.login', async () => {
		calls.push('async');
		throw new TypeError('async boom');
	});
	bus.on('auth.user.login', () => calls.push('sync'));
	const logged = await quietly(async () => {
		bus.emit('auth.user.login', login());
		assert.equal(bus.getEventHistory()[0].status, 'delivered', 'not failed until the promise rejects');
		await settle();
	});
	assert.deepEqual(calls, ['async', 'sync']);
	assert.equal(logged.error[0][0], 'Event handler error for auth.user.login:');
	assert.equal(logged.error[0][1].message, 'async boom');
	const [record] = bus.getEventHistory();
	assert.equal(record.status, 'failed');
	assert.deepEqual(record.errors, ['TypeError: async boom']);
});

test('handlers may throw anything, return odd thenables, or never settle', async () => {
	const bus = quietBus();
	let ran = 0;
	bus.on('x.a', () => {
		throw 42;
	});
	bus.on('x.a', () => {
		throw undefined;
	});
	bus.on('x.a', () => Promise.reject(null));
	bus.on('x.a', () => new Promise(() => {}));
	bus.on('x.a', () => ({
		then() {
			throw new Error('bad thenable');
		}
	}));
	bus.on('x.a', () => ran++);
	await quietly(async () => {
		bus.emit('x.a', {});
		await settle();
	});
	assert.equal(ran, 1);
	const [record] = bus.getEventHistory();
	assert.equal(record.status, 'failed');
	assert.deepEqual(record.errors, ['42', 'undefined', 'Error: bad thenable', 'null']);
});

test('snapshot: a handler added during an emit is not called by it; one removed is not called after', () => {
	const bus = quietBus();
	const calls = [];
	let offC;
	bus.on('x.a', () => {
		calls.push('a');
		bus.on('x.a', () => calls.push('added'));
	});
	bus.on('x.a', () => {
		calls.push('b');
		offC();
	});
	offC = bus.on('x.a', () => calls.push('c'));
	bus.emit('x.a', {});
	assert.deepEqual(calls, ['a', 'b']);
	calls.length = 0;
	bus.emit('x.a', {});
	assert.deepEqual(calls, ['a', 'b', 'added']);
});

// The shape of gloo's dynamic_registration test: the exact call sequence
// while handlers come and go.
test('dynamic registration: the exact call order as handlers come and go', () => {
	const bus = quietBus();
	const calls = [];
	const h1 = () => calls.push(1);
	const h2 = () => {
		calls.push(2);
		bus.off('x.a', h1);
		bus.on('x.a', h3);
	};
	const h3 = () => calls.push(3);
	bus.on('x.a', h1);
	bus.on('x.a', h2);
	bus.emit('x.a', {});
	bus.emit('x.a', {});
	bus.on('x.a', h1);
	bus.emit('x.a', {});
	// Third emit: h2 removes the re-added h1 before its turn, and adds a third h3.
	assert.deepEqual(calls, [1, 2, 2, 3, 2, 3, 3]);
	assert.equal(bus.getHandlerCount('x.a'), 4);
});

test('re-entrancy: handlers emit, subscribe, unsubscribe and clear during dispatch', () => {
	const bus = quietBus();
	const calls = [];
	bus.on('x.a', (_, meta) => {
		calls.push(`a#${meta.id}`);
		bus.emit('x.b', {});
		calls.push('a-after');
	});
	bus.on('x.b', (_, meta) => calls.push(`b#${meta.id}`));
	bus.on('x.a', () => {
		calls.push('clear');
		bus.clear();
	});
	bus.on('x.a', () => calls.push('never'));
	bus.emit('x.a', {});
	assert.deepEqual(calls, ['a#1', 'b#2', 'a-after', 'clear']);
	assert.equal(bus.getHandlerCount('x.a'), 0);
	bus.on('x.a', () => calls.push('fresh'));
	bus.emit('x.a', {});
	assert.equal(calls.at(-1), 'fresh');
});

test('once handlers that emit their own event run once', () => {
	const bus = quietBus();
	const calls = [];
	bus.once('x.a', () => {
		calls.push('once');
		bus.emit('x.a', {});
	});
	bus.on('x.a', () => calls.push('on'));
	bus.emit('x.a', {});
	assert.deepEqual(calls, ['once', 'on', 'on']);
});

test(`recursion stops at ${MAX_EMIT_DEPTH} nested emits with an EmitDepthError`, async () => {
	const bus = quietBus();
	let depth = 0;
	let caught = null;
	bus.on('x.loop', () => {
		depth++;
		try {
			bus.emit('x.loop', {});
		} catch (error) {
			caught = error;
			throw error;
		}
	});
	await quietly(() => bus.emit('x.loop', {}));
	assert.equal(depth, MAX_EMIT_DEPTH);
	assert.ok(caught instanceof EmitDepthError);
	assert.equal(caught.name, 'EmitDepthError');
	assert.match(caught.message, /more than 64 levels deep/);
	const history = bus.getEventHistory();
	assert.equal(history.filter((r) => r.status === 'rejected').length, 1);
	assert.ok(history.every((r) => r.status !== 'pending'));
	bus.clear();
	let ok = 0;
	bus.on('x.a', () => ok++);
	bus.emit('x.a', {});
	assert.equal(ok, 1);
});

test('bad calls throw a TypeError that says what is wrong, and the bus keeps working', () => {
	const bus = new EventBus();
	const cases = [
		[() => bus.emit(42, {}), /emit\(\): the name must be a string, got a number/],
		[() => bus.emit(undefined, {}), /the name must be a string, got undefined/],
		[() => bus.emit('', {}), /event name must not be empty/],
		[() => bus.emit('auth.*', login()), /'\*' is only allowed/],
		[() => bus.emit('x'.repeat(2000), {}), /2000 characters long; the limit is 1024 bytes/],
		[
			() => bus.on('auth.user.login', 'nope'),
			/on\("auth.user.login", handler\): the handler must be a function, got the string "nope"/
		],
		[() => bus.on('auth.user.login'), /the handler must be a function, got undefined/],
		[() => bus.once(null, () => {}), /once\(\): the name must be a string, got null/],
		[() => bus.on('a*b', () => {}), /only allowed as the pattern/],
		[() => bus.off('auth.user.login', {}), /off\("auth.user.login", handler\): the handler must be a function, got an object/],
		[() => bus.getHandlerCount(3), /getHandlerCount\(\): the name must be a string/],
		[() => bus.onRecord('x'), /the listener must be a function/]
	];
	for (const [call, message] of cases) assert.throws(call, { name: 'TypeError', message });
	let n = 0;
	bus.on('auth.user.login', () => n++);
	bus.emit('auth.user.login', login());
	assert.equal(n, 1);
	assert.equal(bus.getEventHistory().length, 1, 'bad names are refused before they are recorded');
});

test('createEventBus: memory; redis once its entry is imported; any other type throws', () => {
	const bus = createEventBus();
	assert.ok(bus instanceof EventBus);
	assert.equal(createEventBus('memory', { mode: 'strict' }).mode, 'strict');
	// 'redis' comes with kaiwa-bus/relay: this file alone (Node) has not imported it;
	// the browser page has (another test file did), and then the url is missing.
	const redis = inNode ? /import 'kaiwa-bus\/relay' first/ : /url must be a ws:\/\/ or wss:\/\/ URL/;
	assert.throws(() => createEventBus('redis'), { message: redis });
	assert.throws(() => createEventBus('kafka'), { message: /Unknown event bus type: kafka/ });
});

test('MockEventBus records emits without dispatching', () => {
	const bus = new MockEventBus();
	let called = false;
	// Still subscribed when the events are emitted: a mock that dispatched would call it.
	const off = bus.on('auth.user.login', () => {
		called = true;
	});
	bus.once('*', () => {
		called = true;
	});
	assert.equal(bus.getHandlerCount('auth.user.login'), 1);
	bus.emit('auth.user.login', login('a'));
	bus.emit('auth.user.logout', { userId: 'a' });
	assert.equal(called, false);
	off();
	assert.equal(bus.getHandlerCount('auth.user.login'), 0);
	assert.deepEqual(
		bus.emittedEvents.map((e) => e.name),
		['auth.user.login', 'auth.user.logout']
	);
	assert.deepEqual(
		bus.getEmittedEvents('auth.user.logout').map((e) => e.payload),
		[{ userId: 'a' }]
	);
	const copy = bus.getEmittedEvents();
	copy.pop();
	assert.equal(bus.getEmittedEvents().length, 2);
	assert.throws(() => bus.emit(5, {}), { name: 'TypeError' });
	bus.clear();
	assert.deepEqual(bus.getEmittedEvents(), []);
});
