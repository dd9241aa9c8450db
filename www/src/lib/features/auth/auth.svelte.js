// Auth: signs users in and out, and keeps the user's tier in step with
// their subscription. Emits auth.user.login, auth.user.logout and
// auth.subscription.updated; listens to subscription.created/.canceled, and
// to a logout of this user from another tab or device (signed out there,
// signed out here).
//
// Signing in starts the demo server's session (a cookie: POST /api/session)
// and then emits the login; a page opened while the session lasts signs its
// user in again (`restore`). Without the server (it failed), the sign-in is
// this page's only.

import { allOff } from '$lib/bus/all-off.js';

/** A stable id for an email, so the same person is the same user (the server derives the same). */
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
			// The tier follows a plan bought in another tab too; only the tab where it happened says so on the bus.
			bus.on('subscription.created', (e, meta) => this.#changeTier(e.userId, e.tier, meta.source === 'local')),
			bus.on('subscription.canceled', (e, meta) => this.#changeTier(e.userId, 'free', meta.source === 'local')),
			bus.on('auth.user.logout', (e, meta) => meta.source !== 'local' && e.userId === this.user?.id && (this.user = null))
		);
	}

	/** @param {string} email @param {string} tier */
	async signIn(email, tier) {
		let user = { id: userIdFor(email), email, tier };
		try {
			const response = await fetch('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, tier }) });
			if (response.ok) user = await response.json();
		} catch {
			// No server session: signed in on this page only.
		}
		this.#login(user);
	}

	/** The session's user, signed in again on this page (the features hear auth.user.login). */
	/** @param {{ id: string, email: string, tier: string }} user */
	restore(user) {
		if (!this.user) this.#login(user);
	}

	signOut() {
		const user = this.user;
		if (!user) return;
		this.user = null;
		this.#bus.emit('auth.user.logout', { userId: user.id, timestamp: new Date() });
		fetch('/api/session', { method: 'DELETE' }).catch(() => {});
	}

	/** @param {{ id: string, email: string, tier: string }} user */
	#login(user) {
		this.user = user;
		this.#bus.emit('auth.user.login', { userId: user.id, email: user.email, tier: user.tier, timestamp: new Date() });
	}

	/** @param {string} userId @param {string} newTier @param {boolean} announce */
	#changeTier(userId, newTier, announce) {
		const user = this.user;
		if (!user || user.id !== userId || user.tier === newTier) return;
		this.user = { ...user, tier: newTier };
		if (announce) this.#bus.emit('auth.subscription.updated', { userId, oldTier: user.tier, newTier, timestamp: new Date() });
	}

	dispose() {
		this.#off();
	}
}
