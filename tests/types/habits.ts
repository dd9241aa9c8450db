// Type tests of everyday habits (issue 11): handlers that return things,
// defineEvents, extra fields, and MockEventBus where a feature takes a bus.
// Every `@ts-expect-error` line must be an error.

import init, { EventBus, MockEventBus, createEventBus, defineEvents, type Bus, type EventsOf, type KaiwaEvents } from 'kaiwa-bus';

const bus = new EventBus();

// Expression-bodied handlers may return anything.
const emails: string[] = [];
bus.on('auth.user.login', (p) => p.email);
bus.on('auth.user.login', (p) => emails.push(p.email));
bus.once('auth.user.logout', async (p) => p.userId);
bus.on('auth.*', (p) => p.userId.length);

// Extra fields are allowed, in the types as at run time; declared ones are still checked.
bus.emit('auth.user.logout', { userId: 'u', timestamp: new Date(), source: 'menu' });
// @ts-expect-error a declared field keeps its type
bus.emit('auth.user.logout', { userId: 1, timestamp: new Date(), source: 'menu' });
// @ts-expect-error a required field is still required
bus.emit('auth.user.logout', { timestamp: new Date(), source: 'menu' });

// defineEvents: the descriptor strings give the types.
const cart = defineEvents({
	'basket.item.added': { itemId: 'string', qty: 'number', at: 'Date', note: 'string?', size: "'s' | 'm' | 'l'", tags: 'string[]' },
	'basket.checkout.started': { version: '2.0.0', description: 'Checkout began', payload: { cartId: 'string', express: 'boolean?' } }
});
const shop = createEventBus('memory', { mode: 'strict', events: cart });
shop.emit('basket.item.added', { itemId: 'i', qty: 1, at: new Date(), size: 'm', tags: [] });
shop.emit('basket.item.added', { itemId: 'i', qty: 1, at: new Date(), size: 'm', tags: ['x'], note: 'gift' });
shop.emit('basket.checkout.started', { cartId: 'c' });
shop.emit('basket.checkout.started', { cartId: 'c', express: true });
// @ts-expect-error qty is a number
shop.emit('basket.item.added', { itemId: 'i', qty: '1', at: new Date(), size: 'm', tags: [] });
// @ts-expect-error at is a Date
shop.emit('basket.item.added', { itemId: 'i', qty: 1, at: '2026-01-01', size: 'm', tags: [] });
// @ts-expect-error size is one of the literals
shop.emit('basket.item.added', { itemId: 'i', qty: 1, at: new Date(), size: 'xl', tags: [] });
// @ts-expect-error itemId is required (only 'string?' fields are optional)
shop.emit('basket.item.added', { qty: 1, at: new Date(), size: 'm', tags: [] });
// @ts-expect-error note, when given, is a string
shop.emit('basket.item.added', { itemId: 'i', qty: 1, at: new Date(), size: 'm', tags: [], note: 5 });
// @ts-expect-error the long form's payload is checked too
shop.emit('basket.checkout.started', { cartId: 7 });
// @ts-expect-error not a defined event
shop.emit('basket.item.removed', { itemId: 'i' });
// The catalog is still on this bus.
shop.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
shop.on('basket.item.added', (p) => {
	const size: 's' | 'm' | 'l' = p.size;
	const at: Date = p.at;
	const note: string | undefined = p.note;
	// @ts-expect-error an optional field may be undefined
	const sure: string = p.note;
	void [size, at, note, sure];
});
shop.on('basket.*', (_p, meta) => {
	const name: 'basket.item.added' | 'basket.checkout.started' = meta.name;
	void name;
});

// Without the catalog, only the defined events.
const only = createEventBus('memory', { catalog: false, events: cart });
only.emit('basket.checkout.started', { cartId: 'c' });
// @ts-expect-error the catalog is not on this bus
only.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });

// EventBus<Map> and defineEvents compose.
type CartEvents = EventsOf<typeof cart>;
const typed: EventBus<KaiwaEvents & CartEvents> = shop;
typed.emit('basket.checkout.started', { cartId: 'c' });
const cartOnly: EventBus<CartEvents> = only;
void cartOnly;

// A feature takes a Bus: a real bus or a mock.
function checkout(b: Bus<KaiwaEvents & CartEvents>) {
	b.emit('basket.checkout.started', { cartId: 'c' });
	return b.on('basket.item.added', (p) => p.qty);
}
checkout(shop);
checkout(new MockEventBus<KaiwaEvents & CartEvents>({ deliver: true }));
function signIn(b: Bus) {
	b.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
}
signIn(new MockEventBus());
signIn(bus);
// @ts-expect-error a bus of other events is not a Bus of the catalog
signIn(only);

// init is the default export.
const ready: Promise<void> = init();
void ready;
