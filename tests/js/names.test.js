// Event names (issue 19 item 17, issue 25 item 13): a name with a control or
// invisible character is refused, so nothing can look like another event in
// a list; and a full name table forgets a name nothing refers to instead of
// refusing, and never refuses a name with a schema. Runs in Node and in
// Chromium.

import { EventBus, MAX_EMIT_DEPTH } from '#kaiwa';
import { MAX_NAMES } from '../../pkg/core/contract.js';
import { readHistoryDocument } from '../../pkg/history/index.js';
import { assert, assertHealthy, quiet, test } from './harness.js';

const at = new Date('2026-11-26T10:00:00Z');
const login = { userId: 'u1', email: 'u1@example.com', tier: 'pro', timestamp: at };

// Each renders like auth.user.login (or auth.user.logout) in a list.
const LOOK_ALIKES = [
	['auth.user\u200B.login', 'U+200B'],
	['auth.user.login\u200D', 'U+200D'],
	['auth.user.\u202Enigol\u202C', 'U+202E'],
	['\uFEFFauth.user.login', 'U+FEFF'],
	['auth.user.log\u2060out', 'U+2060'],
	['auth.user.login\u0007', 'U+7'],
	['auth.user.login\uFE0F', 'U+FE0F']
];

test('names: a name with a control or invisible character is refused by emit, on and validate, and not recorded', () => {
	const bus = new EventBus();
	const heard = [];
	bus.on('*', (_, meta) => heard.push(meta.name));
	bus.emit('auth.user.login', login);
	quiet(() => bus.emit('café.commande passée', {}));
	assert.deepEqual(heard, ['auth.user.login', 'café.commande passée'], 'plain names, spaces and accents go through');
	for (const [name, code] of LOOK_ALIKES) {
		assert.throws(
			() => bus.emit(name, login),
			(e) => e instanceof TypeError && e.message.includes(code) && e.message.includes('invisible')
		);
		assert.throws(() => bus.on(name, () => {}), TypeError);
		assert.throws(() => bus.on(`${name}.*`, () => {}), TypeError);
	}
	assert.deepEqual(heard, ['auth.user.login', 'café.commande passée'], 'no look-alike was delivered');
	assert.equal(bus.getEventHistory().length, 2, 'a refused name is a bad call: nothing is recorded');
	assertHealthy(bus);
});

test('names: the message names the invisible character', () => {
	const bus = new EventBus();
	assert.throws(() => bus.emit('auth.user\u200B.login', login), {
		message: 'kaiwa-bus: "auth.user\u200B.login": event names may not contain control or invisible characters (it has U+200B)'
	});
});

test('names: a history import refuses them too', () => {
	const doc = (name) =>
		JSON.stringify({
			format: 'kaiwa-bus/history',
			version: 1,
			records: [
				{ id: 1, name, payload: {}, timestamp: at.toISOString(), status: 'delivered', handlerCount: 0, errors: [], issues: [] }
			]
		});
	assert.equal(readHistoryDocument(doc('auth.user.login'))[0].name, 'auth.user.login');
	for (const [name, code] of LOOK_ALIKES) {
		// The import pads to four digits (U+0007); the bus does not (U+7), to save bytes in the .wasm.
		assert.throws(() => readHistoryDocument(doc(name)), {
			message: new RegExp(`record 1: "name" contains ${code.replace('U+', 'U\\+0*')}`)
		});
	}
});

test(`names: with ${MAX_NAMES} names kept, a name with a schema is accepted and a new one takes the place of a name nothing refers to`, () => {
	const bus = new EventBus({ historyLimit: 100 });
	const heard = [];
	// Subscribed by name before any emit: app.item.0 is pinned from its first
	// emit, and app.other.a will be when it comes.
	bus.on('app.item.0', (_, meta) => heard.push(meta.name));
	bus.on('app.other.a', (_, meta) => heard.push(meta.name));
	quiet(() => {
		for (let i = 0; i < MAX_NAMES; i++) bus.emit(`app.item.${i}`, { i });
	});
	assert.deepEqual(heard, ['app.item.0']);
	// The catalog's own event: it has a schema, so it is always accepted.
	let loggedOut = 0;
	bus.on('auth.user.logout', () => loggedOut++);
	bus.emit('auth.user.logout', { userId: 'u1', timestamp: at });
	assert.equal(loggedOut, 1);
	// A new name takes the id of app.item.1 (no schema, no subscription by
	// name, not in the last 100 records); its handler, subscribed before the
	// id was reused, is called.
	quiet(() => bus.emit('app.other.a', { i: 'a' }));
	assert.deepEqual(heard, ['app.item.0', 'app.other.a']);
	const stats = bus.getPerformanceStats();
	assert.equal(stats['app.item.1'], undefined, 'the forgotten name went with its statistics');
	assert.equal(stats['app.other.a'].count, 1);
	assert.equal(stats[`app.item.${MAX_NAMES - 1}`].count, 1, 'a name in the history is kept');
	// The forgotten name is a new name again: recorded under its own name,
	// never under the one that took its id, and app.other.a's handler is not called.
	quiet(() => bus.emit('app.item.1', { i: 1 }));
	assert.deepEqual(heard, ['app.item.0', 'app.other.a']);
	const last = bus.getEventHistory().at(-1);
	assert.equal(last.name, 'app.item.1');
	assert.equal(last.payload.i, 1);
	assert.equal(bus.getEventsByName('app.other.a').length, 1);
	bus.emit('app.item.0', {});
	assert.deepEqual(heard, ['app.item.0', 'app.other.a', 'app.item.0'], 'a name subscribed to is never forgotten');
	assertHealthy(bus);
});

test('names: when every name is still in the history, a new one is refused with an error that says what to do', () => {
	const bus = new EventBus({ historyLimit: MAX_NAMES + MAX_EMIT_DEPTH });
	quiet(() => {
		for (let i = 0; i < MAX_NAMES; i++) bus.emit(`app.item.${i}`, {});
	});
	assert.throws(() => bus.emit('app.other.a', {}), {
		message: /without a schema, each in the history or subscribed to; register schemas, or clear the history/
	});
	bus.emit('auth.user.logout', { userId: 'u1', timestamp: at });
	bus.clearHistory();
	quiet(() => bus.emit('app.other.a', {}));
	assert.equal(bus.getEventHistory().at(-1).name, 'app.other.a');
	bus.dispose();
});
