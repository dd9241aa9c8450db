// DEMO ONLY: an admin relay token for the remote devtools, to anyone who
// asks. A real app gives one only to its operators (checked on the server).
import { error, json } from '@sveltejs/kit';
import { adminToken, relayAddress } from '$lib/server/relay.js';

/** @type {import('./$types').RequestHandler} */
export function GET({ setHeaders }) {
	if (!relayAddress()) error(503, 'this demo server runs without a relay');
	setHeaders({ 'cache-control': 'no-store' });
	return json(adminToken());
}
