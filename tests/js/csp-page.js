// Under `script-src 'self' 'wasm-unsafe-eval'` (set by run-browser.mjs):
// two buses with five schemas each validate and deliver through the
// fallback reader, and the page sees at most one CSP violation report (the
// one cached probe of `new Function`), or none with configure({ jitless }).

const kaiwa = await import('/pkg/index.js');
const { EventBus, init } = kaiwa;

// Violation events are dispatched as tasks, in the order the violations
// happened. After the buses' work the page runs one inline script of its own
// (blocked: a known violation, blockedURI 'inline'); once that one's event has
// come, any the buses caused before it have come too.
const violations = [];
let markerSeen;
const marker = new Promise((resolve) => (markerSeen = resolve));
addEventListener('securitypolicyviolation', (e) => {
	if (e.blockedURI === 'inline') markerSeen();
	else violations.push(e.violatedDirective);
});

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
	const inline = document.createElement('script');
	inline.textContent = 'window.__cspMarkerRan = true';
	document.head.append(inline);
	if (window.__cspMarkerRan) throw new Error('the inline script ran: no CSP in force');
	await marker;
	return { delivered, refused, violations };
}

run().then(
	(result) => (window.__csp = result),
	(error) => (window.__csp = { error: String(error?.stack ?? error) })
);
