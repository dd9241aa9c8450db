// Re-entry and the JS stack limit (issue 9, items 1 and 2): every path that
// can call back into the bus (handlers, onRecord listeners, payload getters,
// Proxy traps run while a refused literal is quoted) counts toward one depth
// limit, a call cut short by "Maximum call stack size exceeded" leaves the
// bus as good as before, and a payload is read once per nesting level.
// Ends with a seeded property test mixing all of them at random stack
// depths. Runs in Node and in Chromium.

import { EmitDepthError, EventBus, MAX_EMIT_DEPTH, ValidationError } from '#kaiwa';
import { assert, assertHealthy, inNode, quiet, test, withGetter } from './harness.js';

const at = new Date('2026-11-26T10:00:00Z');
const login = () => ({ userId: 'u1', email: 'a@example.com', tier: 'pro', timestamp: at });
const logout = () => ({ userId: 'u1', timestamp: at });

// Calls `call` at every stack depth, deeper and deeper, until the stack
// overflows (inside `call`, most of the time: it is the larger frame), from
// `offsets` different starting depths so the overflow hits at different
// points inside the bus. Returns what the overflowing calls threw.
function untilStackOverflow(call, offsets = 10) {
	const errors = [];
	for (let offset = 0; offset < offsets; offset++) {
		let i = 0;
		const deeper = () => {
			call(i++);
			deeper();
		};
		const start = (n) => (n === 0 ? deeper() : start(n - 1));
		try {
			start(offset * 3);
		} catch (error) {
			errors.push(error);
		}
	}
	return errors;
}

// What a call near the stack limit may throw: a stack overflow, or a bus
// error with a clear message; never a report of a broken bus.
function assertRecoverable(errors) {
	for (const error of errors) {
		assert.ok(error instanceof Error, `threw a non-Error: ${String(error)}`);
		assert.ok(!/re-entered|borrow|recursive use|unreachable|kaiwa-bus: kaiwa-bus:/.test(error.message), error.message);
	}
}

test('an onRecord listener that emits stops at the depth limit, and the bus keeps working', () => {
	for (let i = 0; i < 5; i++) {
		const bus = new EventBus();
		let calls = 0;
		const stop = bus.onRecord(() => {
			calls++;
			bus.emit('auth.user.logout', logout());
		});
		quiet(() => bus.emit('auth.user.logout', logout()));
		stop();
		assert.ok(calls <= MAX_EMIT_DEPTH + 1, `${calls} listener calls`);
		assert.equal(bus.getEventHistory().at(-1).status, 'rejected', 'the deepest emit was refused');
		assertHealthy(bus);
	}
});

test('an onRecord listener that clears from its own announcement stops at the depth limit', () => {
	const bus = new EventBus();
	let calls = 0;
	const stop = bus.onRecord(() => {
		calls++;
		bus.clearHistory();
	});
	bus.clear();
	stop();
	assert.ok(calls <= MAX_EMIT_DEPTH + 1, `${calls} listener calls`);
	assertHealthy(bus);
});

test('a Proxy trap that re-emits while a refused literal is quoted is held to the depth limit', () => {
	const bus = new EventBus();
	let traps = 0;
	const target = { conversationId: 'c', userId: 'u', mode: 'casual', targetLanguage: 'ja', timestamp: at };
	const payload = new Proxy(target, {
		getOwnPropertyDescriptor(t, key) {
			traps++;
			bus.emit('conversation.started', payload);
			return Reflect.getOwnPropertyDescriptor(t, key);
		}
	});
	assert.throws(() => bus.emit('conversation.started', payload), ValidationError);
	assert.ok(traps <= MAX_EMIT_DEPTH + 1, `${traps} trap calls`);
	assert.ok(
		bus.getEventHistory().some((r) => r.errors.some((e) => /levels deep/.test(e))),
		'the depth limit was hit'
	);
	assertHealthy(bus);
});

test('emit, on, first emits and reads near the JS stack limit fail recoverably and leave the bus whole', () => {
	const bus = new EventBus({ historyLimit: 20 });
	const names = Array.from({ length: 150 }, (_, i) => `app.near.n${i}`);
	for (const name of names) bus.registerSchema({ name, version: '1.0.0', payload: { id: 'number' } });
	let delivered = 0;
	bus.on('*', () => delivered++);
	const calls = [
		() => bus.emit('auth.user.login', login()),
		(i) => bus.emit(names[i % names.length], { id: i }),
		() => bus.on('auth.user.login', () => {})(),
		() => bus.getEventHistory(),
		() => bus.validate('auth.user.login', login()),
		(i) => quiet(() => bus.emit(`app.unknown.u${i % 500}`, {})),
		() => bus.getEventPerformanceStats('auth.user.login')
	];
	for (const call of calls) {
		assertRecoverable(untilStackOverflow(call));
		// Whole after each kind of call: a dead bus throws here.
		bus.emit('auth.user.login', login());
		bus.on('x.after', () => {})();
		bus.getEventHistory();
	}
	// Every name emitted first near the limit works now: none is half-registered.
	for (const [i, name] of names.entries()) bus.emit(name, { id: i });
	assert.throws(() => bus.emit(names[0], { id: 'x' }), ValidationError);
	const before = delivered;
	bus.emit('auth.user.login', login());
	assert.equal(delivered, before + 1);
	assertHealthy(bus);
});

test('a strict bus near the JS stack limit refuses unknown events and stays whole', () => {
	const bus = new EventBus({ mode: 'strict' });
	assertRecoverable(
		untilStackOverflow((i) => assert.throws(() => bus.emit(`app.strict.s${i % 500}`, {}), { name: 'UnknownEventError' }))
	);
	assert.throws(() => bus.emit('app.strict.s1', {}), { name: 'UnknownEventError' });
	assertHealthy(bus);
});

test('a payload getter that emits its own payload reads it once per level (linear, not 2^depth)', () => {
	const bus = new EventBus();
	let reads = 0;
	// What the nested emits threw: a throw inside the getter would become the
	// bus's own refusal ("a getter that threw") and never reach this test.
	const unexpected = [];
	const payload = withGetter({ ...login() }, 'email', () => {
		reads++;
		try {
			bus.emit('auth.user.login', payload);
		} catch (error) {
			if (!(error instanceof EmitDepthError)) unexpected.push(error);
		}
		return 'a@example.com';
	});
	// Start 48 levels deep, so that 16 levels remain: the old reader ran the
	// getter about 3 * 2^16 times here; once per level is 16.
	const start = 48;
	bus.on('app.nest.down', (n) => (n < start - 1 ? bus.emit('app.nest.down', n + 1) : bus.emit('auth.user.login', payload)));
	quiet(() => bus.emit('app.nest.down', 0));
	assert.deepEqual(unexpected, [], 'the nested emits threw only EmitDepthError');
	assert.equal(reads, MAX_EMIT_DEPTH - start, `${reads} getter calls`);
	const statuses = bus.getEventsByName('auth.user.login').map((r) => r.status);
	assert.equal(statuses.filter((s) => s === 'delivered').length, MAX_EMIT_DEPTH - start);
	assert.equal(statuses.filter((s) => s === 'rejected').length, 1);
	assertHealthy(bus);
});

// mulberry32: a small seeded PRNG, so a failing run can be replayed.
function prng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function stackLimit() {
	let depth = 0;
	const down = () => {
		depth++;
		down();
	};
	try {
		down();
	} catch {
		// Reached.
	}
	return depth;
}

// Runs `fn` about `depth` frames deeper than here.
function atDepth(depth, fn) {
	const down = (n) => (n === 0 ? fn() : down(n - 1));
	try {
		return down(depth);
	} catch (error) {
		return error;
	}
}

const RUNS = Number((inNode && process.env.KAIWA_REENTRY_RUNS) || 300);

test('a getter that registers a new version of the schema being read: the payload is checked against the new one', () => {
	for (const call of ['emit', 'validate']) {
		const bus = new EventBus();
		const name = `x.${call}.flip`;
		bus.registerSchema({ name, version: '1.0.0', payload: { a: 'string' } });
		// Positive control: valid under 1.0.0.
		assert.equal(bus.validate(name, { a: 'x' }).ok, true);
		let registered = false;
		const payload = {
			get a() {
				if (!registered) {
					registered = true;
					bus.registerSchema({ name, version: '2.0.0', payload: { b: 'string' } });
				}
				return 'x';
			}
		};
		// Read as 1.0.0 says, `a` is a string; 2.0.0 wants `b`, which is missing.
		if (call === 'emit') assert.throws(() => bus.emit(name, payload), ValidationError);
		else
			assert.deepEqual(
				bus.validate(name, payload).issues.map((i) => i.path),
				['b']
			);
		assert.ok(registered);
		assertHealthy(bus);
	}
});

test(`property: random re-entry at random stack depths leaves the bus fully usable (${RUNS} seeded runs)`, () => {
	const limit = stackLimit();
	const seed = 0x5eed;
	const random = prng(seed);
	const pick = (items) => items[Math.floor(random() * items.length)];
	for (let run = 0; run < RUNS; run++) {
		const bus = new EventBus({ historyLimit: 50 });
		const hooks = [];
		const reenter = () =>
			pick([
				() => bus.emit('auth.user.logout', logout()),
				() => bus.emit('auth.user.login', payload),
				() => bus.emit(`app.random.r${run}`, {}),
				() => bus.on('auth.*', () => {})(),
				() => bus.clearHistory(),
				() => bus.getEventHistory(),
				() => bus.validate('auth.user.login', payload)
			])();
		const payload = { ...login() };
		if (random() < 0.5) {
			Object.defineProperty(payload, 'email', {
				get() {
					if (random() < 0.7) reenter();
					return 'a@example.com';
				}
			});
		}
		const traps = {
			getOwnPropertyDescriptor(t, key) {
				if (random() < 0.7) reenter();
				return Reflect.getOwnPropertyDescriptor(t, key);
			}
		};
		const refused = new Proxy({ conversationId: 'c', userId: 'u', mode: 'casual', targetLanguage: 'ja', timestamp: at }, traps);
		if (random() < 0.5) hooks.push(bus.onRecord(() => random() < 0.5 && reenter()));
		if (random() < 0.5) hooks.push(bus.on('*', () => random() < 0.6 && reenter()));
		const action = pick([
			() => bus.emit('auth.user.login', payload),
			() => bus.emit('conversation.started', refused),
			() => bus.validate('auth.user.login', payload),
			() => reenter()
		]);
		const depth = random() < 0.5 ? Math.floor(random() * limit) : Math.max(0, limit - 1 - Math.floor(random() * 400));
		quiet(() => atDepth(depth, action));
		for (const off of hooks) off();
		try {
			assertHealthy(bus);
			bus.emit('auth.user.login', login());
			assert.equal(bus.getEventsByName('auth.user.login').at(-1).status, 'delivered');
			assert.equal(bus.validate('auth.user.login', login()).ok, true);
			bus.clear();
			assert.equal(bus.getEventHistory().length, 0);
		} catch (error) {
			throw new Error(`run ${run} (seed ${seed}, depth ${depth} of ${limit}): ${error.message}`, { cause: error });
		}
		bus.dispose();
	}
});
