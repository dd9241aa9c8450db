// Subscription: upgrades, renews and cancels a plan. Emits
// subscription.created/.renewed/.canceled; the auth feature hears them and
// updates the user's tier. A renewal from elsewhere (the payment webhook)
// moves the plan's next billing date.

import { allOff } from '$lib/bus/all-off.js';

const PRICES = { plus: 980, pro: 1980 };

let nextId = 1;

export class Subscription {
	/** @type {string | null} */
	userId = $state(null);
	/** @type {{ id: string, tier: string, renewsOn: Date } | null} */
	plan = $state(null);
	#bus;
	#off;

	/** @param {import('kaiwa-bus').Bus} bus */
	constructor(bus) {
		this.#bus = bus;
		this.#off = allOff(
			bus.on('auth.user.login', (e) => (this.userId = e.userId)),
			bus.on('auth.user.logout', () => {
				this.userId = null;
				this.plan = null;
			}),
			// Renewed elsewhere (another tab, or the payment provider's webhook through the relay).
			bus.on('subscription.renewed', (e, meta) => {
				if (meta.source !== 'local' && this.plan?.id === e.subscriptionId) this.plan = { ...this.plan, renewsOn: e.nextBillingDate };
			})
		);
	}

	/** @param {'plus' | 'pro'} tier */
	subscribe(tier) {
		if (!this.userId || this.plan) return;
		this.plan = { id: `sub-${Date.now().toString(36)}-${nextId++}`, tier, renewsOn: monthsFromNow(1) };
		this.#bus.emit('subscription.created', {
			userId: this.userId,
			subscriptionId: this.plan.id,
			tier,
			amount: PRICES[tier],
			currency: 'JPY',
			timestamp: new Date()
		});
	}

	renew() {
		if (!this.userId || !this.plan) return;
		this.plan = { ...this.plan, renewsOn: monthsFromNow(2) };
		this.#bus.emit('subscription.renewed', { userId: this.userId, subscriptionId: this.plan.id, nextBillingDate: this.plan.renewsOn, timestamp: new Date() });
	}

	/** @param {string} [reason] */
	cancel(reason) {
		if (!this.userId || !this.plan) return;
		const plan = this.plan;
		this.plan = null;
		this.#bus.emit('subscription.canceled', {
			userId: this.userId,
			subscriptionId: plan.id,
			...(reason ? { reason } : {}),
			timestamp: new Date()
		});
	}

	dispose() {
		this.#off();
	}
}

/** @param {number} months */
function monthsFromNow(months) {
	const date = new Date();
	date.setMonth(date.getMonth() + months);
	return date;
}
