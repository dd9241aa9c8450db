// kaiwa-bus/server against a real kaiwa-relay: relayToken's tokens are the
// ones the relay accepts (and their claims are in force), publish() with a
// secret or a token reaches the user its payload names and no other, a
// refusal or an unreachable relay rejects with a RelayError, bad input gets
// an error naming it. It loads no WebAssembly and no Node API (bundled for a
// neutral platform and run with only Web globals, as on an edge runtime),
// and works on Node 18, 20 and 22.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import vm from 'node:vm';
import { build } from 'esbuild';
import WsWebSocket from 'ws';
import { createRelayBus } from '#kaiwa-relay';
import { RelayError, publish, relayToken } from '../../pkg/server/index.js';
import { SECRET, freePort, startRelay, until } from '../relay-js/servers.js';

const WebSocket = globalThis.WebSocket ?? WsWebSocket;
const at = new Date('2026-12-01T09:30:00.000Z');
const logout = (userId) => ({ name: 'auth.user.logout', payload: { userId, timestamp: at } });
const claimsOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

let relay;
const buses = [];
before(async () => {
	relay = await startRelay();
});
after(async () => {
	for (const bus of buses) bus.close();
	await relay?.kill();
});

// A relay bus of `sub`, whose getToken signs with relayToken, as a token endpoint does.
function userBus(sub, claims = {}) {
	const bus = createRelayBus({ url: relay.url, WebSocket, share: false, getToken: () => relayToken({ secret: SECRET, sub, ...claims }) });
	buses.push(bus);
	return bus;
}
const open = (bus) => until(() => bus.connection.state === 'open', `the connection to open (${JSON.stringify(bus.connection)})`);

test('relayToken: a token the relay accepts, with its claims in force; a wrong secret is refused', async () => {
	const token = await relayToken({ secret: SECRET, sub: 'alice', publish: ['auth.user.*'], ttl: 120 });
	const claims = claimsOf(token);
	assert.deepEqual(claims, { sub: 'alice', iat: claims.iat, exp: claims.iat + 120, publish: ['auth.user.*'] });
	assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 5);
	const grouped = claimsOf(await relayToken({ secret: SECRET, sub: 'alice', groups: ['team-1'], admin: false }));
	assert.deepEqual([grouped.groups, grouped.admin], [['team-1'], false]);
	const alice = userBus('alice', { publish: ['auth.user.*'] });
	await open(alice);
	const { offset } = await alice.emit('auth.user.logout', { userId: 'alice', timestamp: at });
	assert.equal(typeof offset, 'string');
	const refused = await alice
		.emit('conversation.started', { conversationId: 'c', userId: 'alice', targetLanguage: 'ja', mode: 'traditional', timestamp: at })
		.catch((e) => e);
	assert.equal(refused.kind, 'forbidden', 'the publish claim is in force');
	const forged = await relayToken({ secret: 'not-the-relay-secret', sub: 'mallory', admin: true, publish: ['*'] });
	const refusedForged = await publish({ url: relay.http, token: forged }, [logout('alice')]).catch((e) => e);
	assert.equal(refusedForged.kind, 'forbidden');
	assert.match(refusedForged.message, /401/);
});

test("publish with the relay's secret: the event for alice reaches alice only; with a token, from a ws:// address too", async () => {
	const alice = userBus('alice');
	const bob = userBus('bob');
	await Promise.all([open(alice), open(bob)]);
	const seen = { alice: [], bob: [] };
	alice.on('auth.user.logout', (p) => seen.alice.push(p));
	bob.on('auth.user.logout', (p) => seen.bob.push(p));
	const [first] = await publish({ url: relay.http, secret: SECRET }, [logout('alice')]);
	assert.equal(typeof first.offset, 'string');
	await until(() => seen.alice.length === 1, "alice's event at alice");
	assert.ok(seen.alice[0].timestamp instanceof Date);
	// The positive control for bob: his own event, published after alice's, reaches him; alice's never did.
	const token = await relayToken({ secret: SECRET, sub: 'billing', admin: true, publish: ['auth.*'], subscribe: [] });
	await publish({ url: relay.url, token }, [logout('bob')]);
	await until(() => seen.bob.length === 1, "bob's event at bob");
	assert.deepEqual(
		seen.bob.map((p) => p.userId),
		['bob']
	);
	assert.deepEqual(
		seen.alice.map((p) => p.userId),
		['alice']
	);
});

test('publish: a refusal rejects with a RelayError naming it, with every answer in results; an unreachable relay is kind unavailable', async () => {
	const refused = await publish({ url: relay.http, secret: SECRET }, [
		logout('carol'),
		{ name: 'auth.user.logout', payload: { userId: 7, timestamp: at } }
	]).catch((e) => e);
	assert.ok(refused instanceof RelayError, `got ${refused}`);
	assert.equal(refused.kind, 'validation');
	assert.match(refused.message, /refused 1 of 2 events: auth\.user\.logout \(validation\): .*userId: expected string, received number/);
	assert.equal(typeof refused.results[0].offset, 'string', 'the other event was stored');
	assert.equal(refused.results[1].refused.issues[0].path, 'userId');
	const port = await freePort();
	const down = await publish({ url: `http://127.0.0.1:${port}`, secret: SECRET }, [logout('carol')]).catch((e) => e);
	assert.ok(down instanceof RelayError);
	assert.equal(down.kind, 'unavailable');
	assert.match(down.message, new RegExp(`could not reach the relay at http://127\\.0\\.0\\.1:${port}`));
	const bad = await publish({ url: relay.http, token: 'not.a.token' }, [logout('carol')]).catch((e) => e);
	assert.equal(bad.kind, 'forbidden');
});

test('bad input: an Error that names the problem', async () => {
	await assert.rejects(
		relayToken({ secret: undefined, sub: 'u' }),
		/secret is missing: pass the relay's KAIWA_RELAY_SECRET, and set it in this server's environment/
	);
	await assert.rejects(relayToken({ secret: '', sub: 'u' }), /secret is empty/);
	await assert.rejects(relayToken({ secret: SECRET, sub: '' }), /sub must be the user's id/);
	await assert.rejects(relayToken({ secret: SECRET, sub: 'u', ttl: 0 }), /ttl must be a number of seconds above 0/);
	await assert.rejects(relayToken({ secret: SECRET, sub: 'u', publish: 'cart.*' }), /publish must be an array of patterns/);
	await assert.rejects(relayToken({ secret: SECRET, sub: 'u', subscribe: ['cart*'] }), /subscribe: "cart\*" is not a pattern/);
	await assert.rejects(relayToken({ secret: SECRET, sub: 'u', groups: 'team-1' }), /groups must be an array of group ids/);
	await assert.rejects(relayToken({ secret: SECRET, sub: 'u', groups: [''] }), /groups must be an array of group ids/);
	await assert.rejects(publish({ url: relay.http }, []), /give the relay either secret .* or token/);
	await assert.rejects(publish({ url: relay.http, secret: SECRET, token: 't' }, []), /not both/);
	await assert.rejects(publish({ url: 'relay.example', secret: SECRET }, []), /url must be the relay's address/);
	await assert.rejects(publish({ url: relay.http, secret: SECRET }, logout('u')), /events must be an array/);
	assert.deepEqual(await publish({ url: relay.http, secret: SECRET }, []), []);
});

test('no WebAssembly and no Node API: bundled for a neutral platform, it runs with Web globals only', async () => {
	// esbuild fails on any import of a Node module when the platform is neutral.
	const { outputFiles } = await build({
		entryPoints: [resolve('pkg/server/index.js')],
		bundle: true,
		platform: 'neutral',
		format: 'iife',
		globalName: 'kaiwaServer',
		write: false,
		logLevel: 'silent'
	});
	const context = vm.createContext({ crypto, TextEncoder, btoa, atob, URL, fetch, setTimeout, clearTimeout, console });
	vm.runInContext('delete globalThis.WebAssembly;', context);
	vm.runInContext(outputFiles[0].text, context);
	const edge = context.kaiwaServer;
	const token = await edge.relayToken({ secret: SECRET, sub: 'edge', admin: true, publish: ['*'] });
	const [stored] = await edge.publish({ url: relay.http, token }, [logout('edge')]);
	assert.equal(typeof stored.offset, 'string');
	assert.equal(vm.runInContext('typeof WebAssembly', context), 'undefined');
});

for (const major of [18, 20, 22]) {
	test(`Node ${major}: relayToken and publish work`, () => {
		const node = execFileSync('scripts/node-bin.sh', [String(major)], { encoding: 'utf8' }).trim();
		const script = `
			import { publish } from ${JSON.stringify(resolve('pkg/server/index.js'))};
			const [answer] = await publish({ url: process.argv[1], secret: process.argv[2] }, [{ name: 'auth.user.logout', payload: { userId: 'n', timestamp: new Date() } }]);
			console.log(process.version, JSON.stringify(answer));`;
		const out = execFileSync(node, ['--input-type=module', '-e', script, relay.http, SECRET], { encoding: 'utf8' });
		assert.match(out, new RegExp(`^v${major}\\.\\d+\\.\\d+ \\{"offset":"[^"]+"\\}\\n$`));
	});
}
