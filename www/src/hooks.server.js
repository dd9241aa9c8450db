// Every request knows its signed-in demo user (lib/server/session.js), or null.
import { readSession } from '$lib/server/session.js';

/** @type {import('@sveltejs/kit').Handle} */
export function handle({ event, resolve }) {
	event.locals.user = readSession(event.cookies);
	return resolve(event);
}
