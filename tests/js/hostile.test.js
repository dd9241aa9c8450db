// Hostile input: every case gets a clear Error naming the problem or a
// documented acceptance, never a wasm trap, a RuntimeError or a borrow
// error, and the same bus delivers normally afterwards. Runs in Node and in
// Chromium. See README "What the bus promises".

import { EventBus, ValidationError } from '#kaiwa';
import { assert, assertHealthy, captureConsole, quiet, settle, test } from './harness.js';

const at = new Date('2026-11-26T10:00:00Z');
const login = () => ({ userId: 'u1', email: 'a@example.com', tier: 'pro', timestamp: at });

// Runs `call`; if it throws, the error must be a plain Error naming the
// problem, not a trap of the wasm module. Returns the error (or null).
function outcome(call) {
	try {
		call();
		return null;
	} catch (error) {
		assert.ok(error instanceof Error, `threw a non-Error: ${String(error)}`);
		assert.ok(!(error instanceof WebAssembly.RuntimeError), `wasm trap: ${error.message}`);
		assert.ok(!/unreachable|borrow|recursive use|null pointer|RuntimeError/i.test(error.message), error.message);
		assert.ok(error.message.length > 10, `message too short: ${error.message}`);
		return error;
	}
}

test('circular and very deep payloads are accepted (fields are read, never walked)', () => {
	const bus = new EventBus();
	const circular = { ...login() };
	circular.self = circular;
	let deep = {};
	const root = deep;
	for (let i = 0; i < 100_000; i++) deep = deep.next = {};
	const got = [];
	bus.on('*', (p) => got.push(p));
	assert.equal(
		outcome(() => bus.emit('auth.user.login', circular)),
		null
	);
	assert.equal(
		outcome(() => bus.emit('conversation.error', { conversationId: 'c', error: 'e', context: root, timestamp: at })),
		null
	);
	assert.equal(
		outcome(() => quiet(() => bus.emit('app.deep.thing', root))),
		null
	);
	assert.deepEqual(got, [circular, got[1], root]);
	assertHealthy(bus);
});

test('huge payloads: a 10 MB string and a million-item string[] are validated and delivered', () => {
	const bus = new EventBus();
	const big = 'x'.repeat(10 * 1024 * 1024);
	let delivered = 0;
	bus.on('*', () => delivered++);
	assert.equal(
		outcome(() =>
			bus.emit('conversation.message.sent', { conversationId: 'c', messageId: 'm', role: 'user', content: big, timestamp: at })
		),
		null
	);
	const words = Array.from({ length: 1_000_000 }, (_, i) => `w${i}`);
	const lesson = { userId: 'u', lessonId: 'l', wordsLearned: words, score: 1, timestamp: at };
	assert.equal(
		outcome(() => bus.emit('vocabulary.lesson.completed', lesson)),
		null
	);
	words[999_999] = 7;
	const error = outcome(() => bus.emit('vocabulary.lesson.completed', lesson));
	assert.deepEqual(error.issues, [{ path: 'wordsLearned[999999]', expected: 'string', received: 'number' }]);
	assert.equal(delivered, 2);
	assertHealthy(bus);
});

test('Proxy objects whose traps throw, and getters that throw, are refused by name', () => {
	const bus = new EventBus();
	const trap = () => {
		throw new Error('trap');
	};
	const hostile = [
		new Proxy(login(), { get: trap }),
		new Proxy(login(), { getPrototypeOf: trap, get: trap }),
		new Proxy({}, { ownKeys: trap, has: trap, get: trap }),
		Object.defineProperty({ ...login() }, 'timestamp', { get: trap })
	];
	const revocable = Proxy.revocable(login(), {});
	revocable.revoke();
	hostile.push(revocable.proxy);
	for (const payload of hostile) {
		const error = outcome(() => bus.emit('auth.user.login', payload));
		assert.ok(error instanceof ValidationError, 'refused');
		assert.ok(
			error.issues.some((i) => i.received === 'a getter that threw'),
			JSON.stringify(error.issues)
		);
	}
	// Without a schema nothing is read: the Proxy is delivered as is.
	let got = null;
	bus.on('app.proxy.sent', (p) => {
		got = p;
	});
	quiet(() => bus.emit('app.proxy.sent', hostile[0]));
	assert.equal(got, hostile[0]);
	assertHealthy(bus);
});

test('__proto__ and constructor keys, class instances, Map, Set and frozen objects', () => {
	const bus = new EventBus();
	const got = [];
	bus.on('auth.user.login', (p) => got.push(p));
	const parsed = JSON.parse('{"__proto__": {"userId": 1}, "constructor": 5, "userId": "u", "email": "e", "tier": "t"}');
	parsed.timestamp = at;
	assert.equal(
		outcome(() => bus.emit('auth.user.login', parsed)),
		null
	);
	assert.equal(Object.prototype.userId, undefined, 'no prototype pollution');
	class Login {
		constructor() {
			Object.assign(this, login());
		}
	}
	const instance = new Login();
	assert.equal(
		outcome(() => bus.emit('auth.user.login', instance)),
		null
	);
	const frozen = Object.freeze(login());
	assert.equal(
		outcome(() => bus.emit('auth.user.login', frozen)),
		null
	);
	assert.deepEqual(got, [parsed, instance, frozen]);
	const map = outcome(() => bus.emit('auth.user.login', new Map(Object.entries(login()))));
	assert.equal(map.issues.length, 4, 'a Map is an object without those fields');
	const set = outcome(() => bus.emit('conversation.error', { conversationId: 'c', error: 'e', context: new Set([1]), timestamp: at }));
	assert.equal(set, null, "a Set is an 'object'");
	assertHealthy(bus);
});

test('a schema whose keys look like code cannot inject into the compiled reader', () => {
	const bus = new EventBus();
	const keys = ['"]; globalThis.__pwned = 1; //', "'\n}); globalThis.__pwned = 2; (() => {", '</script>', '__proto__x', 'constructor'];
	const payload = Object.fromEntries(keys.map((k) => [k, 'v']));
	bus.registerSchema({
		name: 'app.keys.odd',
		version: '1.0.0',
		description: '',
		payload: Object.fromEntries(keys.map((k) => [k, 'string']))
	});
	assert.deepEqual(Object.keys(bus.getSchema('app.keys.odd').payload), keys);
	let got = null;
	bus.on('app.keys.odd', (p) => {
		got = p;
	});
	assert.equal(
		outcome(() => bus.emit('app.keys.odd', payload)),
		null
	);
	assert.equal(got, payload);
	assert.equal(globalThis.__pwned, undefined);
	const error = outcome(() => bus.emit('app.keys.odd', { ...payload, [keys[0]]: 1 }));
	assert.equal(error.issues[0].path, keys[0]);
	assertHealthy(bus);
});

test('symbols, BigInt, NaN, Infinity, invalid Dates and functions in fields are refused by name', () => {
	const bus = new EventBus();
	const cases = [
		['userId', Symbol('u'), 'symbol'],
		['userId', 10n, 'bigint'],
		['userId', () => 'u', 'function'],
		['timestamp', new Date(NaN), 'Invalid Date'],
		['timestamp', Date.now(), 'number']
	];
	for (const [key, value, received] of cases) {
		const error = outcome(() => bus.emit('auth.user.login', { ...login(), [key]: value }));
		assert.deepEqual(error.issues, [{ path: key, expected: key === 'timestamp' ? 'Date' : 'string', received }]);
	}
	for (const [value, received] of [
		[NaN, 'NaN'],
		[Infinity, 'Infinity'],
		[-Infinity, '-Infinity']
	]) {
		const error = outcome(() => bus.emit('audio.recording.stopped', { sessionId: 's', duration: value, audioSize: 1, timestamp: at }));
		assert.equal(error.issues[0].received, received);
	}
	// Symbol-keyed properties are not fields: ignored.
	assert.equal(
		outcome(() => bus.emit('auth.user.login', { ...login(), [Symbol('x')]: 1 })),
		null
	);
	assertHealthy(bus);
});

test('lone UTF-16 surrogates: fine in payload strings, refused in names and schemas', () => {
	const bus = new EventBus();
	let got = null;
	bus.on('auth.user.login', (p) => {
		got = p;
	});
	const odd = { ...login(), email: 'a\uD800b' };
	assert.equal(
		outcome(() => bus.emit('auth.user.login', odd)),
		null
	);
	assert.equal(got.email, 'a\uD800b');
	for (const call of [
		() => bus.emit('app.x\uD800', {}),
		() => bus.on('app.\uDC00', () => {}),
		() => bus.registerSchema({ name: 'app.keys.x', version: '1.0.0', description: '', payload: { 'k\uD800': 'string' } }),
		() => bus.registerSchema({ name: 'app.keys.x', version: '1.0.0', description: '', payload: { k: "'a\uD800'" } })
	]) {
		const error = outcome(call);
		assert.equal(error.name, 'TypeError');
		assert.match(error.message, /lone surrogate/);
	}
	assertHealthy(bus);
});

test('names: empty, 1 MB long, not strings, all dots, or wildcards', () => {
	const bus = new EventBus();
	const typeErrors = [
		[() => bus.emit('', {}), /must not be empty/],
		[() => bus.emit('a'.repeat(1024 * 1024), {}), /1048576 characters long; the limit is 1024 bytes/],
		[() => bus.emit('é'.repeat(1000), {}), /2000 bytes long; the limit is 1024/],
		[() => bus.on('a'.repeat(1024 * 1024), () => {}), /limit is 1024/],
		[() => bus.emit(null, {}), /must be a string, got null/],
		[() => bus.emit({ toString: () => 'auth.user.login' }, {}), /must be a string, got an object/],
		[() => bus.emit(Symbol('x'), {}), /must be a string, got a symbol/],
		[() => bus.emit('*', {}), /'\*' is only allowed/],
		[() => bus.emit('auth.user.*', {}), /'\*' is only allowed/],
		[() => bus.on('*.login', () => {}), /'\*' is only allowed/],
		[() => bus.on('a.*.b', () => {}), /'\*' is only allowed/]
	];
	for (const [call, message] of typeErrors) {
		const error = outcome(call);
		assert.equal(error?.name, 'TypeError', String(call));
		assert.match(error.message, message);
	}
	// All dots is a name, just not a conventional one: a warning in development...
	let delivered = 0;
	bus.on('....', () => delivered++);
	quiet(() => bus.emit('....', {}));
	assert.equal(delivered, 1);
	// ...and a refusal in strict mode.
	const strict = new EventBus({ mode: 'strict' });
	assert.equal(outcome(() => strict.emit('a..b', {})).name, 'UnknownEventError');
	assert.equal(outcome(() => bus.getHandlerCount('a'.repeat(5000))).name, 'TypeError', 'no name that long can exist');
	assertHealthy(bus);
	assertHealthy(strict);
});

test('handlers: not functions are refused; odd throws and odd promises are contained', async () => {
	const bus = new EventBus();
	for (const handler of [null, undefined, 42, 'fn', {}, Symbol('h'), Promise.resolve()]) {
		assert.equal(outcome(() => bus.on('auth.user.login', handler)).name, 'TypeError');
	}
	let after = 0;
	bus.on('auth.user.login', () => {
		throw Object.create(null);
	});
	bus.on('auth.user.login', () => {
		throw new Proxy(
			{},
			{
				get: () => {
					throw new Error('no');
				},
				getPrototypeOf: () => {
					throw new Error('no');
				}
			}
		);
	});
	bus.on('auth.user.login', () => new Promise(() => {}));
	bus.on('auth.user.login', () => Promise.reject(Symbol('why')));
	bus.on('auth.user.login', () => after++);
	await captureConsole(async () => {
		assert.equal(
			outcome(() => bus.emit('auth.user.login', login())),
			null
		);
		await settle();
	});
	assert.equal(after, 1);
	const record = bus.getEventsByName('auth.user.login')[0];
	assert.equal(record.status, 'failed');
	assert.equal(record.errors.length, 3);
	assert.equal(record.errors[2], 'Symbol(why)');
	assertHealthy(bus);
});

test('a console that throws does not break the bus', () => {
	const bus = new EventBus();
	const { warn, error } = console;
	console.warn = () => {
		throw new Error('console.warn is broken');
	};
	console.error = console.warn;
	try {
		let ran = 0;
		bus.on('app.any.thing', () => {
			throw new Error('handler');
		});
		bus.on('app.any.thing', () => ran++);
		assert.equal(
			outcome(() => bus.emit('app.any.thing', {})),
			null
		);
		assert.equal(ran, 1);
	} finally {
		Object.assign(console, { warn, error });
	}
	assertHealthy(bus);
});

test('a payload getter that emits on the same bus while being validated', () => {
	const bus = new EventBus();
	let reads = 0;
	const payload = { ...login() };
	Object.defineProperty(payload, 'email', {
		enumerable: true,
		get() {
			reads++;
			bus.emit('auth.user.logout', { userId: 'inner', timestamp: at });
			return 'a@example.com';
		}
	});
	const names = [];
	bus.on('*', (_, meta) => names.push(meta.name));
	assert.equal(
		outcome(() => bus.emit('auth.user.login', payload)),
		null
	);
	// The nested emit read its payload above the outer one's codes: the
	// getter ran once, and both events were validated.
	assert.equal(reads, 1);
	assert.deepEqual(names, ['auth.user.logout', 'auth.user.login']);
	assert.deepEqual(
		bus.getEventHistory().map((r) => r.status),
		['delivered', 'delivered']
	);
	// A getter that returns a wrong value after emitting is still caught.
	Object.defineProperty(payload, 'tier', {
		get() {
			bus.emit('auth.user.logout', { userId: 'inner', timestamp: at });
			return 42;
		}
	});
	assert.equal(outcome(() => bus.emit('auth.user.login', payload)).issues[0].path, 'tier');
	assertHealthy(bus);
});

test('a getter that registers a wider schema mid-read moves the probe buffer safely', () => {
	const bus = new EventBus();
	const wide = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f${i}`, 'number']));
	const payload = { ...login() };
	Object.defineProperty(payload, 'email', {
		get() {
			// Runs once: the nested read moves the buffer, the outer codes move with it.
			if (!bus.getSchema('app.wide.event')) {
				bus.registerSchema({ name: 'app.wide.event', version: '1.0.0', description: '', payload: wide });
			}
			bus.emit('app.wide.event', Object.fromEntries(Object.keys(wide).map((k) => [k, 1])));
			return 'a@example.com';
		}
	});
	assert.equal(
		outcome(() => bus.emit('auth.user.login', payload)),
		null
	);
	assert.deepEqual(
		bus.getEventsByName('app.wide.event').map((r) => r.status),
		['delivered']
	);
	assert.equal(bus.getEventsByName('auth.user.login')[0].status, 'delivered');
	assertHealthy(bus);
});
