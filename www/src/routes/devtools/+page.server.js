import { relayAddress } from '$lib/server/relay.js';

/** @type {import('./$types').PageServerLoad} */
export function load() {
	return { relay: relayAddress()?.ws ?? null };
}
