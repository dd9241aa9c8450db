// kaiwa-bus/svelte's provideBus() when its layout goes (issue 25 item 6),
// on Svelte's own runtime: a component compiled by svelte/compiler and
// rendered by svelte/server, whose onDestroy callbacks run when the render
// ends, as a layout's do when it is destroyed. Node only.
//   node --test tests/svelte/

import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { compile } from 'svelte/compiler';
import { render } from 'svelte/server';
import { EventBus } from '../../pkg/inline.js';
import { provideBus } from '../../pkg/svelte/index.js';

// A layout that calls provideBus(options) at the top of its <script>, as
// the README's root layout does.
const source = '<script>let { options, got } = $props(); got(provideBus(options));</script><slot />';
const { js } = compile(source, { generate: 'server', name: 'Layout' });
const dir = 'test-output/svelte';
mkdirSync(dir, { recursive: true });
const file = `${dir}/layout-${process.pid}.js`;
// The compiled component imports svelte/internal/server; provideBus comes in through a global.
writeFileSync(file, `const provideBus = globalThis.__provideBus;\n${js.code}`);
globalThis.__provideBus = provideBus;
const Layout = (await import(pathToFileURL(file).href)).default;
rmSync(file);

const at = new Date('2026-11-30T10:00:00Z');
const logout = { userId: 'u1', timestamp: at };

// Renders the layout once, calls `during(bus)` while it lives, and destroys
// it; returns the bus provideBus() gave.
function mountAndDestroy(options, during = () => {}) {
	let bus;
	const got = (b) => {
		bus = b;
		during(b);
	};
	// Svelte renders when the output is read.
	assert.equal(render(Layout, { props: { options, got } }).body, '<!--[--><!--[--><!--]--><!--]-->');
	return bus;
}

test('provideBus(bus): the layout going leaves the app’s own bus as it was: its handlers and its history', () => {
	const bus = new EventBus();
	const analytics = [];
	bus.on('auth.user.logout', (p) => analytics.push(p.userId)); // subscribed outside Svelte, in a module
	bus.emit('auth.user.logout', logout);
	assert.equal(mountAndDestroy(bus), bus, 'the given bus is the one in context');
	bus.emit('auth.user.logout', logout);
	assert.deepEqual(analytics, ['u1', 'u1'], 'the handler subscribed outside Svelte still runs');
	assert.equal(bus.getEventHistory().length, 2, 'the history is kept');
});

test('provideBus(options): the bus it created is cleared when the layout goes (the control: destroy does run)', () => {
	const seen = [];
	const bus = mountAndDestroy({ historyLimit: 10 }, (b) => {
		b.on('auth.user.logout', (p) => seen.push(p.userId));
		b.emit('auth.user.logout', logout);
	});
	assert.ok(bus instanceof EventBus);
	assert.deepEqual(seen, ['u1'], 'subscribed while the layout lived');
	assert.equal(bus.getEventHistory().length, 0, 'its history went with the layout');
	bus.emit('auth.user.logout', logout);
	assert.deepEqual(seen, ['u1'], 'and its handlers');
});
