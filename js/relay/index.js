// `kaiwa-bus/relay`: buses whose events leave the page. RelayBus travels
// through kaiwa-relay (relay/, protocol in relay/PROTOCOL.md) to other
// devices and servers; BroadcastBus reaches the other tabs of this origin;
// publish() is for server code that only sends. Importing it adds
// 'broadcast' and 'redis' to createEventBus, as the seed's factory.

import { addBusType } from '../core/bus-types.js';
import { createBroadcastBus } from './broadcast-bus.js';
import { createRelayBus } from './bus.js';

export { RelayBus, createRelayBus, reviveDates } from './bus.js';
export { RelayError, publish } from './connection.js';
export { BroadcastBus, createBroadcastBus } from './broadcast-bus.js';

addBusType('broadcast', createBroadcastBus);
addBusType('redis', createRelayBus);
