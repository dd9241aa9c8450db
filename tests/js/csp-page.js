// Under `script-src 'self' 'wasm-unsafe-eval'` (set by run-browser.mjs):
// two buses with five schemas each validate and deliver through the
// fallback reader, and the page sees at most one CSP violation report (the
// one cached probe of `new Function`), or none with configure({ jitless }).

const kaiwa = await import('/pkg/index.js');
const { EventBus, init } = kaiwa;

const violations = [];
addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));

async function run() {
	if (location.search.includes('jitless')) kaiwa.configure({ jitless: true });
	await init();
	let delivered = 0;
	let refused = 0;
	for (let b = 0; b < 2; b++) {
		const bus = new EventBus({ catalog: false });
		for (let i = 0; i < 5; i++) {
			const name = `app.csp.e${i}`;
			bus.registerSchema({ name, version: '1.0.0', payload: { id: 'number', mode: "'a' | 'b'" } });
			bus.on(name, () => delivered++);
			bus.emit(name, { id: i, mode: 'a' });
			try {
				bus.emit(name, { id: 'x', mode: 'a' });
			} catch (error) {
				if (error.name === 'ValidationError') refused++;
			}
		}
	}
	// Violation events are dispatched as tasks: let them arrive.
	await new Promise((resolve) => setTimeout(resolve, 200));
	return { delivered, refused, violations };
}

run().then(
	(result) => (window.__csp = result),
	(error) => (window.__csp = { error: String(error?.stack ?? error) })
);
