// `kaiwa-bus/relay`: buses that travel through kaiwa-relay (relay/), and a
// helper for server code that only publishes. The protocol is
// relay/PROTOCOL.md.

export { RelayBus, createRelayBus, reviveDates } from './relay-bus.js';
export { RelayConnection, RelayError, publish } from './relay-connection.js';
