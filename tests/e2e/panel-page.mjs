// What tests/e2e/act.test.mjs and edges.test.mjs share: the page they run
// on (tests/e2e/buses.html: the built package, no demo), and reading the
// panel's shadow DOM.

export const SHOTS = 'test-output/e2e-act';

// The development-mode bus warns once per event without a schema; the tests emit such events on purpose.
const NO_SCHEMA = /^kaiwa-bus: no schema is registered for ".*"; it is delivered unvalidated/;

/** A fresh page of buses.html; page.complaints collects page errors and console errors and warnings. */
export async function openPage(context, url) {
	const page = await context.newPage();
	page.setDefaultTimeout(15_000);
	page.complaints = [];
	page.on('pageerror', (e) => page.complaints.push(`page error: ${e.message}`));
	page.on('console', (m) => {
		if ((m.type() === 'error' || m.type() === 'warning') && !NO_SCHEMA.test(m.text()))
			page.complaints.push(`console.${m.type()}: ${m.text()}`);
	});
	await page.goto(`${url}/tests/e2e/buses.html`);
	await page.waitForSelector('body[data-ready=yes]', { state: 'attached' });
	return page;
}

/** A locator in the panel: Playwright's CSS pierces its open shadow root. */
export const panel = (page, selector) => page.locator(`kaiwa-devtools ${selector}`);

/** The text of an element in the panel. */
export const panelText = (page, selector) => panel(page, selector).textContent();

/** `fn(shadowRoot)` in the page, for the first panel. */
export const shadowEval = (page, fn) => page.evaluate(`(${fn})(document.querySelector('kaiwa-devtools').shadowRoot)`);

/** Waits until `await check()` is true (polling every 20 ms, at most `ms`). */
export async function until(check, what, ms = 15_000) {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}
