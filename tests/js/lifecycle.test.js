// The bus's lifecycle edges (issue 25 items 7 and 8): a handler that calls
// dispose(), and an async handler whose promise rejects after dispose().
// Runs in Node and in Chromium.

import { EventBus } from '#kaiwa';
import { assert, captureConsole, settle, test, unhandledRejections } from './harness.js';

const at = new Date('2026-11-26T10:00:00Z');
const logout = { userId: 'u1', timestamp: at };

test('lifecycle: an async handler that rejects is recorded while the bus lives, and after dispose() raises no unhandled rejection', async () => {
	const bus = new EventBus();
	let fail;
	bus.on('auth.user.logout', () => new Promise((_, reject) => (fail = reject)));
	let calls;
	const unhandled = await unhandledRejections(async () => {
		// The path works: a rejection while the bus lives fails the record.
		calls = await captureConsole(async () => {
			bus.emit('auth.user.logout', logout);
			fail(new Error('late but alive'));
			await settle();
		});
		assert.equal(bus.getEventHistory().at(-1).status, 'failed');
		assert.deepEqual(bus.getEventHistory().at(-1).errors, ['Error: late but alive']);
		// Then one that rejects after the bus is gone.
		bus.emit('auth.user.logout', logout);
		bus.dispose();
		calls = await captureConsole(async () => {
			fail(new Error('after dispose'));
			await settle();
		});
	});
	assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection');
	assert.equal(calls.error.length, 1, 'the handler error is still reported');
	assert.match(String(calls.error[0][0]), /Event handler error for auth\.user\.logout/);
	assert.equal(calls.error[0][1].message, 'after dispose');
});

test('lifecycle: a handler that calls dispose() lets its emit return normally, timed or not', () => {
	for (const timing of ['sampled', 'every']) {
		const bus = new EventBus({ timing });
		const ran = [];
		bus.on('auth.user.logout', () => {
			ran.push('first');
			bus.dispose();
		});
		bus.on('auth.user.logout', () => ran.push('second'));
		bus.emit('auth.user.logout', logout);
		assert.deepEqual(ran, ['first'], `${timing}: the handlers after dispose() are gone with the bus`);
		assert.throws(() => bus.emit('auth.user.logout', logout), /this EventBus was disposed/);
	}
});

test('lifecycle: a handler that calls dispose() and throws: the emit returns, and the error is reported as usual', async () => {
	const bus = new EventBus({ timing: 'every' });
	const boom = new Error('boom after dispose');
	bus.on('auth.user.logout', () => {
		bus.dispose();
		throw boom;
	});
	const calls = await captureConsole(() => bus.emit('auth.user.logout', logout));
	assert.equal(calls.error.length, 1);
	assert.match(String(calls.error[0][0]), /Event handler error for auth\.user\.logout/);
	assert.equal(calls.error[0][1], boom, "the handler's own error, not 'disposed'");
	// Nested: a handler deeper down disposes; every emit up the chain returns.
	const outer = new EventBus();
	outer.on('auth.user.login', () => outer.emit('auth.user.logout', logout));
	outer.on('auth.user.logout', () => outer.dispose());
	outer.emit('auth.user.login', { userId: 'u1', email: 'u1@example.com', tier: 'pro', timestamp: at });
	assert.throws(() => outer.getEventHistory(), /disposed/);
});
