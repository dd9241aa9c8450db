// The seam for events from elsewhere (issue 10): a transport attaches to a
// bus and hands it events through a link. Here the transport is a real
// BroadcastChannel between two buses, written the way a tab transport
// would be (forward every event with link.on('*'), hand in what arrives);
// the test checks the event arrives validated, with its source, recorded,
// and never echoed back. Runs in Node and in Chromium.

import { EventBus, ValidationError, createEventBus } from '#kaiwa';
import { assert, assertHealthy, quiet, test } from './harness.js';

const at = new Date('2026-11-26T10:00:00Z');
const login = (userId = 'u1') => ({ userId, email: 'a@example.com', tier: 'pro', timestamp: at });

// A minimal tab transport. It does not filter by source: the link's rule
// that it never gets back its own events is what prevents echo.
function broadcast(channel, log) {
	return {
		source: 'tab',
		attach(link) {
			const out = new BroadcastChannel(channel);
			const off = link.on('*', (payload, meta) => {
				log.push(`sent ${meta.name} (${meta.source})`);
				out.postMessage({ name: meta.name, payload, offset: meta.id });
			});
			out.onmessage = ({ data }) => {
				try {
					link.receive(data.name, data.payload, { offset: data.offset });
				} catch (error) {
					log.push(`refused ${data.name}: ${error.name}`);
				}
			};
			return () => {
				off();
				out.close();
			};
		}
	};
}

// Waits until `check()` holds, 10 s at most; fails when it never does.
const until = async (check) => {
	for (const end = Date.now() + 10_000; !check() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
	assert.ok(check(), 'timed out');
};

test('an event handed in through a transport is validated, delivered with its source, recorded, and not echoed', async () => {
	const channel = `kaiwa-seam-${Math.random()}`;
	const logA = [];
	const logB = [];
	const a = new EventBus({ mode: 'development' });
	const b = createEventBus(broadcast(channel, logB));
	const detachA = a.attach(broadcast(channel, logA));
	const seen = [];
	b.on('auth.user.login', (payload, meta) => seen.push({ payload, source: meta.source, offset: meta.offset }));

	a.emit('auth.user.login', login('from-a'));
	await until(() => seen.length === 1);
	assert.equal(seen.length, 1);
	assert.equal(seen[0].payload.userId, 'from-a');
	assert.equal(seen[0].source, 'tab');
	assert.equal(seen[0].offset, a.getEventHistory().at(-1).id);
	assert.equal(b.getEventHistory().at(-1).source, 'tab');
	assert.equal(b.getEventHistory().at(-1).status, 'delivered');
	assert.equal(a.getEventHistory().at(-1).source, undefined, 'a local record has no source');
	// A round trip from B: an echo B posted would reach A before B's own
	// next event (one sender's messages arrive in order). None does.
	b.emit('auth.user.logout', { userId: 'marker', timestamp: at });
	await until(() => a.getEventHistory().length > 1);
	assert.deepEqual(logA, ['sent auth.user.login (local)'], 'A forwards only its own event');
	assert.deepEqual(logB, ['sent auth.user.logout (local)'], 'B never forwarded the event it was handed');
	assert.deepEqual(
		a.getEventHistory().map((r) => `${r.name}:${r.source ?? 'local'}`),
		['auth.user.login:local', 'auth.user.logout:tab'],
		"nothing came back to A before B's own event"
	);
	logB.length = 0;

	// A payload B refuses: recorded as rejected, with its source.
	assert.throws(() => a.emit('auth.user.logout', { userId: 7, timestamp: at }), ValidationError);
	assert.ok(a.getEventHistory().at(-1).status === 'rejected', 'A refuses it too, so nothing is sent');
	const c = new EventBus({ catalog: false });
	c.attach(broadcast(channel, logA));
	quiet(() => c.emit('auth.user.logout', { userId: 7, timestamp: at }));
	await until(() => logB.length > 0);
	assert.deepEqual(logB, ['refused auth.user.logout: ValidationError']);
	const refused = b.getEventHistory().at(-1);
	assert.equal(refused.status, 'rejected');
	assert.equal(refused.source, 'tab');
	assert.equal(refused.issues[0].path, 'userId');

	detachA();
	for (const bus of [a, b]) assertHealthy(bus);
	for (const bus of [a, b, c]) bus.dispose();
});

test('a link hands in events as emit would, and throws once detached', () => {
	const bus = new EventBus();
	let link = null;
	let released = 0;
	const detach = bus.attach({
		source: 'restored',
		attach(l) {
			link = l;
			return () => released++;
		}
	});
	const got = [];
	bus.on('auth.user.login', (_, meta) => got.push(meta.source));
	link.receive('auth.user.login', login());
	assert.throws(() => link.receive('auth.user.login', { userId: 1 }), ValidationError);
	assert.deepEqual(got, ['restored']);
	detach();
	detach();
	assert.equal(released, 1);
	assert.throws(() => link.receive('auth.user.login', login()), /'restored' transport was detached/);
	for (const bad of [null, {}, { source: 'local', attach() {} }, { source: '', attach() {} }, { source: 3, attach() {} }]) {
		assert.throws(() => bus.attach(bad), TypeError);
	}
	assertHealthy(bus);
});
