// `kaiwa-bus/relay`: buses whose events leave the page. RelayBus travels
// through kaiwa-relay (relay/, protocol in relay/PROTOCOL.md) to other
// devices and servers; BroadcastBus reaches the other tabs of this origin;
// publish() is for server code that only sends.

export { RelayBus, createRelayBus, reviveDates } from './relay-bus.js';
export { RelayConnection, RelayError, publish } from './relay-connection.js';
export { BroadcastBus, createBroadcastBus } from './broadcast-bus.js';
