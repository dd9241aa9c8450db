// The demo server's side of the relay: where it is, and the tokens it signs.
// `make demo` (scripts/demo.mjs) starts kaiwa-relay with a secret made at
// start and gives this server the same secret and the relay's address in its
// environment: KAIWA_RELAY_SECRET and KAIWA_RELAY_URL (http://127.0.0.1:PORT).
// Without them (`npm run dev` alone) the demo runs on a local bus only.
//
// Tokens are HS256 JWTs (relay/PROTOCOL.md, Tokens) signed with node:crypto:
// a short-lived one per signed-in user, one for the payment webhook (it may
// publish subscription.renewed for one user and nothing else), and an admin
// one for /devtools (demo only: any visitor of /devtools gets it).

import { createHmac } from 'node:crypto';
import { env } from '$env/dynamic/private';

/** How long a token lives; the page's getToken() gets a new one before it expires. */
export const TOKEN_SECONDS = 10 * 60;

/** The relay's addresses, or null when this server was started without one. */
export function relayAddress() {
	const http = env.KAIWA_RELAY_URL;
	if (!http || !env.KAIWA_RELAY_SECRET) return null;
	return { http, ws: `${http.replace(/^http/, 'ws')}/v1/ws` };
}

/** An HS256 JWT with `claims`, expiring in `seconds`. */
export function signToken(claims, seconds = TOKEN_SECONDS) {
	const secret = env.KAIWA_RELAY_SECRET;
	if (!secret) throw new Error('demo: KAIWA_RELAY_SECRET is not set (run the demo with `make demo`)');
	const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
	const exp = Math.floor(Date.now() / 1000) + seconds;
	const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, exp })}`;
	return { token: `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`, exp };
}

/**
 * A user's token: publishes as that user (the relay refuses another userId);
 * receives that user's events and the public ones (audience 'all'): events
 * are private to their user by default (relay/PROTOCOL.md, "Who sees what").
 */
export function userToken(userId) {
	return signToken({ sub: userId, publish: ['*'], subscribe: ['*'] });
}

/** The payment webhook's token: subscription.renewed for `userId`, nothing to receive; a minute is plenty. */
export function webhookToken(userId) {
	return signToken({ sub: userId, publish: ['subscription.renewed'], subscribe: [] }, 60);
}

/** DEMO ONLY: an admin token (every user's events) for whoever opens /devtools. A real app checks who asks. */
export function adminToken() {
	return signToken({ sub: 'devtools', admin: true, publish: [], subscribe: ['*'] });
}
