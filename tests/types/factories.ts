// Type tests of the options every bus takes (js/core/bus-options.js): each
// factory takes `events`, `mode`, `historyLimit`, `timing` and `catalog`,
// types its bus with `events`, and a misspelt option is an error.

import { EventBus, createEventBus, defineEvents } from 'kaiwa-bus';
import { createBroadcastBus, createRelayBus } from 'kaiwa-bus/relay';
import { createPersistentBus } from 'kaiwa-bus/store';

const shop = defineEvents({ 'shop.order.placed': { orderId: 'string', at: 'Date' } });
const at = new Date();
const url = 'ws://127.0.0.1:8787/v1/ws';

const relay = createRelayBus({ url, token: null, events: shop, mode: 'strict', historyLimit: 10, timing: 'every' });
export const offset: Promise<{ offset: string }> = relay.emit('shop.order.placed', { orderId: 'o1', at });
relay.emit('auth.user.logout', { userId: 'u1', timestamp: at });
relay.on('shop.order.placed', (order) => order.at.toISOString());
// @ts-expect-error at is a Date
relay.emit('shop.order.placed', { orderId: 'o1', at: 'now' });
const relayOnly = createRelayBus({ url, token: null, events: shop, catalog: false });
// @ts-expect-error with catalog: false the bus has the app's events only
relayOnly.emit('auth.user.logout', { userId: 'u1', timestamp: at });
// @ts-expect-error a misspelt option is an error, not ignored
createRelayBus({ url, token: null, evnts: shop });
// @ts-expect-error mode is 'development' or 'strict'
createRelayBus({ url, token: null, events: shop, mode: 'strictest' });

const tabs = createBroadcastBus({ channel: 'shop', events: shop, mode: 'strict', timing: 'sampled' });
tabs.emit('shop.order.placed', { orderId: 'o1', at });
// @ts-expect-error orderId is a string
tabs.emit('shop.order.placed', { orderId: 1, at });

const stored = createPersistentBus({ name: 'shop', events: shop, mode: 'strict', historyLimit: 50, restore: 10 });
stored.emit('shop.order.placed', { orderId: 'o1', at });
// @ts-expect-error no such event
stored.emit('shop.order.lost', { orderId: 'o1', at });

// A persistent bus over a relay bus: the relay bus takes the bus options, the persistent bus its store's.
const both = createPersistentBus({ name: 'shop', bus: createRelayBus({ url, token: null, events: shop, mode: 'strict' }) });
both.emit('shop.order.placed', { orderId: 'o1', at });
both.on('shop.order.placed', (order) => order.at.getTime());
// @ts-expect-error at is a Date
both.emit('shop.order.placed', { orderId: 'o1', at: 1 });
// @ts-expect-error bus options go to the factory that made the bus given
createPersistentBus({ bus: relay, mode: 'strict' });

const memory = createEventBus('memory', { events: shop, timing: 'every' });
memory.emit('shop.order.placed', { orderId: 'o1', at });
const plain = new EventBus({ events: shop, mode: 'strict' });
void plain;
