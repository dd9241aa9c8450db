// The demo's own events, beside the catalog's. Every catalog event is
// private to its user through the relay (their other tabs and devices, and
// admin connections); app.notice.posted is public: its audience is 'all',
// so every signed-in user's page gets it. The same definition gives the
// page its schema (the root layout registers it in the browser) and the
// relay its --schemas file (scripts/demo.mjs writes
// JSON.stringify(events.schemas)).
import { defineEvents } from 'kaiwa-bus';

export const events = defineEvents({
	'app.notice.posted': {
		audience: 'all',
		description: 'A maintenance notice for every user',
		payload: { text: 'string', by: 'string', at: 'Date' }
	}
});
