// Generated from relay/src/protocol.rs by `make types` (relay/src/contract.rs): do not
// edit. The protocol facts the relay client shares with kaiwa-relay (relay/PROTOCOL.md).

export const PROTOCOL = 2;

// Close codes, by name.
export const CLOSE = Object.freeze({
	AUTH: 4001,
	FORBIDDEN: 4003,
	LAGGING: 4008,
	NO_PONG: 4009,
	MALFORMED: 4400,
	GOING_AWAY: 1001,
	TOO_BIG: 1009,
	TRY_LATER: 1013,
});

// The frames a client sends, by type.
export const CLIENT_FRAME = Object.freeze({
	HELLO: 'hello',
	PUBLISH: 'publish',
	SUBSCRIBE: 'subscribe',
	UNSUBSCRIBE: 'unsubscribe',
	AUTH: 'auth',
	PING: 'ping',
});

// The frames the relay sends, by type.
export const RELAY_FRAME = Object.freeze({
	WELCOME: 'welcome',
	EVENT: 'event',
	ACK: 'ack',
	REFUSED: 'refused',
	PONG: 'pong',
});

// Why the relay refused a publish (a `refused` frame's kind).
export const REFUSAL = Object.freeze({
	VALIDATION: 'validation',
	UNKNOWN: 'unknown',
	FORBIDDEN: 'forbidden',
	TOO_LARGE: 'too-large',
	RATE: 'rate',
	UNAVAILABLE: 'unavailable',
	MALFORMED: 'malformed',
	STALE: 'stale',
});
