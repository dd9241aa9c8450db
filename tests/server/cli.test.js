// `kaiwa-bus schemas` (js/cli.js, the package's bin): the relay's --schemas
// file from the app's own defineEvents module, a TypeScript one as a
// SvelteKit app has (compiled with the app's typescript). It writes exactly
// JSON.stringify(events.schemas); a strict relay started with it accepts
// the app's events; after a field changes in events.ts, `--check` fails
// naming the field and the command that regenerates the file, and a relay
// still running the old file refuses the event with a message that says
// what to regenerate. Bad modules get errors that name the fix.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import WsWebSocket from 'ws';
import { ValidationError, defineEvents } from '#kaiwa';
import { createRelayBus } from '#kaiwa-relay';
import { startRelay, until } from '../relay-js/servers.js';

const WebSocket = globalThis.WebSocket ?? WsWebSocket;
const APP = resolve('test-output/cli-app');
const CLI = resolve('pkg/cli.js');

// src/lib/events.ts as the README writes it, with `qty` of type `qtyType`.
const eventsTs = (qtyType) => `import { defineEvents, type EventsOf } from 'kaiwa-bus';

export const events = defineEvents({
	'cart.item.added': { itemId: 'string', qty: ${JSON.stringify(qtyType)}, at: 'Date', note: 'string?' },
	'shop.notice.posted': { version: '1.1.0', description: 'For everyone', audience: 'all', payload: { text: 'string' } }
});

declare module 'kaiwa-bus' {
	interface KaiwaEvents extends EventsOf<typeof events> {}
}
`;

/** Runs the CLI in the app's folder: { status, stdout, stderr }. */
const cli = (...args) => spawnSync(process.execPath, [CLI, ...args], { cwd: APP, encoding: 'utf8' });

const servers = [];
before(() => {
	rmSync(APP, { recursive: true, force: true });
	mkdirSync(`${APP}/node_modules`, { recursive: true });
	mkdirSync(`${APP}/src/lib`, { recursive: true });
	// The app's kaiwa-bus is this package; its typescript is the workspace's (found up the tree, as in a monorepo).
	symlinkSync(resolve('pkg'), `${APP}/node_modules/kaiwa-bus`, 'dir');
	writeFileSync(`${APP}/package.json`, JSON.stringify({ name: 'cli-app', private: true, type: 'module' }));
	writeFileSync(`${APP}/src/lib/events.ts`, eventsTs('number'));
});
after(async () => {
	for (const server of servers) await server.kill();
});

test('prints exactly JSON.stringify(events.schemas) of the TypeScript module, and leaves no file behind', () => {
	const { status, stdout, stderr } = cli('schemas', 'src/lib/events.ts');
	assert.equal(status, 0, stderr);
	assert.equal(stdout, JSON.stringify(loadEvents('number').schemas));
	assert.deepEqual(readdirSync(`${APP}/src/lib`), ['events.ts']);
});

test('-o writes the file a strict relay validates with; the app and the relay agree; --check passes', async () => {
	const written = cli('schemas', 'src/lib/events.ts', '-o', 'relay-schemas.json');
	assert.equal(written.status, 0, written.stderr);
	const checked = cli('schemas', 'src/lib/events.ts', '--check', 'relay-schemas.json');
	assert.equal(checked.status, 0, checked.stderr);
	assert.match(checked.stdout, /relay-schemas\.json is current with src\/lib\/events\.ts/);
	const relay = await startRelay({ mode: 'strict', insecure: true, extra: ['--schemas', `${APP}/relay-schemas.json`] });
	servers.push(relay);
	const bus = createRelayBus({ url: relay.url, WebSocket, token: null, events: loadEvents('number'), mode: 'strict' });
	try {
		const { offset } = await bus.emit('cart.item.added', { itemId: 'tea', qty: 1, at: new Date() });
		assert.equal(typeof offset, 'string');
	} finally {
		bus.close();
	}
});

test('a field changed in events.ts: --check fails naming it and the command; the relay on the old file refuses, saying what to regenerate', async () => {
	writeFileSync(`${APP}/src/lib/events.ts`, eventsTs("'one' | 'two'"));
	try {
		const checked = cli('schemas', 'src/lib/events.ts', '--check', 'relay-schemas.json');
		assert.equal(checked.status, 1);
		assert.match(
			checked.stderr,
			/relay-schemas\.json is stale: it differs from src\/lib\/events\.ts:\n {2}cart\.item\.added: payload\.qty: "'one' \| 'two'" in src\/lib\/events\.ts, "number" in relay-schemas\.json\n/
		);
		assert.match(
			checked.stderr,
			/Regenerate it, and restart the relay with it:\n {2}npx kaiwa-bus schemas src\/lib\/events\.ts -o relay-schemas\.json/
		);
		// The relay of the previous test still runs the old file.
		const [relay] = servers;
		const bus = createRelayBus({ url: relay.url, WebSocket, token: null, events: loadEvents("'one' | 'two'"), mode: 'strict' });
		const warnings = [];
		const warn = console.warn;
		console.warn = (...args) => warnings.push(args.join(' '));
		try {
			const refused = await bus.emit('cart.item.added', { itemId: 'tea', qty: 'one', at: new Date() }).catch((e) => e);
			assert.ok(refused instanceof ValidationError, `got ${refused}`);
			assert.match(
				refused.message,
				/qty: expected number, received string\. This app accepts it, so the relay runs other schemas than this app: regenerate its --schemas file .*npx kaiwa-bus schemas/
			);
			await until(() => warnings.length > 0, 'the warning');
			assert.match(warnings[0], /the relay refused cart\.item\.added \(validation\): .*regenerate its --schemas file/);
		} finally {
			console.warn = warn;
			bus.close();
		}
	} finally {
		writeFileSync(`${APP}/src/lib/events.ts`, eventsTs('number'));
	}
});

test('modules it cannot read: errors that name the fix (exit 2); --check of a missing file exits 1', () => {
	writeFileSync(`${APP}/src/lib/aliased.ts`, "import { shared } from '$lib/shared';\nexport const events = shared;\n");
	writeFileSync(`${APP}/src/lib/none.js`, 'export const x = 1;\n');
	writeFileSync(
		`${APP}/src/lib/two.js`,
		"import { defineEvents } from 'kaiwa-bus';\nexport const a = defineEvents({ 'a.b': {} });\nexport const b = defineEvents({ 'b.c': {} });\n"
	);
	const expect = (args, status, pattern) => {
		const { status: got, stderr } = cli(...args);
		assert.equal(got, status, stderr);
		assert.match(stderr, pattern);
	};
	expect(['schemas', 'src/lib/aliased.ts'], 2, /could not be loaded: .*keep defineEvents\(\) in a module that imports only packages/);
	expect(['schemas', 'src/lib/none.js'], 2, /exports no defineEvents\(\) result: export it/);
	expect(['schemas', 'src/lib/two.js'], 2, /several defineEvents\(\) results \(a, b\): say which with --export NAME/);
	expect(['schemas', 'src/lib/nope.ts'], 2, /src\/lib\/nope\.ts: no such file/);
	expect(['schemas'], 2, /which module\?[\s\S]*Usage: kaiwa-bus schemas/);
	expect(['schemas', 'src/lib/events.ts', '--check', 'missing.json'], 1, /missing\.json does not exist\. Regenerate it/);
	assert.equal(cli('schemas', 'src/lib/two.js', '--export', 'b').stdout, JSON.stringify(defineEvents({ 'b.c': {} }).schemas));
	assert.ok(!readdirSync(`${APP}/src/lib`).some((f) => f.includes('kaiwa-schemas')), 'no compiled file left behind');
	assert.ok(
		existsSync(`${APP}/relay-schemas.json`) &&
			readFileSync(`${APP}/relay-schemas.json`, 'utf8').startsWith('[{"name":"cart.item.added"')
	);
});

// The definitions of events.ts with `qty` of that type, for the app's bus in this process.
function loadEvents(qtyType) {
	return defineEvents({
		'cart.item.added': { itemId: 'string', qty: qtyType, at: 'Date', note: 'string?' },
		'shop.notice.posted': { version: '1.1.0', description: 'For everyone', audience: 'all', payload: { text: 'string' } }
	});
}
