// The claims of a JWT, unverified (the relay verifies it), or null: the
// client reads `exp` to know when to refresh a token, and `sub` and `admin`
// to tell which tabs may share a socket. The payload is base64url, often
// without padding, and UTF-8 JSON (a `sub` may be any string).

/** @returns {Record<string, unknown> | null} */
export function tokenClaims(token) {
	try {
		const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
		const binary = atob(part + '='.repeat((4 - (part.length % 4)) % 4));
		const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
		return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? claims : null;
	} catch {
		return null;
	}
}
