// Loading the WebAssembly module in Chromium, each case in a fresh page:
// the errors of the first hour name the fix (a bus created before init();
// the package's JS moved away from its .wasm, as Vite's dev server does when
// it pre-bundles; a wrong URL), the bus works after a good init() all the
// same, `import init from 'kaiwa-bus'` works, init() also takes a Response,
// the bytes or a compiled WebAssembly.Module, and kaiwa-bus/inline needs no
// init() at all. Needs pkg/ built. Prints `# init: N passed, M failed`.

import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { launchChromium } from '../../scripts/lib/chromium.mjs';
import { serveStatic } from '../../scripts/lib/static-server.mjs';

// The package's JS without its .wasm, as a bundler that moved it leaves it.
const MOVED = 'test-output/init-moved';
rmSync(MOVED, { recursive: true, force: true });
mkdirSync(MOVED, { recursive: true });
cpSync('pkg', MOVED, { recursive: true, filter: (file) => !file.endsWith('.wasm') });

const page = (body) => `<!doctype html><meta charset="utf-8"><script type="module">
	const out = {};
	const attempt = async (key, fn) => { try { out[key] = await fn(); } catch (error) { out[key] = 'threw: ' + error.message; } };
	${body}
	window.__out = out;
</script>`;
writeFileSync(
	`${MOVED}/moved.html`,
	page(`
	const kaiwa = await import('./index.js');
	out.defaultIsInit = kaiwa.default === kaiwa.init;
	await attempt('before', () => new kaiwa.EventBus());
	await attempt('moved', () => kaiwa.default());
	await attempt('wrongUrl', () => kaiwa.init('/pkg/no-such.wasm'));
	await attempt('after', async () => {
		await kaiwa.init('/pkg/kaiwa_bus_bg.wasm');
		const bus = new kaiwa.EventBus();
		bus.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
		return bus.getEventHistory().length;
	});`)
);
writeFileSync(
	`${MOVED}/inline.html`,
	page(`
	const { EventBus, init } = await import('/pkg/inline.js');
	await attempt('inline', () => {
		const bus = new EventBus();
		let got = null;
		bus.on('auth.user.logout', (p) => (got = p.userId));
		bus.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
		return got;
	});
	await attempt('inlineInit', () => init().then(() => 'resolved'));`)
);

// init() takes what wasm-bindgen's init takes besides a URL, each in a page of its own
// (init() is idempotent: a second call in one page would show nothing).
const WASM = '/pkg/kaiwa_bus_bg.wasm';
const INPUTS = {
	response: `await fetch('${WASM}')`,
	bytes: `new Uint8Array(await (await fetch('${WASM}')).arrayBuffer())`,
	module: `await WebAssembly.compileStreaming(fetch('${WASM}'))`
};
for (const [kind, input] of Object.entries(INPUTS)) {
	writeFileSync(
		`${MOVED}/init-${kind}.html`,
		page(`
	const kaiwa = await import('/pkg/index.js');
	await attempt('${kind}', async () => {
		await kaiwa.init(${input});
		const bus = new kaiwa.EventBus();
		let got = null;
		bus.on('auth.user.logout', (p) => (got = p.userId));
		bus.emit('auth.user.logout', { userId: 'u-${kind}', timestamp: new Date() });
		return got;
	});`)
	);
}

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
	if (ok) passed++;
	else failed++;
	console.log(`${ok ? 'ok' : 'not ok'} - ${name}${ok ? '' : `\n    got: ${JSON.stringify(detail)}`}`);
}

const server = await serveStatic('.');
const browser = await launchChromium();
try {
	const open = async (file) => {
		const tab = await browser.context.newPage();
		const errors = [];
		tab.on('pageerror', (e) => errors.push(e.message));
		await tab.goto(`${server.url}/${MOVED}/${file}`);
		await tab.waitForFunction(() => window.__out, null, { timeout: 30_000 });
		const out = await tab.evaluate(() => window.__out);
		await tab.close();
		return { ...out, errors };
	};
	const moved = await open('moved.html');
	check('init is the default export', moved.defaultIsInit === true, moved.defaultIsInit);
	check(
		'a bus before init() names init() and kaiwa-bus/inline',
		/threw: .*`await init\(\)` before creating an EventBus.*'kaiwa-bus\/inline'/.test(moved.before),
		moved.before
	);
	check(
		"init() with the package's JS moved from its .wasm names the URL, the bundler and the fixes",
		/threw: kaiwa-bus: could not load the WebAssembly module from http:\/\/127\.0\.0\.1:\d+\/test-output\/init-moved\/kaiwa_bus_bg\.wasm \(.*404.*\)\. Most likely a bundler pre-bundled kaiwa-bus away from its \.wasm file.*'kaiwa-bus\/inline'.*\?url/.test(
			moved.moved
		),
		moved.moved
	);
	check(
		'init(url) with a wrong URL names it',
		/threw: kaiwa-bus: could not load the WebAssembly module from \/pkg\/no-such\.wasm/.test(moved.wrongUrl),
		moved.wrongUrl
	);
	check('after those errors, init() with the right URL works and the bus records', moved.after === 1, moved.after);
	check('no uncaught error in that page', moved.errors.length === 0, moved.errors);
	for (const kind of Object.keys(INPUTS)) {
		const out = await open(`init-${kind}.html`);
		check(
			`init() given ${kind === 'module' ? 'a WebAssembly.Module' : kind === 'bytes' ? 'the bytes' : 'a Response'}: the bus delivers`,
			out[kind] === `u-${kind}` && out.errors.length === 0,
			out
		);
	}
	const inline = await open('inline.html');
	check('kaiwa-bus/inline: a bus at once, no init()', inline.inline === 'u', inline.inline);
	check('kaiwa-bus/inline: init() resolves', inline.inlineInit === 'resolved', inline.inlineInit);
} finally {
	await browser.close();
	await server.close();
}
console.log(`# init: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
