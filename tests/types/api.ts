// Type tests of the package's .d.ts, checked by `tsc --noEmit -p tests/types`.
// Every `@ts-expect-error` line must be an error: if a wrong payload ever
// type-checks, the directive itself fails the build.

import { EventBus, createEventBus, MockEventBus, ValidationError, type EventRecord } from 'kaiwa-bus';

declare module 'kaiwa-bus' {
	interface KaiwaEvents {
		'cart.item.added': { sku: string; quantity: number; timestamp: Date };
	}
}

const bus = new EventBus();

bus.emit('auth.user.login', { userId: 'u1', email: 'a@b.c', tier: 'pro', timestamp: new Date() });
// @ts-expect-error userId must be a string
bus.emit('auth.user.login', { userId: 1, email: 'a@b.c', tier: 'pro', timestamp: new Date() });
// @ts-expect-error a required field is missing
bus.emit('auth.user.login', { userId: 'u1', email: 'a@b.c', timestamp: new Date() });
// @ts-expect-error timestamp must be a Date
bus.emit('auth.user.login', { userId: 'u1', email: 'a@b.c', tier: 'pro', timestamp: '2026-01-01' });
// @ts-expect-error a value outside the literal union
bus.emit('conversation.started', { conversationId: 'c', userId: 'u', targetLanguage: 'ja', mode: 'casual', timestamp: new Date() });
// @ts-expect-error an unknown event name
bus.emit('auth.user.logn', { userId: 'u1', timestamp: new Date() });
// @ts-expect-error string[] items
bus.emit('vocabulary.lesson.completed', { userId: 'u', lessonId: 'l', wordsLearned: [1], score: 1, timestamp: new Date() });
bus.emit('audio.recording.started', { sessionId: 's', timestamp: new Date() });

bus.on('auth.user.login', (p, meta) => {
	const email: string = p.email;
	const name: 'auth.user.login' = meta.name;
	const when: Date = meta.timestamp;
	// @ts-expect-error no such field
	p.mode;
	void [email, name, when];
});

bus.on('auth.*', (p, meta) => {
	const user: string = p.userId;
	const name: 'auth.user.login' | 'auth.user.logout' | 'auth.user.registered' | 'auth.subscription.updated' = meta.name;
	void [user, name];
});

bus.on('*', (_p, meta) => {
	const name: string = meta.name;
	void name;
});

bus.on('conversation.started', (p) => {
	const mode: 'traditional' | 'realtime' = p.mode;
	void mode;
});

// @ts-expect-error handlers of an event get its payload type
bus.on('auth.user.logout', (p: { email: string }) => void p);
// @ts-expect-error not a pattern of the map
bus.on('billing.*', () => {});
// @ts-expect-error handler must be a function
bus.on('auth.user.login', 'nope');

const off = bus.once('subscription.renewed', (p) => {
	const next: Date = p.nextBillingDate;
	void next;
});
off();

// Apps extend the map with declaration merging...
bus.emit('cart.item.added', { sku: 'A', quantity: 1, timestamp: new Date() });
// @ts-expect-error ...and get the same checks for their events
bus.emit('cart.item.added', { sku: 'A', quantity: '1', timestamp: new Date() });

// ...or with their own map.
type Shop = { 'shop.order.placed': { orderId: string } };
const shop = new EventBus<Shop>({ mode: 'strict', catalog: false });
shop.emit('shop.order.placed', { orderId: 'o1' });
// @ts-expect-error the catalog is not part of this bus's map
shop.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });

// A loose bus accepts anything.
const loose = new EventBus<Record<string, any>>();
loose.emit('anything.at.all', { whatever: true });
loose.on('anything.*', (p) => void p.whatever);

const history: EventRecord[] = bus.getEventHistory();
const status: 'delivered' | 'failed' | 'rejected' = history[0].status;
// @ts-expect-error durations may be null (an emit that was not timed)
const duration: number = history[0].durationMs;
const stats = bus.getEventPerformanceStats('auth.user.login');
if (stats !== null && stats.averageDuration !== null) {
	const avg: number = stats.averageDuration;
	const timed: number = stats.timedCount;
	void [avg, timed];
}
new EventBus({ timing: 'every' });
// @ts-expect-error timing is 'sampled' or 'every'
new EventBus({ timing: 'never' });
bus.onRecord((record, change) => {
	if (record !== null && change === 'added') void record.timestamp.getTime();
});
bus.registerSchema({ name: 'app.thing.done', version: '1.0.0', description: '', payload: { n: 'number' } });
// @ts-expect-error payload descriptors are strings
bus.registerSchema({ name: 'app.thing.done', version: '1.0.0', description: '', payload: { n: 5 } });

try {
	bus.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
} catch (e) {
	if (e instanceof ValidationError) {
		const path: string = e.issues[0].path;
		void path;
	}
}

const payload: unknown = {};
if (bus.validateEvent('auth.user.logout', payload)) {
	const u: string = payload.userId;
	void u;
}

createEventBus().emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
// @ts-expect-error no such type
createEventBus('kafka');
const mock = new MockEventBus();
mock.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
void [status, duration];
