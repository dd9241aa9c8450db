// The payload readers: the reader compiled per schema (new Function) and the
// reference reader it falls back to under a Content-Security-Policy without
// 'unsafe-eval' must write the same codes for every payload. Runs in Node
// and in Chromium, against the built package's probe.js.

import { init } from '#kaiwa';
import { BusCore } from '../../pkg/kaiwa_bus.js';
import { KIND_NAMES, compileReader, configure, readPayload } from '../../pkg/core/probe.js';
import { assert, test } from './harness.js';

// Read modes, as ReadMode in src/schema/probe.rs.
const KIND = 0;
const LITERAL = 1;
const STRING_ITEMS = 2;

const plans = [
	{ keys: ['userId', 'email', 'tier', 'timestamp'], modes: [KIND, KIND, KIND, KIND] },
	{ keys: ['mode', 'role'], modes: [LITERAL, LITERAL] },
	{ keys: ['wordsLearned', 'score'], modes: [STRING_ITEMS, KIND] },
	{ keys: ['"]; x = 1; //', '__proto__', 'constructor'], modes: [KIND, LITERAL, STRING_ITEMS] },
	{ keys: ['toString', 'hasOwnProperty', 'valueOf', 'name'], modes: [KIND, LITERAL, STRING_ITEMS, LITERAL] },
	{ keys: [], modes: [] }
];
const atoms = new Map([
	['traditional', 0],
	['realtime', 1],
	['user', 2]
]);

function trap() {
	throw new Error('trap');
}

const values = [
	undefined,
	null,
	'',
	'realtime',
	'casual',
	0,
	-1.5,
	NaN,
	Infinity,
	-Infinity,
	true,
	new Date(0),
	new Date(NaN),
	[],
	['a', 'b'],
	['a', 2, null],
	[undefined],
	{},
	new Map(),
	() => {},
	10n,
	Symbol('s'),
	new Proxy({}, { get: trap }),
	new Proxy(['a'], { get: trap }),
	// What passes `instanceof Date` without being one, or is one in disguise:
	// the compiled reader's inline Date check must say what objectKind says.
	new (class extends Date {})(0),
	Object.create(Date.prototype),
	Object.setPrototypeOf(['a'], Date.prototype),
	new Proxy(new Date(0), {}),
	Object.defineProperty(new Date(0), '__proto__', { value: Object.prototype })
];

function payloads(plan) {
	const out = [null, undefined, 'text', 7, [], new Date(0), new Proxy({}, { getPrototypeOf: trap })];
	// Payloads the compiled reader's inline plain-object check (by
	// `__proto__`) must pass to readSelf: a Proxy whose get trap throws, an
	// array or a Date whose \`__proto__\` claims Object.prototype, an object
	// whose own "__proto__" key hides its prototype.
	const fields = Object.fromEntries(plan.keys.map((k) => [k, 'x']));
	out.push(
		new Proxy(fields, { get: trap }),
		Object.setPrototypeOf(['a'], Object.prototype),
		Object.defineProperty(new Date(0), '__proto__', { value: Object.prototype }),
		Object.defineProperty(['a'], '__proto__', { value: Object.prototype }),
		JSON.parse(`{"__proto__": {}, ${plan.keys.map((k) => `${JSON.stringify(k)}: 1`).join(', ') || '"a": 1'}}`)
	);
	for (const value of values) out.push(Object.fromEntries(plan.keys.map((k) => [k, value])));
	const getter = {};
	for (const key of plan.keys) Object.defineProperty(getter, key, { get: trap, enumerable: true });
	out.push(getter);
	// Inherited keys: from Object.prototype (not a field), from a class (a field).
	out.push(
		{},
		Object.create(null),
		new (class {
			toString() {
				return 'a class';
			}
			get name() {
				return 'realtime';
			}
		})()
	);
	const own = {};
	for (const key of plan.keys) Object.defineProperty(own, key, { value: ['a', 1], enumerable: true });
	out.push(own);
	const revocable = Proxy.revocable({}, {});
	revocable.revoke();
	out.push(revocable.proxy);
	return out;
}

function read(reader, payload, width) {
	// Garbage around the written part, so an unwritten slot would show.
	const out = new Int32Array(width + 6).fill(-7);
	const n = reader(payload, atoms, out, 3);
	return [n, ...out];
}

// The readers write kind codes the module decodes: the two must agree on
// them. init() does not ask the module (a call into it would cost every
// page load), so the built package is checked here.
test("the package's module and its payload reader name the kind codes alike, in code order", async () => {
	await init();
	assert.deepEqual(BusCore.kindNames(), [...KIND_NAMES]);
});

test('the compiled reader writes what the reference reader writes', () => {
	let compared = 0;
	for (const plan of plans) {
		const compiled = compileReader(plan);
		const width = 3 * (plan.keys.length + 1);
		for (const payload of payloads(plan)) {
			const reference = read((p, a, o, b) => readPayload(plan, p, a, o, b), payload, width);
			assert.deepEqual(read(compiled, payload, width), reference, `plan [${plan.keys}]`);
			compared++;
		}
	}
	assert.ok(compared > 100, `${compared} comparisons`);
});

test('without new Function (a strict CSP), compileReader falls back to the reference reader', () => {
	const saved = globalThis.Function;
	let tried = 0;
	globalThis.Function = function () {
		tried++;
		throw new EvalError('Refused to evaluate a string as JavaScript');
	};
	let reader;
	try {
		reader = compileReader(plans[0]);
	} finally {
		globalThis.Function = saved;
	}
	assert.equal(tried, 1);
	const payload = { userId: 'u', email: 3, tier: 't', timestamp: new Date(0) };
	assert.deepEqual(
		read(reader, payload, 15),
		read((p, a, o, b) => readPayload(plans[0], p, a, o, b), payload, 15)
	);
});

test('configure({ jitless: true }) gives the reference reader, writing what the compiled one writes', () => {
	const compiled = plans.map((plan) => compileReader(plan));
	configure({ jitless: true });
	let jitless;
	try {
		jitless = plans.map((plan) => compileReader(plan));
	} finally {
		configure({ jitless: false });
	}
	let compared = 0;
	plans.forEach((plan, i) => {
		assert.notEqual(jitless[i], compiled[i]);
		const width = 3 * (plan.keys.length + 1);
		for (const payload of payloads(plan)) {
			assert.deepEqual(read(jitless[i], payload, width), read(compiled[i], payload, width), `plan [${plan.keys}]`);
			compared++;
		}
	});
	assert.ok(compared > 100, `${compared} comparisons`);
});
