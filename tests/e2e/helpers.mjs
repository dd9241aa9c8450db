// Helpers of the end-to-end tests: open the demo with a clean slate and a
// log of everything the page complains about, read the devtools panel the
// way a person sees it (its shadow DOM), and click through the demo.

import assert from 'node:assert/strict';

export const SHOTS = 'test-output/e2e';

/**
 * Opens the demo in a new page with empty localStorage, and waits for the
 * bus and the panel. Console errors and warnings, page errors and dialogs
 * are collected; `assertClean()` fails on any not matched by
 * `test.allowLogs` (regexps), which the runner calls after each test.
 */
export async function openDemo(context, url, test = {}) {
	const page = await context.newPage();
	page.setDefaultTimeout(10_000);
	const complaints = [];
	page.on('console', (m) => {
		if (m.type() === 'error' || m.type() === 'warning') complaints.push(`console.${m.type()}: ${m.text()}`);
	});
	page.on('pageerror', (e) => complaints.push(`page error: ${e.message}`));
	page.on('dialog', (d) => {
		complaints.push(`dialog: ${d.type()} ${d.message()}`);
		d.dismiss().catch(() => {});
	});
	// localStorage is per origin and the pages share a profile: empty it once
	// per page (not per load, so reloads in a test keep what it stored).
	await page.addInitScript(() => {
		if (!sessionStorage.getItem('e2e-fresh')) {
			localStorage.clear();
			sessionStorage.setItem('e2e-fresh', '1');
		}
	});
	// A Content-Security-Policy header on the page itself, when the test asks for one.
	if (test.csp) {
		// Every report, in window.__cspViolations: { directive, sample }.
		await page.addInitScript(() => {
			window.__cspViolations = [];
			const note = (e) => window.__cspViolations.push({ directive: e.violatedDirective, sample: e.sample });
			document.addEventListener('securitypolicyviolation', note, true);
		});
		await page.route('**/*', async (route) => {
			if (route.request().resourceType() !== 'document') return route.continue();
			const response = await route.fetch();
			return route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': test.csp } });
		});
	}
	// Signed out: a session cookie left by an earlier test would sign its user in again.
	if (!test.keepCookies) await context.clearCookies();
	await page.goto(url);
	await waitReady(page);
	const allowed = test.allowLogs ?? [];
	return {
		page,
		complaints,
		assertClean() {
			const unexpected = complaints.filter((c) => !allowed.some((re) => re.test(c)));
			assert.deepEqual(unexpected, [], 'the page logged errors');
		}
	};
}

export async function waitReady(page) {
	await page.waitForSelector('.app[data-bus=ready]');
	// The element itself has no box (its launcher and panel are fixed), so wait for it attached.
	await page.waitForSelector('kaiwa-devtools', { state: 'attached' });
}

/**
 * The panel's event rows, top to bottom, as a person sees them: the list
 * draws only the rows in view, so this scrolls it from the top to the end,
 * reading each screenful, and scrolls back.
 */
export function panelRows(page) {
	return page.evaluate(async () => {
		const root = document.querySelector('kaiwa-devtools').shadowRoot;
		const list = root.querySelector('.list');
		const frames = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
		const rows = new Map();
		const was = list.scrollTop;
		for (let top = 0; ; top += Math.max(22, list.clientHeight - 44)) {
			list.scrollTop = top;
			await frames();
			// Pooled rows are placed by transform: their order is aria-rowindex, not the DOM's.
			const shown = [...root.querySelectorAll('.window .row:not([hidden])')];
			shown.sort((a, b) => a.getAttribute('aria-rowindex') - b.getAttribute('aria-rowindex'));
			for (const row of shown) {
				const id = Number(row.dataset.id);
				if (rows.has(id)) continue;
				const text = (cls) => row.querySelector(cls)?.textContent;
				rows.set(id, {
					id,
					name: text('.name'),
					source: text('.source'),
					status: text('.status'),
					handlers: text('.handlers'),
					duration: text('.duration')
				});
			}
			if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) break;
		}
		list.scrollTop = was;
		await frames();
		return [...rows.values()];
	});
}

/** How many rows the panel's list has (its aria-rowcount, less the header). */
export function rowCount(page) {
	return inPanel(page, '.list')
		.getAttribute('aria-rowcount')
		.then((n) => Number(n) - 1);
}

/** Waits until the panel's list has exactly `count` rows. */
export async function waitForRows(page, count) {
	try {
		await page.waitForFunction(
			(n) =>
				document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.list').getAttribute('aria-rowcount') === String(n + 1),
			count,
			{ timeout: 10_000 }
		);
	} catch {
		const rows = await panelRows(page);
		assert.fail(`expected ${count} rows in the panel, it shows ${rows.length}: ${rows.map((r) => r.name).join(', ')}`);
	}
}

/** Sets one of the panel's filters (domain, name, source, text, user) and waits for the redraw. */
export async function setFilter(page, key, value) {
	const field = inPanel(page, `[data-filter=${key}]`);
	if (key === 'domain' || key === 'name' || key === 'source') await field.selectOption(value);
	else await field.fill(value);
	await settle(page);
}

/** Waits two animation frames: any redraw the panel scheduled has run. */
export function settle(page) {
	return page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

/** The bus history, JSON-shaped (timestamps and Dates as ISO strings). */
export function busHistory(page) {
	return page.evaluate(() => JSON.parse(JSON.stringify(window.kaiwaBus.getEventHistory())));
}

/** A locator inside the panel (Playwright's CSS pierces its open shadow root). */
export const inPanel = (page, selector) => page.locator(`kaiwa-devtools ${selector}`);

/** The detail pane's text. */
export const detailText = (page) => inPanel(page, '.detail').innerText();

/**
 * Clicks the row of record `id`. The list's rows are pooled and refilled as
 * it scrolls, so the row is first brought well inside the view (and the
 * redraw awaited): the click cannot land on a row being refilled.
 */
export async function clickRow(page, id) {
	await page.evaluate(async (wanted) => {
		const root = document.querySelector('kaiwa-devtools').shadowRoot;
		const list = root.querySelector('.list');
		const frames = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
		const find = () => root.querySelector(`.window .row[data-id="${wanted}"]:not([hidden])`);
		for (let top = 0; !find(); top += Math.max(22, list.clientHeight - 44)) {
			if (top > list.scrollHeight) throw new Error(`the panel has no row for record ${wanted}`);
			list.scrollTop = top;
			await frames();
		}
		const fromTop = Number(find().getAttribute('aria-rowindex')) - 2;
		list.scrollTop = Math.max(0, (fromTop - 2) * 22);
		await frames();
	}, id);
	await inPanel(page, `.window .row[data-id="${id}"]:not([hidden])`).click();
}

export const USER = 'user-yuki';

/** What the click-through emits, in order: [name, status]. */
export const FLOW = [
	['auth.user.login', 'delivered'],
	['analytics.feature.used', 'delivered'], // conversation reacts to the login (the seed's example)
	['conversation.started', 'delivered'],
	['conversation.message.sent', 'delivered'], // "Hola, me gustan los gatos"
	['vocabulary.word.encountered', 'delivered'], // hola
	['vocabulary.word.encountered', 'delivered'], // gatos
	['conversation.message.sent', 'delivered'], // the assistant's reply
	['audio.recording.started', 'delivered'],
	['audio.recording.stopped', 'delivered'],
	['audio.transcription.completed', 'delivered'],
	['vocabulary.word.encountered', 'delivered'], // español
	['vocabulary.word.encountered', 'delivered'], // estudio
	['audio.recording.started', 'delivered'],
	['audio.recording.stopped', 'delivered'],
	['audio.transcription.completed', 'failed'], // noisy: vocabulary's async handler rejects
	['subscription.created', 'delivered'],
	['auth.subscription.updated', 'delivered'], // auth reacts: free -> pro
	['conversation.ended', 'delivered'],
	['auth.user.login', 'rejected'] // the lab's invalid payload
];

/** The console error the bus logs for the noisy transcript's failing handler. */
export const NOISY_HANDLER_ERROR =
	/^console\.error: Event handler error for audio\.transcription\.completed: Error: transcript confidence 0\.31/;

/** Clicks through every feature of the demo, as FLOW lists. */
export async function clickThrough(page) {
	const button = (name) => page.getByRole('button', { name, exact: true });
	await button('Sign in').click();
	await button('Start conversation').click();
	await button('Send').click();
	await page.locator('li.message.assistant').waitFor();
	await button('Record').click();
	await button('Stop recording').click();
	await page.getByText('Estudio español cada día').waitFor();
	await page.getByLabel('Noisy room').check();
	await button('Record').click();
	await button('Stop recording').click();
	await button('Get Pro').click();
	await page.locator('[data-testid=tier]', { hasText: /^pro$/ }).waitFor();
	await button('End conversation').click();
	await button('Send an invalid payload').click();
	await page.getByText('Rejected by the schema:').waitFor();
	await waitForRows(page, FLOW.length);
	// The failure comes a microtask after the emit: wait for the redraw.
	await page.waitForFunction(() => document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.row[data-status=failed]'));
}

/**
 * Counts the page's requestAnimationFrame calls from now on: the panel is
 * the only part of the demo that asks for frames.
 */
export async function countFrames(page) {
	await page.evaluate(() => {
		window.__frames = 0;
		const raf = window.requestAnimationFrame.bind(window);
		window.requestAnimationFrame = (callback) => {
			window.__frames++;
			return raf(callback);
		};
	});
	return () => page.evaluate(() => window.__frames);
}

/** Counts DOM changes in the panel's shadow root from now on. */
export async function countMutations(page) {
	await page.evaluate(() => {
		window.__mutations = 0;
		window.__observer?.disconnect();
		window.__observer = new MutationObserver((list) => {
			window.__mutations += list.length;
		});
		window.__observer.observe(document.querySelector('kaiwa-devtools').shadowRoot, {
			subtree: true,
			childList: true,
			characterData: true,
			attributes: true
		});
	});
	return () => page.evaluate(() => new Promise((done) => setTimeout(() => done(window.__mutations), 0)));
}

/** Emits `count` valid analytics events from the page, as console code would. */
export function emitMetrics(page, count, metric = 'e2e') {
	return page.evaluate(
		([n, name]) => {
			for (let i = 0; i < n; i++) {
				window.kaiwaBus.emit('analytics.performance.metric', {
					sessionId: 'e2e',
					metric: name,
					value: i,
					unit: 'count',
					timestamp: new Date()
				});
			}
		},
		[count, metric]
	);
}
