// One test API for Node and the browser. In Node it is node:test and
// node:assert/strict; in Chromium (tests/js/browser.html) a small runner
// with the same names, reporting to window.__results.

const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

let test;
let assert;

if (inNode) {
	({ test } = await import('node:test'));
	assert = (await import('node:assert/strict')).default;
} else {
	const tests = [];
	test = (name, fn) => tests.push({ name, fn });
	globalThis.__runTests = async () => {
		const results = [];
		for (const t of tests) {
			try {
				await t.fn();
				results.push({ name: t.name, ok: true });
			} catch (error) {
				results.push({ name: t.name, ok: false, error: `${error?.stack ?? error}` });
			}
		}
		return results;
	};
	assert = browserAssert();
}

export { test, assert, inNode };

const at = new Date('2026-11-26T10:00:00Z');

// The bus still validates, records and delivers.
export function assertHealthy(bus) {
	let got = null;
	const off = bus.on('auth.user.logout', (p) => {
		got = p;
	});
	const payload = { userId: 'after', timestamp: at };
	bus.emit('auth.user.logout', payload);
	off();
	assert.equal(got, payload, 'the bus delivers after the hostile call');
	assert.throws(() => bus.emit('auth.user.logout', { userId: 1, timestamp: at }), { name: 'ValidationError' });
	assert.equal(bus.getEventsByName('auth.user.logout').at(-1).status, 'rejected');
}

// `payload` with `key` turned into an enumerable getter; returns payload.
export function withGetter(payload, key, get) {
	return Object.defineProperty(payload, key, { enumerable: true, get });
}

// Runs fn with console.warn and console.error silenced.
export function quiet(fn) {
	const { warn, error } = console;
	console.warn = () => {};
	console.error = () => {};
	try {
		return fn();
	} finally {
		Object.assign(console, { warn, error });
	}
}

function browserAssert() {
	const fail = (message) => {
		throw new Error(message);
	};
	const show = (v) => {
		try {
			return typeof v === 'string' ? JSON.stringify(v) : String(v);
		} catch {
			return Object.prototype.toString.call(v);
		}
	};
	const deepEqual = (a, b, path = '') => {
		if (Object.is(a, b)) return;
		if (a instanceof Date && b instanceof Date) {
			if (a.getTime() !== b.getTime()) fail(`${path}: dates differ: ${a} !== ${b}`);
			return;
		}
		if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
			fail(`${path || 'value'}: ${show(a)} !== ${show(b)}`);
		}
		if (Array.isArray(a) !== Array.isArray(b)) fail(`${path}: array vs non-array`);
		if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) fail(`${path}: prototypes differ`);
		const ka = Object.keys(a);
		const kb = Object.keys(b);
		if (ka.length !== kb.length) fail(`${path}: keys differ: [${ka}] vs [${kb}]`);
		for (const k of ka) deepEqual(a[k], b[k], `${path}.${k}`);
	};
	const matches = (error, expected) => {
		if (expected === undefined) return;
		if (typeof expected === 'function' && expected.prototype === undefined) {
			if (expected(error) !== true) fail(`the validation function refused ${show(error)}`);
			return;
		}
		if (typeof expected === 'function') {
			if (!(error instanceof expected)) fail(`expected a ${expected.name}, got ${show(error)}`);
			return;
		}
		for (const [key, want] of Object.entries(expected)) {
			const got = error?.[key];
			if (want instanceof RegExp ? !want.test(got) : !Object.is(got, want) && JSON.stringify(got) !== JSON.stringify(want)) {
				fail(`error.${key}: ${show(got)} does not match ${show(want)}`);
			}
		}
	};
	const a = (value, message) => {
		if (!value) fail(message ?? `expected a truthy value, got ${show(value)}`);
	};
	a.ok = a;
	a.equal = (x, y, message) => {
		if (!Object.is(x, y)) fail(message ?? `${show(x)} !== ${show(y)}`);
	};
	a.notEqual = (x, y, message) => {
		if (Object.is(x, y)) fail(message ?? `${show(x)} === ${show(y)}`);
	};
	a.deepEqual = (x, y, message) => {
		try {
			deepEqual(x, y);
		} catch (e) {
			fail(message ?? e.message);
		}
	};
	a.match = (s, re) => {
		if (!re.test(s)) fail(`${show(s)} does not match ${re}`);
	};
	a.throws = (fn, expected) => {
		try {
			fn();
		} catch (error) {
			matches(error, expected);
			return;
		}
		fail('expected the call to throw');
	};
	a.doesNotThrow = (fn) => fn();
	return a;
}

// Runs fn with console.warn and console.error captured; returns the calls.
export async function captureConsole(fn) {
	const calls = { warn: [], error: [] };
	const saved = { warn: console.warn, error: console.error };
	console.warn = (...args) => calls.warn.push(args);
	console.error = (...args) => calls.error.push(args);
	try {
		await fn();
	} finally {
		Object.assign(console, saved);
	}
	return calls;
}

// Resolves after pending promise callbacks (and a macrotask) have run.
export function settle() {
	return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Watches for unhandled promise rejections while `fn` runs, and returns the
 * reasons seen. Then waits until every rejection `fn` caused has had its
 * chance to go unhandled. Node reports them when the microtasks of a tick
 * have run, before the event loop goes on, so one setImmediate is enough
 * (and a rejection left unhandled there would fail the test under
 * node:test). Chromium reports them in a task of its own: there the helper
 * leaves a rejection of its own unhandled (a positive control, marked so
 * that the page does not count it) and waits until that one is reported,
 * as reports come in order.
 */
export async function unhandledRejections(fn) {
	const seen = [];
	const control = Object.assign(new Error('the control rejection'), { expectedByTest: true });
	let controlSeen;
	const reported = new Promise((resolve) => (controlSeen = resolve));
	const take = (reason) => (reason === control ? controlSeen() : seen.push(reason));
	const onNode = (reason) => take(reason);
	const onPage = (event) => {
		take(event.reason);
		event.preventDefault();
	};
	if (inNode) process.on('unhandledRejection', onNode);
	else addEventListener('unhandledrejection', onPage);
	try {
		await fn();
		if (inNode) {
			await new Promise((resolve) => setImmediate(resolve));
		} else {
			Promise.reject(control);
			await reported;
		}
	} finally {
		if (inNode) process.off('unhandledRejection', onNode);
		else removeEventListener('unhandledrejection', onPage);
	}
	return seen;
}

// Forces a full garbage collection where the engine allows it (Node with
// --expose-gc; Chromium with --js-flags=--expose-gc), after pending jobs.
export async function collectGarbage() {
	await settle();
	if (typeof globalThis.gc !== 'function') throw new Error('gc() is not exposed: run with --expose-gc');
	globalThis.gc();
	await settle();
	globalThis.gc();
}

// The JS heap in use, in bytes, after a full collection.
export async function heapBytes() {
	await collectGarbage();
	if (inNode) return process.memoryUsage().heapUsed;
	if (!performance.memory) throw new Error('performance.memory is missing: run Chromium with --enable-precise-memory-info');
	return performance.memory.usedJSHeapSize;
}
