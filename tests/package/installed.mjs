// Installs the package the way a user does (npm pack, then npm install of
// the tarball into an empty project) and checks what a user relies on:
// `import { EventBus } from 'kaiwa-bus'` works in Node with no init() call,
// the conditional exports resolve, the .wasm is exported for Vite's `?url`,
// and the types are there; importing compiles no WebAssembly (the first bus
// does), so server code bundled without the .wasm runs; the packed README's
// links, LICENSE and CHANGELOG.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deadLinks } from '../../scripts/lib/readme-links.mjs';

const dir = resolve('test-output/consumer');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir, resolve('pkg')], { encoding: 'utf8' })
	.trim()
	.split('\n')
	.at(-1);
writeFileSync(`${dir}/package.json`, JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
execFileSync('npm', ['install', '--silent', '--no-audit', '--no-fund', `./${tarball}`], { cwd: dir, stdio: 'inherit' });

let passed = 0;
let failed = 0;
function check(name, fn) {
	try {
		fn();
		passed++;
		console.log(`ok - ${name}`);
	} catch (error) {
		failed++;
		console.log(`not ok - ${name}\n${error.stdout ?? ''}${error.stderr ?? ''}${error.message}`);
	}
}
const node = (script) => execFileSync('node', ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });

check('import in Node works without init()', () => {
	const out = node(`
		import { EventBus } from 'kaiwa-bus';
		const bus = new EventBus();
		let got = null;
		bus.on('auth.user.login', (p) => { got = p.email; });
		bus.emit('auth.user.login', { userId: 'u', email: 'e@x', tier: 't', timestamp: new Date() });
		if (got !== 'e@x') throw new Error('not delivered');
		console.log('delivered');
	`);
	if (!out.includes('delivered')) throw new Error(out);
});

check('init() exists in Node and resolves', () => {
	node(`import { init } from 'kaiwa-bus'; await init(); await init();`);
});

check('the node condition resolves to node.js, the default to index.js', () => {
	const out = node(`console.log(import.meta.resolve('kaiwa-bus'))`);
	if (!out.trim().endsWith('/node_modules/kaiwa-bus/node.js')) throw new Error(out);
});

check('the .wasm is exported for bundlers', () => {
	const out = node(`console.log(import.meta.resolve('kaiwa-bus/kaiwa_bus_bg.wasm'))`);
	if (!out.trim().endsWith('/node_modules/kaiwa-bus/kaiwa_bus_bg.wasm')) throw new Error(out);
});

check('the package ships its types, glue, snippets and wasm', () => {
	const root = `${dir}/node_modules/kaiwa-bus`;
	for (const file of [
		'index.d.ts',
		'core/events.d.ts',
		'index.js',
		'node.js',
		'kaiwa_bus.js',
		'kaiwa_bus_bg.wasm',
		'devtools/index.js',
		'devtools/index.d.ts',
		'devtools/element.js',
		'history/index.js',
		'history/index.d.ts',
		'core/bus.js',
		'svelte/index.js',
		'svelte/server.js',
		'relay/index.js',
		'relay/node.js',
		'store/index.js',
		'store/node.js',
		'server/index.js',
		'README.md'
	]) {
		if (!existsSync(`${root}/${file}`)) throw new Error(`missing ${file}`);
	}
	const snippets = readdirSync(`${root}/snippets`);
	if (snippets.length !== 1) throw new Error(`snippets: ${snippets}`);
});

check('kaiwa-bus/devtools imports in Node (SSR) without a DOM', () => {
	const out = node(`
		const devtools = await import('kaiwa-bus/devtools');
		console.log(typeof devtools.mountDevtools);
	`);
	if (out.trim() !== 'function') throw new Error(out);
});

check('kaiwa-bus/history reads back what it writes, in Node', () => {
	const out = node(`
		import { EventBus } from 'kaiwa-bus';
		import { historyDocument, readHistoryDocument } from 'kaiwa-bus/history';
		const bus = new EventBus();
		bus.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
		const [record] = readHistoryDocument(JSON.stringify(historyDocument(bus.getEventHistory())));
		console.log(record.name, record.source, record.timestamp instanceof Date);
	`);
	if (out.trim() !== 'auth.user.logout local true') throw new Error(out);
});

check('bundled into a server build, the Node entry still initialises and finds its .wasm', () => {
	writeFileSync(
		`${dir}/server.js`,
		`import { EventBus } from 'kaiwa-bus';
		const bus = new EventBus({ mode: 'strict' });
		let got = 0;
		bus.on('auth.user.logout', () => got++);
		bus.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
		console.log('server build delivered', got);`
	);
	// As an SSR build that bundles dependencies does: the package's code moves
	// into another file, and its "sideEffects" decide what survives.
	execFileSync(
		resolve('node_modules/.bin/esbuild'),
		['server.js', '--bundle', '--platform=node', '--format=esm', '--outfile=bundle/server.mjs', '--log-level=warning'],
		{ cwd: dir }
	);
	const out = execFileSync('node', ['bundle/server.mjs'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
	if (out.trim() !== 'server build delivered 1') throw new Error(out);
});

check('kaiwa-bus/inline is the Node entry in Node; kaiwa-bus/svelte resolves; init is the default export', () => {
	const out = node(`
		import init, { init as named, EventBus } from 'kaiwa-bus/inline';
		await init();
		console.log(init === named, new EventBus().mode, import.meta.resolve('kaiwa-bus/inline').endsWith('/kaiwa-bus/node.js'),
			import.meta.resolve('kaiwa-bus/svelte').endsWith('/kaiwa-bus/svelte/server.js'));
	`);
	if (out.trim() !== 'true development true true') throw new Error(out);
});

check('kaiwa-bus/inline.js decodes and instantiates its own copy of the .wasm (as in a browser)', () => {
	const out = node(`
		const { EventBus } = await import('./node_modules/kaiwa-bus/inline.js');
		const bus = new EventBus();
		bus.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
		console.log(bus.getEventHistory().length);
	`);
	if (out.trim() !== '1') throw new Error(out);
});

check('svelte is an optional peer dependency', () => {
	const manifest = JSON.parse(
		execFileSync('node', ['-p', 'JSON.stringify(require("kaiwa-bus/package.json"))'], { cwd: dir, encoding: 'utf8' })
	);
	if (manifest.peerDependencies?.svelte === undefined || manifest.peerDependenciesMeta?.svelte?.optional !== true)
		throw new Error(JSON.stringify(manifest));
	if (existsSync(`${dir}/node_modules/svelte`)) throw new Error('installing kaiwa-bus installed svelte');
});

check('importing every entry in Node compiles no WebAssembly; the first bus compiles it, once', () => {
	const log = `${dir}/wasm.log`;
	rmSync(log, { force: true });
	const out = execFileSync(
		'node',
		[
			'--import',
			resolve('scripts/lib/count-wasm.mjs'),
			'--input-type=module',
			'-e',
			`
			import { readFileSync, existsSync } from 'node:fs';
			const count = () => (existsSync(process.env.KAIWA_WASM_LOG) ? readFileSync(process.env.KAIWA_WASM_LOG, 'utf8').trim().split('\\n').length : 0);
			const { defineEvents, MockEventBus, createEventBus } = await import('kaiwa-bus');
			await Promise.all(['kaiwa-bus/inline', 'kaiwa-bus/relay', 'kaiwa-bus/store', 'kaiwa-bus/history', 'kaiwa-bus/devtools'].map((entry) => import(entry)));
			const events = defineEvents({ 'cart.item.added': { itemId: 'string' } });
			new MockEventBus().emit('cart.item.added', { itemId: 'tea' });
			const before = count();
			createEventBus('memory', { events }).emit('cart.item.added', { itemId: 'tea' });
			createEventBus('memory', { events });
			console.log(before, count());
		`
		],
		{ cwd: dir, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, KAIWA_WASM_LOG: log } }
	);
	if (out.trim() !== '0 1') throw new Error(`compilations before the first bus and after two: ${out.trim()} (expected 0 1)`);
});

check(
	'bundled and run where no .wasm is (a server deployed without node_modules): defineEvents and MockEventBus work, a bus names the problem',
	() => {
		writeFileSync(
			`${dir}/render.js`,
			`import { EventBus, MockEventBus, defineEvents, init } from 'kaiwa-bus';
		const events = defineEvents({ 'cart.item.added': { itemId: 'string' } });
		const mock = new MockEventBus();
		mock.emit('cart.item.added', { itemId: 'tea' });
		let refused = '';
		try { new EventBus(); } catch (error) { refused = error.message; }
		const rejected = await init().then(() => '', (error) => error.message);
		console.log(JSON.stringify({ schemas: events.schemas.length, emitted: mock.getEmittedEvents().length, refused, rejected }));`
		);
		const away = mkdtempSync(join(tmpdir(), 'kaiwa-no-modules-'));
		try {
			execFileSync(
				resolve('node_modules/.bin/esbuild'),
				['render.js', '--bundle', '--platform=node', '--format=esm', `--outfile=${away}/render.mjs`, '--log-level=warning'],
				{ cwd: dir }
			);
			const result = JSON.parse(execFileSync('node', [`${away}/render.mjs`], { cwd: away, encoding: 'utf8', stdio: 'pipe' }));
			if (result.schemas !== 1 || result.emitted !== 1) throw new Error(JSON.stringify(result));
			for (const message of [result.refused, result.rejected]) {
				if (!/cannot create a bus: kaiwa_bus_bg\.wasm is neither next to .* deployed without node_modules/.test(message))
					throw new Error(`the error does not say what happened: ${JSON.stringify(message)}`);
			}
		} finally {
			rmSync(away, { recursive: true, force: true });
		}
	}
);

check("the package's README links work on the npm page and in node_modules; LICENSE, CHANGELOG, repository, homepage, bugs", () => {
	const root = `${dir}/node_modules/kaiwa-bus`;
	for (const file of ['LICENSE', 'CHANGELOG.md']) if (!existsSync(`${root}/${file}`)) throw new Error(`no ${file} in the package`);
	if (!readFileSync(`${root}/LICENSE`, 'utf8').startsWith('MIT License')) throw new Error('LICENSE is not the MIT license');
	const manifest = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
	for (const field of ['repository', 'homepage', 'bugs']) if (!manifest[field]) throw new Error(`package.json has no ${field}`);
	const dead = deadLinks(readFileSync(`${root}/README.md`, 'utf8'));
	if (dead.length) throw new Error(`dead links in the packed README:\n${dead.join('\n')}`);
});

console.log(`# installed: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
