// Values from another realm (issue 25 items 10 and 14): an iframe's in
// Chromium, a node:vm context's in Node. Their Date, Map, Set and boxed
// primitives are no instanceof this page's, but are what they are:
// validation takes another realm's Date as a Date, and export writes each
// as it writes this realm's. Runs in Node and in Chromium.

import { EventBus, ValidationError } from '#kaiwa';
import { toPlain } from '../../pkg/history/index.js';
import { assert, inNode, test } from './harness.js';

const at = new Date('2026-11-26T10:00:00Z');

async function otherRealm() {
	if (inNode) {
		const vm = await import('node:vm');
		return vm.runInNewContext('globalThis');
	}
	const frame = document.createElement('iframe');
	document.body.append(frame);
	return frame.contentWindow;
}
const realm = await otherRealm();

const login = (timestamp) => ({ userId: 'u1', email: 'u1@example.com', tier: 'pro', timestamp });

test("realm: another realm's Date is a Date to a 'Date' field, and not an object to an 'object' field", () => {
	const foreign = new realm.Date(at.getTime());
	assert.equal(foreign instanceof Date, false, 'the test has a real foreign Date');
	const bus = new EventBus();
	bus.registerSchema({ name: 'app.note.saved', version: '1.0.0', payload: { meta: 'object' } });
	let delivered = 0;
	bus.on('auth.user.login', () => delivered++);
	bus.emit('auth.user.login', login(at));
	bus.emit('auth.user.login', login(foreign));
	assert.equal(delivered, 2, 'this realm’s Date and the other’s are both accepted');
	assert.deepEqual(bus.validate('auth.user.login', login(foreign)), { ok: true, known: true, issues: [] });
	const invalid = new realm.Date(Number.NaN);
	assert.throws(
		() => bus.emit('auth.user.login', login(invalid)),
		(e) => e instanceof ValidationError && e.issues[0].received === 'Invalid Date'
	);
	for (const date of [at, foreign]) {
		assert.throws(
			() => bus.emit('app.note.saved', { meta: date }),
			(e) => e instanceof ValidationError && e.issues[0].received === 'Date'
		);
	}
	bus.emit('app.note.saved', { meta: new realm.Object() });
	// An object that only claims to be a Date is an object.
	const claims = { [Symbol.toStringTag]: 'Date' };
	assert.throws(
		() => bus.emit('auth.user.login', login(claims)),
		(e) => e instanceof ValidationError && e.issues[0].received === 'object'
	);
	const dateProto = Object.create(realm.Date.prototype);
	assert.throws(
		() => bus.emit('auth.user.login', login(dateProto)),
		(e) => e.issues[0].received === 'object'
	);
});

test("realm: export writes another realm's Date, Map, Set and boxed primitives as this realm's", () => {
	const make = (r) => ({
		date: new r.Date(at.getTime()),
		invalid: new r.Date(Number.NaN),
		map: new r.Map([['a', 1]]),
		set: new r.Set([1, 2]),
		number: new r.Number(3),
		string: new r.String('s'),
		boolean: new r.Boolean(false),
		array: new r.Array(1, 2),
		error: new r.TypeError('nope')
	});
	const expected = {
		date: at.toISOString(),
		invalid: null,
		map: [['a', 1]],
		set: [1, 2],
		number: 3,
		string: 's',
		boolean: false,
		array: [1, 2],
		error: 'TypeError: nope'
	};
	assert.deepEqual(toPlain(make(globalThis)), expected);
	assert.deepEqual(toPlain(make(realm)), expected);
});
