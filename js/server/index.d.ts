// Types of `kaiwa-bus/server`: tokens for kaiwa-relay and publishing from server code (plain JS, no WebAssembly).

import type { KaiwaEvents } from '../core/events.js';
import type { EmittedPayload } from '../index.js';

export { RelayError } from '../relay/index.js';

export interface RelayTokenOptions {
	/** The relay's KAIWA_RELAY_SECRET (`env.KAIWA_RELAY_SECRET`: missing or empty is an Error that says so). */
	secret: string | undefined;
	/** The user's id: the relay delivers the user's events to every connection with this `sub`. */
	sub: string;
	/** Patterns this token may publish ('cart.*'); default none. */
	publish?: string[];
	/** Patterns this token may subscribe to; default ['*'] (still only this user's events, and those for everyone). */
	subscribe?: string[];
	/** Sees every user's events and may publish for any user. */
	admin?: boolean;
	/** The groups whose `audience: 'group'` events (by their payload's `groupId`) this user receives and may publish. */
	groups?: string[];
	/** Seconds until it expires; default 600. The relay bus's getToken is called again before then. */
	ttl?: number;
}

/** Signs the HS256 JWT kaiwa-relay expects (Web Crypto): `{ sub, iat, exp }` plus the claims given. */
export declare function relayToken(options: RelayTokenOptions): Promise<string>;

/** One event to publish: a name of the event map and its payload (Dates as Dates), and a `ref` that makes a retry safe. */
export type ServerEvent<E extends object = KaiwaEvents> = {
	[N in keyof E & string]: { name: N; payload: EmittedPayload<E[N]>; ref?: string };
}[keyof E & string];

/** Where to publish: the relay's address (http(s)://, or the ws(s)://…/v1/ws one), and a secret or a token. */
export type RelayTarget = { url: string | undefined } & ({ secret: string | undefined; token?: undefined } | { token: string; secret?: undefined });

/**
 * Posts events to the relay's POST /v1/events. With `secret`, as an admin token valid for a minute (an event
 * whose payload has a `userId` reaches that user). Resolves with one `{ offset }` per event; rejects with a
 * RelayError if the relay cannot be reached or refuses any (`results` then has every event's answer).
 */
export declare function publish<E extends object = KaiwaEvents>(relay: RelayTarget, events: ServerEvent<Given<E>>[]): Promise<Array<{ offset: string }>>;

/** `E` as given (or its default), never inferred from the events: else any event list would type-check. */
type Given<E> = [E][E extends unknown ? 0 : never];
