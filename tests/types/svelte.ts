// Type tests of kaiwa-bus/svelte, and of linking defineEvents to the
// default event map by declaration merging (what a SvelteKit app does so
// that useBus() and onEvent() know its events).

import { defineEvents, type EventBus, type EventsOf, type KaiwaEvents } from 'kaiwa-bus';
import { onEvent, provideBus, useBus } from 'kaiwa-bus/svelte';
import { createRelayBus } from 'kaiwa-bus/relay';

const appEvents = defineEvents({
	'todo.item.added': { id: 'string', title: 'string', due: 'Date?', priority: "'low' | 'high'" }
});

declare module 'kaiwa-bus' {
	interface KaiwaEvents extends EventsOf<typeof appEvents> {}
}

const root: EventBus<KaiwaEvents> = provideBus({ events: appEvents, mode: 'strict' });
root.emit('todo.item.added', { id: '1', title: 'Milk', priority: 'low' });
// @ts-expect-error priority is 'low' or 'high'
root.emit('todo.item.added', { id: '1', title: 'Milk', priority: 'urgent' });

const bus = useBus();
bus.emit('todo.item.added', { id: '1', title: 'Milk', priority: 'high', due: new Date() });
// @ts-expect-error due is a Date
bus.emit('todo.item.added', { id: '1', title: 'Milk', priority: 'high', due: 'tomorrow' });
bus.on('auth.user.login', (p) => p.email);

const titles: string[] = [];
const off: () => void = onEvent('todo.item.added', (p) => titles.push(p.title));
onEvent('todo.*', (p, meta) => {
	const due: Date | undefined = p.due;
	const name: 'todo.item.added' = meta.name;
	void [due, name];
});
// @ts-expect-error not a pattern of the map
onEvent('nothing.*', () => {});
// @ts-expect-error the handler's payload is the event's
onEvent('auth.user.logout', (p: { email: string }) => p.email);
off();

// Without the catalog, provideBus is typed with the defined events only.
const own = provideBus({ events: appEvents, catalog: false });
// @ts-expect-error the catalog is not on this bus
own.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });

// A bus made by a function (called in the browser only): provideBus returns what it returns.
const relayed = provideBus(() => createRelayBus({ url: 'ws://127.0.0.1:8787/v1/ws', identity: 'u1', getToken: async () => 'jwt', events: appEvents, mode: 'strict' }));
export const sent: Promise<{ offset: string }> = relayed.emit('todo.item.added', { id: '1', title: 'Milk', priority: 'low' });
// @ts-expect-error priority is 'low' or 'high'
relayed.emit('todo.item.added', { id: '1', title: 'Milk', priority: 'soon' });
