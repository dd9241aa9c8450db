// The relay client's one JWT reader (js/relay/token.js): the claims of a
// token, unverified, for `exp` (when to refresh) and `sub`/`admin` (which
// tabs share a socket). Tokens are base64url without padding, and their
// claims are UTF-8 JSON.

import { tokenClaims } from '../../pkg/relay/token.js';
import { assert, test } from './harness.js';

const base64url = (text) =>
	btoa(String.fromCharCode(...new TextEncoder().encode(text)))
		.replace(/\+/g, '-')
		.replace(/\//g, '_')
		.replace(/=+$/, '');
const jwt = (claims) => `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}.c2lnbmF0dXJl`;

test('tokenClaims reads unpadded base64url claims, in UTF-8: sub, admin, exp', () => {
	const cases = [
		{ sub: '田中 ユーザー', admin: true, exp: 1893456000 },
		{ sub: 'Zoë ?>', exp: 1893456000 },
		{ sub: 'u1', groups: ['ü'], exp: 1893456001 }
	];
	const tokens = cases.map(jwt);
	const payloads = tokens.map((t) => t.split('.')[1]);
	// What this test is about is there: no padding (lengths of 2 and 3 past a multiple of 4) and base64url's own characters.
	assert.ok(payloads.some((p) => p.length % 4 === 2) && payloads.some((p) => p.length % 4 === 3), payloads.join(' '));
	assert.ok(
		payloads.some((p) => /[-_]/.test(p)),
		payloads.join(' ')
	);
	for (const [i, token] of tokens.entries()) assert.deepEqual(tokenClaims(token), cases[i]);
});

test('tokenClaims of what is not a JWT with a claims object is null', () => {
	for (const token of [
		'',
		'abc',
		'a.%%%.c',
		`a.${base64url('null')}.c`,
		`a.${base64url('[1]')}.c`,
		`a.${base64url('"sub"')}.c`,
		`a.${base64url('{"sub":')}.c`
	]) {
		assert.equal(tokenClaims(token), null, token);
	}
});
