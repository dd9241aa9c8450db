// BroadcastBus (kaiwa-bus/relay): events across tabs over a BroadcastChannel.
// Two buses on one channel stand for two tabs (a channel delivers to every
// other object of its name, in this page or another); the e2e suite uses
// real tabs. Runs in Node and in Chromium.

import { ValidationError, createEventBus } from '#kaiwa';
import { BroadcastBus, createBroadcastBus } from '#kaiwa-relay';
import { assert, captureConsole, test } from './harness.js';

let channels = 0;
const channel = () => `kaiwa-test-${Date.now()}-${++channels}`;
const at = new Date('2026-11-30T10:00:00Z');
const login = (userId) => ({ userId, email: `${userId}@example.com`, tier: 'pro', timestamp: at });
// Resolves once `check()` holds (messages arrive in a later task; in
// Chromium, after the heavy tests before this file, over a second later);
// 10 s at most, so a loaded machine is not a failure.
async function until(check) {
	for (const end = Date.now() + 10_000; !check() && Date.now() < end;) await new Promise((r) => setTimeout(r, 5));
	assert.ok(check(), 'timed out');
}

// Emits a marker on `from` and waits until `to` has it: one sender's
// messages arrive in order, so whatever `from` posted before has arrived too.
let markers = 0;
async function roundTrip(from, to) {
	const userId = `marker-${++markers}`;
	let arrived = false;
	const off = to.on('auth.user.logout', (p) => p.userId === userId && (arrived = true));
	from.emit('auth.user.logout', { userId, timestamp: at });
	await until(() => arrived);
	off();
}

test('broadcast: an event emitted in one tab reaches the other with its Date, once, and is not sent back', async () => {
	const name = channel();
	const [a, b] = [createBroadcastBus({ channel: name }), createBroadcastBus({ channel: name })];
	const seen = { a: [], b: [] };
	const sources = { a: [], b: [] };
	a.on('auth.user.login', (p, meta) => (seen.a.push(p), sources.a.push(meta.source)));
	b.on('auth.user.login', (p, meta) => (seen.b.push(p), sources.b.push(meta.source)));
	a.emit('auth.user.login', login('u1'));
	assert.equal(seen.a.length, 1, 'dispatched in its own tab at once');
	await until(() => seen.b.length === 1);
	assert.ok(seen.b[0].timestamp instanceof Date);
	assert.equal(seen.b[0].timestamp.getTime(), at.getTime());
	assert.equal(b.stats.received, 1);
	assert.equal(b.getEventHistory().at(-1).source, 'tab', 'recorded with its source');
	assert.equal(a.getEventHistory().at(-1).source, undefined, 'a local record keeps the v1 shape');
	// A round trip each way: what either tab posted before its marker has arrived with it.
	await roundTrip(b, a);
	await roundTrip(a, b);
	assert.equal(seen.a.length, 1, 'not echoed back');
	assert.equal(seen.b.length, 1, 'not passed on again');
	assert.deepEqual(sources, { a: ['local'], b: ['tab'] }, 'meta.source says where it came from');
	a.close();
	b.close();
});

test('broadcast: an invalid payload is refused in its own tab and never posted', async () => {
	const name = channel();
	const [a, b] = [createBroadcastBus({ channel: name }), createBroadcastBus({ channel: name })];
	let got = 0;
	b.on('*', () => got++);
	assert.throws(() => a.emit('auth.user.login', { userId: 1 }), ValidationError);
	// A valid emit after it arrives alone: the refused one was never posted.
	await roundTrip(a, b);
	assert.equal(got, 1, 'only the marker arrived');
	a.close();
	b.close();
});

test('broadcast: a payload that cannot be cloned is delivered here and reported clearly, not thrown', async () => {
	const name = channel();
	const a = createBroadcastBus({ channel: name, catalog: false });
	let delivered = 0;
	a.on('app.fn.sent', () => delivered++);
	const calls = await captureConsole(async () => {
		a.emit('app.fn.sent', { run() {} });
		await Promise.resolve(); // posted at the end of the task's synchronous part
	});
	assert.equal(delivered, 1);
	const warnings = calls.warn.map((args) => args.join(' '));
	assert.ok(
		warnings.some((w) => w.includes('cannot be sent to the other tabs') && w.includes('DataCloneError')),
		warnings.join('\n')
	);
	a.close();
});

test('broadcast: hostile messages on the channel (wrong shape, invalid payload, forged sender) are refused and break nothing', async () => {
	const name = channel();
	const b = createBroadcastBus({ channel: name });
	const seen = [];
	b.on('auth.user.login', (p) => seen.push(p.userId));
	const hostile = new BroadcastChannel(name);
	const calls = await captureConsole(async () => {
		hostile.postMessage('hello');
		hostile.postMessage({ v: 1, kind: 'events', from: 'evil', events: [{ name: 'auth.user.login' }] });
		hostile.postMessage({ v: 1, kind: 'events', from: 'evil', events: [{ name: 'auth.user.login', payload: { userId: 7 } }] });
		hostile.postMessage({ v: 1, kind: 'events', from: b.tab, events: [{ name: 'auth.user.login', payload: login('forged-own') }] });
		hostile.postMessage({ v: 2, kind: 'events', from: 'future', events: [{ name: 'auth.user.login', payload: login('future') }] });
		hostile.postMessage({ v: 1, kind: 'events', from: 'other-tab', events: [{ name: 'auth.user.login', payload: login('ok') }] });
		await until(() => seen.length === 1 && b.stats.refused === 5);
	});
	assert.deepEqual(seen, ['ok'], 'only the valid event from another tab is dispatched');
	const refused = b.getEventHistory().find((r) => r.status === 'rejected');
	assert.equal(refused?.source, 'tab', 'the invalid payload from another tab is recorded as rejected, with its source');
	assert.equal(calls.warn.length, 5);
	b.emit('auth.user.login', login('after'));
	assert.deepEqual(seen, ['ok', 'after'], 'the bus still works');
	hostile.close();
	b.close();
});

test("broadcast: createEventBus('broadcast', options), the seed's factory, once kaiwa-bus/relay is imported", async () => {
	const name = channel();
	const [a, b] = [createEventBus('broadcast', { channel: name }), createEventBus('broadcast', { channel: name })];
	assert.ok(a instanceof BroadcastBus);
	let got = null;
	b.on('auth.user.login', (p, meta) => (got = meta.source));
	a.emit('auth.user.login', login('u1'));
	await until(() => got !== null);
	assert.equal(got, 'tab');
	a.close();
	b.close();
});
