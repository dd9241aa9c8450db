// Type tests for kaiwa-bus/store: a PersistentEventBus is typed like the bus it wraps.

import { EventBus } from 'kaiwa-bus';
import { MemoryEventStore, PersistentEventBus, createPersistentBus } from 'kaiwa-bus/store';

const at = new Date();
const persistent = createPersistentBus({ name: 'app', durability: 'store-first', retain: { maxEvents: 1000 } });
persistent.emit('auth.user.logout', { userId: 'u1', timestamp: at });
// @ts-expect-error userId must be a string
persistent.emit('auth.user.logout', { userId: 1, timestamp: at });
// @ts-expect-error durability is 'batched' or 'store-first'
createPersistentBus({ durability: 'eventually' });

const wrapped = new PersistentEventBus(new EventBus(), new MemoryEventStore());
wrapped.on('auth.user.login', (user) => {
	void user.email;
});
wrapped.on('auth.user.login', (user) => {
	// @ts-expect-error no such field on the payload
	void user.nope;
});
export const flushed: Promise<void> = wrapped.flush();
