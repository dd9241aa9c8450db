// The demo's "session": a cookie naming the signed-in demo user, signed with
// an HMAC so that a page cannot make itself another user by editing it.
// There are no passwords: choosing an email signs in as that user. Two
// windows of one browser share the cookie (the same user); a private window
// or another browser is another session.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { env } from '$env/dynamic/private';

const COOKIE = 'kaiwa_demo_session';
const TIERS = ['free', 'plus', 'pro'];
// The relay secret when there is one (sessions then survive a restart of this server alone), else one per process.
const KEY = createHmac('sha256', env.KAIWA_RELAY_SECRET || randomBytes(32)).update('demo session').digest();

/** A stable id for an email, so the same person is the same user. */
export function userIdFor(email) {
	const local = email.split('@')[0].toLowerCase().replace(/[^a-z0-9]+/g, '-');
	return `user-${local || 'anonymous'}`;
}

const mac = (text) => createHmac('sha256', KEY).update(text).digest();

/** The user of this request's cookie, or null. */
export function readSession(cookies) {
	const value = cookies.get(COOKIE);
	const [body, sig] = value?.split('.') ?? [];
	if (!body || !sig) return null;
	const given = Buffer.from(sig, 'base64url');
	const expected = mac(body);
	if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
	try {
		return JSON.parse(Buffer.from(body, 'base64url').toString());
	} catch {
		return null;
	}
}

/** Signs `email` in (its user id derived from it); returns the user. */
export function startSession(cookies, url, email, tier) {
	if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 200) return null;
	const user = { id: userIdFor(email), email, tier: TIERS.includes(tier) ? tier : 'free' };
	const body = Buffer.from(JSON.stringify(user)).toString('base64url');
	cookies.set(COOKIE, `${body}.${mac(body).toString('base64url')}`, { path: '/', httpOnly: true, sameSite: 'strict', secure: url.protocol === 'https:' });
	return user;
}

export function endSession(cookies) {
	cookies.delete(COOKIE, { path: '/' });
}
