import { relayAddress } from '$lib/server/relay.js';

/** @type {import('./$types').LayoutServerLoad} */
export function load({ locals }) {
	// The session's user (the page signs in again as them), and where the relay is (null: a local bus only).
	return { user: locals.user, relay: relayAddress()?.ws ?? null };
}
