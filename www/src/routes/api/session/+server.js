// Sign in (POST { email, tier }) and out (DELETE): the session cookie.
import { error, json } from '@sveltejs/kit';
import { endSession, startSession } from '$lib/server/session.js';

/** @type {import('./$types').RequestHandler} */
export async function POST({ request, cookies, url }) {
	const { email, tier } = await request.json().catch(() => ({}));
	const user = startSession(cookies, url, email, tier);
	if (!user) error(400, 'an email address is needed');
	return json(user);
}

/** @type {import('./$types').RequestHandler} */
export function DELETE({ cookies }) {
	endSession(cookies);
	return new Response(null, { status: 204 });
}
