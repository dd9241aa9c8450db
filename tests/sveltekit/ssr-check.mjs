// Server-side rendering with kaiwa-bus/svelte, run inside a fresh app by
// tests/sveltekit/run.mjs (it needs the app's svelte and kaiwa-bus): compiles
// a layout that calls provideBus() and a child that uses useBus() and
// onEvent() and emits while it renders, renders it twice with Svelte's
// server renderer, and checks that nothing throws, each render has a bus of
// its own, no handler runs, and the first-hour mistakes get errors that
// name the fix. Throws on the first failure.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { compile } from 'svelte/compiler';
import { render } from 'svelte/server';

const dir = 'ssr-check';
mkdirSync(dir, { recursive: true });
const components = {
	Child: `<script>
		import { onEvent, useBus } from 'kaiwa-bus/svelte';
		const bus = useBus();
		onEvent('cart.*', () => globalThis.handled++);
		bus.emit('cart.item.added', { itemId: 'tea', qty: 1, at: new Date() });
		globalThis.buses.push(bus);
	</script><p>child rendered</p>`,
	Layout: `<script>
		import { provideBus } from 'kaiwa-bus/svelte';
		import Child from './Child.js';
		provideBus({ mode: 'strict' });
	</script><Child />`,
	Orphan: `<script>
		import { useBus } from 'kaiwa-bus/svelte';
		useBus();
	</script>`
};
for (const [name, source] of Object.entries(components)) {
	const { js } = compile(source, { generate: 'server', filename: `${name}.svelte` });
	writeFileSync(`${dir}/${name}.js`, js.code);
}

globalThis.handled = 0;
globalThis.buses = [];
const { default: Layout } = await import(`./${dir}/Layout.js`);
for (let i = 0; i < 2; i++) assert.match(render(Layout).body, /child rendered/, 'the page renders');
const [first, second] = globalThis.buses;
assert.notEqual(first, second, 'each render has a bus of its own');
assert.equal(globalThis.handled, 0, 'no handler runs on the server');
assert.equal(typeof first.getEmittedEvents, 'function', 'the server bus is the MockEventBus stand-in');
assert.equal(second.getEmittedEvents().length, 0, 'and it is cleared when its render ends');

const { default: Orphan } = await import(`./${dir}/Orphan.js`);
assert.throws(() => render(Orphan).body, /useBus\(\) found no bus\. Call provideBus\(\) in the root layout/);
const { provideBus } = await import('kaiwa-bus/svelte');
assert.throws(() => provideBus(), /provideBus\(\) must run while a component initialises.*two copies of Svelte.*noExternal/);
console.log('ssr: ok');
