// The signed-in user's relay token, for the page's getToken(): only ever the
// user of this request's session cookie. 401 when signed out, 503 when the
// demo runs without a relay.
import { error, json } from '@sveltejs/kit';
import { relayAddress, userToken } from '$lib/server/relay.js';

/** @type {import('./$types').RequestHandler} */
export function GET({ locals, setHeaders }) {
	if (!locals.user) error(401, 'not signed in');
	if (!relayAddress()) error(503, 'this demo server runs without a relay');
	setHeaders({ 'cache-control': 'no-store' });
	return json({ userId: locals.user.id, ...userToken(locals.user.id) });
}
