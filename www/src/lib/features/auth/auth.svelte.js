// Auth: signs users in and out, and keeps the user's tier in step with
// their subscription. Emits auth.user.login, auth.user.logout and
// auth.subscription.updated; listens to subscription.created/.canceled.

import { allOff } from '$lib/bus/all-off.js';

/** A stable id for an email, so the same person is the same user. */
export function userIdFor(email) {
	const local = email.split('@')[0].toLowerCase().replace(/[^a-z0-9]+/g, '-');
	return `user-${local || 'anonymous'}`;
}

export class Auth {
	/** @type {{ id: string, email: string, tier: string } | null} */
	user = $state(null);
	#bus;
	#off;

	/** @param {import('kaiwa-bus').Bus} bus */
	constructor(bus) {
		this.#bus = bus;
		this.#off = allOff(
			bus.on('subscription.created', (e) => this.#changeTier(e.userId, e.tier)),
			bus.on('subscription.canceled', (e) => this.#changeTier(e.userId, 'free'))
		);
	}

	/** @param {string} email @param {string} tier */
	signIn(email, tier) {
		const user = { id: userIdFor(email), email, tier };
		this.user = user;
		this.#bus.emit('auth.user.login', { userId: user.id, email, tier, timestamp: new Date() });
	}

	signOut() {
		const user = this.user;
		if (!user) return;
		this.user = null;
		this.#bus.emit('auth.user.logout', { userId: user.id, timestamp: new Date() });
	}

	/** @param {string} userId @param {string} newTier */
	#changeTier(userId, newTier) {
		const user = this.user;
		if (!user || user.id !== userId || user.tier === newTier) return;
		this.user = { ...user, tier: newTier };
		this.#bus.emit('auth.subscription.updated', { userId, oldTier: user.tier, newTier, timestamp: new Date() });
	}

	dispose() {
		this.#off();
	}
}
