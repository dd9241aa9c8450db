// Emits of an event without a schema are queued in JS and recorded by Rust
// in one call later (js/core/bus.js, #record): every read of the history,
// the statistics or a record must still see every emit at once, in order,
// with the record id its handlers were given. Runs in Node and in Chromium.

import { EventBus } from '#kaiwa';
import { assert, quiet, test } from './harness.js';

const at = new Date('2026-11-26T10:00:00Z');
const login = () => ({ userId: 'u1', email: 'a@example.com', tier: 'pro', timestamp: at });

// A bus with the catalog (auth.user.login is validated) that has warned
// about app.ping already, so app.ping's emits are queued.
function busWithPing() {
	const bus = new EventBus();
	quiet(() => bus.emit('app.ping', { n: -1 }));
	return bus;
}

test('queue: a read right after a burst of emits without a schema, interleaved with validated ones and a refusal, sees every emit in order', () => {
	const bus = busWithPing();
	const given = [];
	bus.on('app.ping', (_, meta) => given.push(meta.id));
	bus.on('auth.user.login', (_, meta) => given.push(meta.id));
	const names = ['app.ping'];
	for (let n = 0; n < 41; n++) {
		bus.emit('app.ping', { n });
		names.push('app.ping');
		if (n % 3 === 0) {
			bus.emit('auth.user.login', login());
			names.push('auth.user.login');
		}
		if (n === 5) {
			assert.throws(() => bus.emit('auth.user.login', { userId: 1 }), { name: 'ValidationError' });
			names.push('auth.user.login');
		}
	}
	const history = bus.getEventHistory();
	assert.deepEqual(
		history.map((r) => r.name),
		names
	);
	assert.deepEqual(
		history.map((r) => r.id),
		names.map((_, i) => history[0].id + i),
		'one record id each, consecutive'
	);
	assert.deepEqual(
		history
			.filter((r) => r.status === 'delivered')
			.map((r) => r.id)
			.slice(1),
		given,
		"each handler's meta.id is its record's id"
	);
	const pings = history.filter((r) => r.name === 'app.ping');
	assert.deepEqual(
		pings.map((r) => r.payload.n),
		[-1, ...Array.from({ length: 41 }, (_, n) => n)]
	);
	assert.ok(pings.slice(1).every((r) => r.status === 'delivered' && r.handlerCount === 1 && r.timestamp instanceof Date));
	// Each read, first after a burst.
	const burst = () => [1, 2, 3].forEach((n) => bus.emit('app.ping', { n }));
	burst();
	assert.equal(bus.getEventPerformanceStats('app.ping').count, 45);
	burst();
	assert.equal(bus.getPerformanceStats()['app.ping'].count, 48);
	burst();
	assert.equal(bus.getEventsByName('app.ping').length, 51);
	burst();
	assert.equal(bus.getRecentEvents(1)[0].id, history.at(-1).id + 12);
	bus.dispose();
});

test('queue: nested emits keep their order, and a handler sees its own record at once', () => {
	const bus = busWithPing();
	const order = [];
	const inside = [];
	bus.on('app.ping', (payload, meta) => {
		order.push(meta.id);
		inside.push(bus.getRecentEvents(1)[0].id === meta.id);
		if (payload.n === 0) bus.emit('auth.user.login', login());
	});
	bus.on('auth.user.login', (_, meta) => {
		order.push(meta.id);
		bus.emit('app.ping', { n: 1 });
	});
	bus.emit('app.ping', { n: 0 });
	const history = bus.getEventHistory().slice(1);
	assert.deepEqual(
		history.map((r) => [r.name, r.id]),
		[
			['app.ping', order[0]],
			['auth.user.login', order[0] + 1],
			['app.ping', order[0] + 2]
		]
	);
	assert.deepEqual(order, [order[0], order[0] + 1, order[0] + 2]);
	assert.deepEqual(inside, [true, true]);
	bus.dispose();
});

test('queue: a failing handler, a once handler, a listener and clearHistory() all reach the queued record', () => {
	const bus = busWithPing();
	const announced = [];
	const stop = bus.onRecord((record, change) => announced.push([record?.id, change]));
	bus.once('app.ping', () => {});
	bus.on('app.ping', (payload) => {
		if (payload.n === 1) throw new Error('handler broke');
	});
	quiet(() => {
		bus.emit('app.ping', { n: 1 });
		bus.emit('app.ping', { n: 2 });
	});
	stop();
	const [first, second] = bus.getEventHistory().slice(1);
	assert.equal(first.status, 'failed');
	assert.match(first.errors[0], /handler broke/);
	assert.equal(first.handlerCount, 2);
	assert.equal(second.status, 'delivered');
	assert.equal(second.handlerCount, 1, 'the once handler was gone');
	assert.deepEqual(announced, [
		[first.id, 'added'],
		[second.id, 'added']
	]);
	for (let n = 0; n < 5; n++) bus.emit('app.ping', { n });
	bus.clearHistory();
	assert.equal(bus.getEventHistory().length, 0, 'queued emits were recorded before the history was cleared');
	assert.equal(bus.getEventPerformanceStats('app.ping'), null);
	bus.emit('app.ping', { n: 9 });
	const [last] = bus.getEventHistory();
	assert.equal(last.id, second.id + 6);
	assert.equal(bus.getEventPerformanceStats('app.ping').count, 1);
	bus.dispose();
});

test('queue: a validated emit right after queued ones is read from codes the queue did not overwrite', () => {
	const bus = busWithPing();
	bus.registerSchema({ name: 'app.pick', version: '1.0.0', payload: { kind: "'a' | 'b'", tags: 'string[]' } });
	const picked = [];
	bus.on('app.pick', (payload) => picked.push(payload.kind));
	for (const kind of ['a', 'b']) {
		for (let n = 0; n < 3; n++) bus.emit('app.ping', { n });
		bus.emit('app.pick', { kind, tags: ['x', 'y'] });
	}
	assert.deepEqual(picked, ['a', 'b']);
	for (let n = 0; n < 3; n++) bus.emit('app.ping', { n });
	assert.throws(
		() => bus.emit('app.pick', { kind: 'c', tags: ['x', 1] }),
		(error) => {
			assert.equal(error.name, 'ValidationError');
			assert.deepEqual(error.issues, [
				{ path: 'kind', expected: "'a' | 'b'", received: "'c'" },
				{ path: 'tags[1]', expected: 'string', received: 'number' }
			]);
			return true;
		}
	);
	for (let n = 0; n < 3; n++) bus.emit('app.ping', { n });
	assert.deepEqual(bus.validate('app.pick', { kind: 'b', tags: [] }), { ok: true, known: true, issues: [] });
	bus.dispose();
});
