// Relay: what this page's bus says about its relay connection, the events
// that came from elsewhere (another tab of this user, or the relay), the
// "payment webhook" button: the demo server publishes
// subscription.renewed for the signed-in user through the relay
// (POST /api/payment-webhook), and it reaches only that user's tabs; and a
// maintenance notice, the one public event ($lib/events.js: audience
// 'all'), which reaches every signed-in user.

import { allOff } from '$lib/bus/all-off.js';

const KEEP = 20;

export class Relay {
	/** @type {{ state: string, user: string | null, leader: boolean, outbox: number, error: string | null }} */
	connection = $state({ state: 'closed', user: null, leader: false, outbox: 0, error: null });
	/** The newest events from elsewhere first: `{ id, name, userId, source, offset }`. */
	/** @type {{ id: number, name: string, userId: string, source: string, offset: string }[]} */
	arrived = $state([]);
	/** The webhook's last answer, as a sentence. */
	webhook = $state('');
	/** The newest maintenance notice, from anyone. @type {{ text: string, by: string, at: Date, source: string } | null} */
	notice = $state(null);
	#bus;
	/** The plan a webhook renews (the last one created here). */
	#subscriptionId = 'sub-webhook';
	#off;

	/** @param {import('kaiwa-bus').Bus & { connection?: any, onConnection?: Function }} bus */
	constructor(bus) {
		this.#bus = bus;
		const offs = [
			bus.on('app.notice.posted', (notice, meta) => (this.notice = { ...notice, source: meta.source })),
			bus.on('*', (payload, meta) => {
				if (meta.source === 'local') return;
				const userId = /** @type {any} */ (payload)?.userId ?? '(no user)';
				this.arrived = [{ id: meta.id, name: meta.name, userId, source: meta.source, offset: meta.offset ?? '' }, ...this.arrived].slice(0, KEEP);
			}),
			bus.on('subscription.created', (e) => (this.#subscriptionId = e.subscriptionId)),
			bus.on('auth.user.logout', () => (this.#subscriptionId = 'sub-webhook'))
		];
		if (typeof bus.onConnection === 'function') {
			this.connection = bus.connection;
			offs.push(bus.onConnection((connection) => (this.connection = connection)));
		}
		this.#off = allOff(...offs);
	}

	async paymentWebhook() {
		this.webhook = 'calling…';
		try {
			const response = await fetch('/api/payment-webhook', {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ subscriptionId: this.#subscriptionId })
			});
			const body = await response.json().catch(() => ({}));
			this.webhook = response.ok ? `the relay stored subscription.renewed at offset ${body.offset}` : `failed: ${body.message ?? response.status}`;
		} catch (error) {
			this.webhook = `failed: ${/** @type {Error} */ (error).message}`;
		}
	}

	/** Posts a maintenance notice as the signed-in user: public, every user gets it. */
	postNotice() {
		const by = this.connection.user ?? 'nobody';
		this.#bus.emit('app.notice.posted', { text: 'Maintenance tonight at 02:00 UTC: about ten minutes offline', by, at: new Date() });
	}

	dispose() {
		this.#off();
	}
}
