// The "payment webhook": what a payment provider would call when a plan
// renews. Here the page's button calls it, and the user is the session's (a
// real webhook names the customer, and its request is verified with the
// provider's signature). The server publishes subscription.renewed through
// the relay's POST /v1/events with a token of its own that may publish only
// that (for that user); the relay delivers it to that user's tabs only.
import { error, json } from '@sveltejs/kit';
import { publish } from 'kaiwa-bus/relay';
import { relayAddress, webhookToken } from '$lib/server/relay.js';

/** @type {import('./$types').RequestHandler} */
export async function POST({ locals, request }) {
	if (!locals.user) error(401, 'not signed in');
	const relay = relayAddress();
	if (!relay) error(503, 'this demo server runs without a relay');
	const { subscriptionId } = await request.json().catch(() => ({}));
	const next = new Date();
	next.setMonth(next.getMonth() + 1);
	const payload = {
		userId: locals.user.id,
		subscriptionId: typeof subscriptionId === 'string' && subscriptionId ? subscriptionId.slice(0, 100) : 'sub-webhook',
		nextBillingDate: next,
		timestamp: new Date()
	};
	let answer;
	try {
		[answer] = await publish(relay.http, webhookToken(locals.user.id).token, [{ name: 'subscription.renewed', payload }]);
	} catch (cause) {
		error(502, `the relay did not take the event: ${cause?.message ?? cause}`);
	}
	if (answer.refused) error(502, `the relay refused the event (${answer.refused.kind}): ${answer.refused.message}`);
	return json({ offset: answer.offset, payload });
}
