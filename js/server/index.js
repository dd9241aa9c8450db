// `kaiwa-bus/server`: what an app server needs to talk to kaiwa-relay, in
// plain JS on Web Crypto and fetch, so it runs wherever server code runs
// (Node 18+, Deno, Bun, Cloudflare Workers, Vercel Edge) and loads no
// WebAssembly.
//
//   relayToken({ secret, sub, publish, subscribe, admin, groups, ttl })
//       signs the HS256 JWT the relay checks (relay/PROTOCOL.md, Tokens):
//       a token endpoint returns one per signed-in user.
//   publish({ url, secret | token }, events)
//       posts events to the relay's POST /v1/events (webhooks, form
//       actions); with `secret`, as an admin token valid for a minute.

import { RelayError, publish as post } from '../relay/connection.js';

const encoder = new TextEncoder();
const DEFAULT_TTL_SECONDS = 600;
const SERVER_TTL_SECONDS = 60;

/**
 * The HS256 JWT the relay expects: `sub` (the user id), `exp` (now + `ttl`
 * seconds, default 600), and when given `publish` and `subscribe` (patterns:
 * the relay's defaults are none and ['*']), `admin`, and `groups` (the
 * groups whose `audience: 'group'` events the user gets and may publish).
 * @param {{ secret: string | undefined, sub: string, publish?: string[], subscribe?: string[], admin?: boolean, groups?: string[], ttl?: number }} options
 * @returns {Promise<string>}
 */
export async function relayToken(options) {
	if (options === null || typeof options !== 'object')
		throw new TypeError('kaiwa-bus/server: relayToken(options): expected { secret, sub, publish, subscribe, admin, groups, ttl }');
	const { secret, sub, publish, subscribe, admin, groups, ttl = DEFAULT_TTL_SECONDS } = options;
	const key = await signingKey(secret, 'relayToken');
	if (typeof sub !== 'string' || sub === '')
		throw new TypeError(`kaiwa-bus/server: relayToken(): sub must be the user's id, a non-empty string, got ${shown(sub)}`);
	if (typeof ttl !== 'number' || !(ttl > 0) || !Number.isFinite(ttl))
		throw new RangeError(`kaiwa-bus/server: relayToken(): ttl must be a number of seconds above 0, got ${shown(ttl)}`);
	if (admin !== undefined && typeof admin !== 'boolean')
		throw new TypeError(`kaiwa-bus/server: relayToken(): admin must be a boolean, got ${shown(admin)}`);
	const now = Math.floor(Date.now() / 1000);
	const claims = { sub, iat: now, exp: now + Math.ceil(ttl) };
	if (publish !== undefined) claims.publish = patterns('publish', publish);
	if (subscribe !== undefined) claims.subscribe = patterns('subscribe', subscribe);
	if (admin !== undefined) claims.admin = admin;
	if (groups !== undefined) {
		if (!Array.isArray(groups) || !groups.every((group) => typeof group === 'string' && group !== '')) {
			throw new TypeError(
				`kaiwa-bus/server: relayToken(): groups must be an array of group ids (non-empty strings), got ${shown(groups)}`
			);
		}
		claims.groups = [...groups];
	}
	const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
	const signature = await crypto.subtle.sign('HMAC', key, encoder.encode(unsigned));
	return `${unsigned}.${base64url(new Uint8Array(signature))}`;
}

/**
 * Publishes `events` (`[{ name, payload, ref? }]`, Dates as Dates) through
 * the relay at `url` (its http(s):// address, or the ws(s)://…/v1/ws one the
 * browser uses), with `token`, or with `secret` as an admin token (so an
 * event whose payload names a `userId` reaches that user). Resolves with
 * one `{ offset }` per event, in order; rejects with a RelayError if the
 * relay cannot be reached or refuses any of them (`error.results` has every
 * event's answer: the others were stored).
 * @param {{ url: string | undefined, secret?: string, token?: string }} relay
 * @param {Array<{ name: string, payload: unknown, ref?: string }>} events
 */
export async function publish(relay, events) {
	if (relay === null || typeof relay !== 'object')
		throw new TypeError('kaiwa-bus/server: publish(relay, events): relay must be { url, secret } or { url, token }');
	const { url, secret, token } = relay;
	if ((secret === undefined) === (token === undefined)) {
		throw new TypeError(
			"kaiwa-bus/server: publish(): give the relay either secret (the relay's KAIWA_RELAY_SECRET) or token (one relayToken() signed), not both, not neither"
		);
	}
	if (!Array.isArray(events))
		throw new TypeError(`kaiwa-bus/server: publish(relay, events): events must be an array of { name, payload }, got ${shown(events)}`);
	const origin = httpOrigin(url);
	const bearer =
		token ?? (await relayToken({ secret, sub: 'server', admin: true, publish: ['*'], subscribe: [], ttl: SERVER_TTL_SECONDS }));
	let results;
	try {
		results = await post(origin, bearer, events);
	} catch (error) {
		if (error instanceof RelayError) throw error;
		throw new RelayError(
			'unavailable',
			`kaiwa-bus/server: publish(): could not reach the relay at ${origin} (${error?.cause?.message ?? error?.message ?? error})`
		);
	}
	const refused = results.flatMap((result, i) =>
		result.refused ? [`${events[i].name} (${result.refused.kind}): ${result.refused.message}`] : []
	);
	if (refused.length === 0) return results;
	const first = results.find((result) => result.refused).refused;
	const message = `kaiwa-bus/server: the relay refused ${refused.length} of ${results.length} events: ${refused.join('; ')}`;
	throw Object.assign(new RelayError(first.kind, message, first.issues ?? []), { results });
}

export { RelayError };

// The relay's http(s) origin, from its http(s) address or its ws(s)://…/v1/ws one.
function httpOrigin(url) {
	let parsed = null;
	try {
		parsed = new URL(url);
	} catch {
		// Said below.
	}
	if (parsed === null || !/^(http|ws)s?:$/.test(parsed.protocol)) {
		throw new TypeError(
			`kaiwa-bus/server: publish(): url must be the relay's address (http://host:port, or the ws://host:port/v1/ws the browser uses), got ${shown(url)}`
		);
	}
	return `${parsed.protocol.replace('ws', 'http')}//${parsed.host}`;
}

// One imported key, for the secret seen last (a server uses one).
let cached = { secret: null, key: null };

async function signingKey(secret, call) {
	if (typeof secret !== 'string' || secret === '') {
		throw new TypeError(
			`kaiwa-bus/server: ${call}(): secret is ${secret === '' ? 'empty' : 'missing'}: pass the relay's KAIWA_RELAY_SECRET, and set it in this server's environment`
		);
	}
	if (cached.secret !== secret) {
		const key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
		cached = { secret, key };
	}
	return cached.key;
}

// Patterns as the relay reads them: '*', 'prefix.*' or an event name.
function patterns(claim, list) {
	if (!Array.isArray(list))
		throw new TypeError(
			`kaiwa-bus/server: relayToken(): ${claim} must be an array of patterns ('*', 'cart.*', 'cart.item.added'), got ${shown(list)}`
		);
	for (const pattern of list) {
		const body = typeof pattern === 'string' && pattern !== '*' ? pattern.replace(/\.\*$/, '') : '';
		if (pattern !== '*' && (body === '' || body.includes('*'))) {
			throw new TypeError(
				`kaiwa-bus/server: relayToken(): ${claim}: ${shown(pattern)} is not a pattern ('*', 'cart.*' or an event name)`
			);
		}
	}
	return [...list];
}

function part(value) {
	return base64url(encoder.encode(JSON.stringify(value)));
}

function base64url(bytes) {
	let binary = '';
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function shown(value) {
	return typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
