// defineEvents: one definition gives the runtime schemas a bus registers
// (createEventBus('memory', { events })); MockEventBus delivering to
// handlers; the default export. Runs in Node and in Chromium.

import init, { MockEventBus, UnknownEventError, ValidationError, createEventBus, defineEvents } from '#kaiwa';
import { assert, test } from './harness.js';

const cart = defineEvents({
	'cart.item.added': { itemId: 'string', qty: 'number', at: 'Date', note: 'string?', size: "'s' | 'm'" },
	'cart.checkout.started': { version: '2.1.0', description: 'Checkout began', payload: { cartId: 'string' } }
});

const item = (extra = {}) => ({ itemId: 'i1', qty: 2, at: new Date(), size: 's', ...extra });

test('defineEvents + strict mode: the defined events are accepted, others refused', () => {
	const bus = createEventBus('memory', { mode: 'strict', events: cart });
	const got = [];
	bus.on('cart.*', (p, meta) => got.push([meta.name, p]));
	bus.emit('cart.item.added', item());
	bus.emit('cart.item.added', item({ note: 'gift' }));
	bus.emit('cart.checkout.started', { cartId: 'c1' });
	assert.deepEqual(
		got.map(([name]) => name),
		['cart.item.added', 'cart.item.added', 'cart.checkout.started']
	);
	assert.throws(() => bus.emit('cart.item.removed', { itemId: 'i1' }), UnknownEventError);
	assert.throws(() => bus.emit('cart.item.added', item({ at: '2026-01-01' })), ValidationError);
	assert.throws(() => bus.emit('cart.item.added', item({ size: 'xl' })), ValidationError);
	assert.equal(got.length, 3, 'refused events reach no handler');
	// The catalog is still there.
	bus.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
});

test('defineEvents: the short form is version 1.0.0, the long form keeps its version and description', () => {
	assert.deepEqual(cart.schemas[0], {
		name: 'cart.item.added',
		version: '1.0.0',
		description: '',
		audience: 'user',
		payload: { itemId: 'string', qty: 'number', at: 'Date', note: 'string?', size: "'s' | 'm'" }
	});
	const bus = createEventBus('memory', { events: cart, catalog: false });
	assert.deepEqual(bus.getSchemaNames(), ['cart.checkout.started', 'cart.item.added']);
	assert.equal(bus.getSchema('cart.checkout.started').version, '2.1.0');
	assert.equal(bus.getSchema('cart.checkout.started').description, 'Checkout began');
});

test('defineEvents: an audience in the long form, user by default; the bus keeps it and the relay file gets it', () => {
	const events = defineEvents({
		'app.notice.posted': { audience: 'all', description: 'A maintenance notice', payload: { text: 'string' } },
		'room.message.sent': { audience: 'group', payload: { groupId: 'string', text: 'string' } },
		'cart.item.added': { payload: { itemId: 'string' } },
		'cart.item.removed': { itemId: 'string', audience: 'string' }
	});
	assert.deepEqual(
		events.schemas.map((s) => [s.name, s.audience]),
		[
			['app.notice.posted', 'all'],
			['room.message.sent', 'group'],
			['cart.item.added', 'user'],
			['cart.item.removed', 'user']
		]
	);
	assert.deepEqual(events.schemas[3].payload, { itemId: 'string', audience: 'string' }, 'in the short form, audience is a field');
	assert.deepEqual(JSON.parse(JSON.stringify(events.schemas))[0], {
		name: 'app.notice.posted',
		version: '1.0.0',
		description: 'A maintenance notice',
		audience: 'all',
		payload: { text: 'string' }
	});
	const bus = createEventBus('memory', { events, catalog: false });
	assert.deepEqual(
		bus.getSchemaNames().map((name) => [name, bus.getSchema(name).audience]),
		[
			['app.notice.posted', 'all'],
			['cart.item.added', 'user'],
			['cart.item.removed', 'user'],
			['room.message.sent', 'group']
		]
	);
	assert.throws(() => defineEvents({ 'a.b': { audience: 'public', payload: {} } }), {
		name: 'TypeError',
		message: /"a\.b": audience must be 'user' .*, 'all' .* or 'group' .*, got the string "public"/
	});
	// A group event names its group in a required string groupId: the bus says so at registration.
	const noGroup = defineEvents({ 'room.message.sent': { audience: 'group', payload: { text: 'string' } } });
	assert.throws(
		() => createEventBus('memory', { events: noGroup }),
		/room\.message\.sent: field groupId: audience 'group' needs a required field groupId/
	);
	assert.throws(() => bus.registerSchema({ name: 'a.b', version: '1.0.0', audience: 7, payload: {} }), {
		name: 'TypeError',
		message: /audience must be/
	});
	assert.throws(
		() => bus.registerSchema({ name: 'a.b', version: '1.0.0', audience: 'everyone', payload: {} }),
		/audience must be 'user', 'all' or 'group': "everyone"/
	);
	bus.emit('cart.item.added', { itemId: 'i' });
});

test('defineEvents: bad definitions and events that did not come from it are clear errors', () => {
	assert.throws(() => defineEvents(null), { name: 'TypeError', message: /defineEvents\(definitions\): expected an object/ });
	assert.throws(() => defineEvents({ 'a.b': 'string' }), { name: 'TypeError', message: /"a\.b": expected its payload's fields/ });
	assert.throws(() => createEventBus('memory', { events: { 'a.b': { x: 'string' } } }), {
		name: 'TypeError',
		message: /options\.events must be what defineEvents/
	});
	const broken = defineEvents({ 'a.b.c': { x: 'strin' } });
	assert.throws(() => createEventBus('memory', { events: broken }), /x/);
	// ...and the bus keeps working afterwards.
	const bus = createEventBus('memory', { events: cart });
	const got = [];
	bus.on('cart.item.added', (p) => got.push(p));
	bus.emit('cart.item.added', item());
	assert.equal(got.length, 1, 'a valid emit is dispatched');
	assert.throws(() => bus.emit('cart.item.added', { ...item(), qty: 'two' }), /qty/, 'and a bad one still refused');
});

test("the 'Record<string, any>' descriptor at run time: any object, not null, an array, a Date or a primitive", () => {
	const bus = createEventBus('memory', {
		mode: 'strict',
		events: defineEvents({ 'app.ctx.saved': { ctx: 'Record<string, any>', extra: 'Record<string, any>?' } })
	});
	const got = [];
	bus.on('app.ctx.saved', (p) => got.push(p.ctx));
	const accepted = [{}, { a: 1, nested: { b: [1] } }, new Map(), Object.create(null)];
	for (const ctx of accepted) bus.emit('app.ctx.saved', { ctx });
	assert.deepEqual(got, accepted);
	for (const [ctx, received] of [
		[null, 'null'],
		[[1, 2], 'array'],
		[new Date(), 'Date'],
		['text', 'string'],
		[1, 'number']
	]) {
		assert.throws(
			() => bus.emit('app.ctx.saved', { ctx }),
			(error) => error instanceof ValidationError && error.issues[0].path === 'ctx' && error.issues[0].received === received,
			`ctx = ${received}`
		);
	}
	assert.throws(() => bus.emit('app.ctx.saved', {}), ValidationError, 'a missing required field');
	bus.emit('app.ctx.saved', { ctx: {}, extra: undefined });
	assert.equal(got.length, accepted.length + 1, 'an optional one may be left out');
});

test('MockEventBus({ deliver: true }) calls matching handlers in order; the default calls none', () => {
	const mock = new MockEventBus({ deliver: true });
	const calls = [];
	mock.on('cart.item.added', (p, meta) => calls.push(`exact ${p.itemId} #${meta.id}`));
	mock.on('cart.*', (_p, meta) => calls.push(`domain ${meta.name}`));
	mock.once('*', (_p, meta) => calls.push(`once ${meta.name}`));
	const off = mock.on('other.thing', () => calls.push('other'));
	off();
	mock.emit('cart.item.added', item());
	mock.emit('cart.item.added', item({ itemId: 'i2' }));
	assert.deepEqual(calls, ['exact i1 #1', 'domain cart.item.added', 'once cart.item.added', 'exact i2 #2', 'domain cart.item.added']);
	assert.equal(mock.getHandlerCount('cart.*'), 1);
	assert.equal(mock.getEmittedEvents('cart.item.added').length, 2);
	assert.throws(() => mock.on('x.y', 'nope'), { name: 'TypeError', message: /handler must be a function/ });

	const silent = new MockEventBus();
	let called = false;
	silent.on('*', () => (called = true));
	silent.emit('cart.item.added', item());
	assert.equal(called, false);
});

test('MockEventBus({ deliver: true }): a throwing handler throws from emit, after the event was recorded', () => {
	const mock = new MockEventBus({ deliver: true });
	const calls = [];
	mock.on('cart.item.added', () => calls.push('before'));
	mock.on('cart.item.added', () => {
		throw new Error('boom in a handler');
	});
	mock.on('cart.item.added', () => calls.push('after'));
	assert.throws(() => mock.emit('cart.item.added', item()), { message: 'boom in a handler' });
	// Unlike the real bus (which logs and goes on), the error reaches the test at once.
	assert.deepEqual(calls, ['before']);
	assert.equal(mock.getEmittedEvents('cart.item.added').length, 1);
	// The mock keeps working.
	mock.emit('other.thing', {});
	assert.deepEqual(
		mock.getEmittedEvents().map((e) => e.name),
		['cart.item.added', 'other.thing']
	);
});

test('init is also the default export, and idempotent', async () => {
	await Promise.all([init(), init()]);
	assert.equal(typeof init, 'function');
});
