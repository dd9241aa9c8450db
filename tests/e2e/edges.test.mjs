// The panel's part of issue 25 (hostile round three), in headless
// Chromium on tests/e2e/buses.html; run by tests/e2e/act.test.mjs:
//   a disposed bus: a clear error at mount; disposed while open, a
//     "disposed" state and no uncaught error;
//   an 8 MB string: a preview with its length, and Copy for the whole;
//   look-alike names (zero-width, bidirectional controls) shown visibly;
//   a corrupted saved size; two panels and one Alt+Shift+K.

import assert from 'node:assert/strict';
import { openPage, panel, panelText } from './panel-page.mjs';

export const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('mountDevtools on a disposed bus throws a clear error and adds nothing to the page', async ({ context, url }) => {
	const page = await openPage(context, url);
	const outcome = await page.evaluate(() => {
		const bus = new window.kaiwa.EventBus();
		bus.emit('before.dispose', {});
		bus.dispose();
		try {
			window.kaiwa.mountDevtools(bus);
			return 'mounted';
		} catch (error) {
			return `${error.constructor.name}: ${error.message}`;
		}
	});
	assert.equal(outcome, 'Error: kaiwa-bus devtools: this bus was disposed (bus.dispose()); give the panel a bus in use');
	assert.equal(await page.locator('kaiwa-devtools').count(), 0);
	// Two frames later, nothing has failed either.
	await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('a bus disposed while the panel is open: the panel says so and keeps its records; rows, tabs and views throw nothing', async ({
	context,
	url
}) => {
	const page = await openPage(context, url);
	await page.evaluate(() => {
		window.bus = new window.kaiwa.EventBus();
		window.panel = window.kaiwa.mountDevtools(window.bus, { open: true, storageKey: false });
		for (let i = 0; i < 3; i++) window.bus.emit('auth.user.logout', { userId: `u${i}`, timestamp: new Date() });
	});
	await panel(page, '.window .row[data-id="3"]:not([hidden])').waitFor();
	// The control: before dispose, a row and the statistics work.
	await panel(page, '.window .row[data-id="1"]:not([hidden])').click();
	await panel(page, '[data-tab=stats]').click();
	assert.equal(await panel(page, '.stats tbody tr').count(), 1);
	await panel(page, '[data-tab=events]').click();

	await page.evaluate(() => window.bus.dispose());
	await panel(page, '.window .row[data-id="2"]:not([hidden])').click();
	await page.waitForFunction(() =>
		document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.footer').textContent.includes('disposed')
	);
	assert.match(await panelText(page, '.banner'), /^This bus was disposed \(bus\.dispose\(\)\): the panel shows the 3 events it had kept/);
	assert.equal(await panel(page, '.banner').isVisible(), true);
	assert.match(await panelText(page, '.detail'), /auth\.user\.logout/, 'the record is still shown');
	assert.equal(await panel(page, '.window .row:not([hidden])').count(), 3);
	await panel(page, '[data-tab=stats]').click();
	assert.equal(await panel(page, '.stats tbody tr').count(), 1, 'the statistics of the records kept');
	await panel(page, '[data-tab=emit]').click();
	await panel(page, '.emit .pick input').fill('auth.user.logout');
	assert.equal(await panel(page, '[data-action=emit]').isDisabled(), true);
	await panel(page, '[data-tab=replay]').click();
	await panel(page, '[data-tab=events]').click();
	await panel(page, '[data-action=clear]').click({ force: true });
	assert.equal(await page.evaluate(() => JSON.parse(window.panel.exportJSON()).records.length), 3, 'Export gives what it shows');
	await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
	assert.deepEqual(page.complaints, []);
	// Given a live bus again, the panel is live.
	await page.evaluate(() => {
		window.panel.bus = new window.kaiwa.EventBus();
	});
	await page.waitForFunction(() =>
		document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.footer').textContent.endsWith('live')
	);
	assert.equal(await panel(page, '.banner').isVisible(), false);
	await page.close();
});

test('an 8 MB string shows a preview with its length, and Copy puts the whole string on the clipboard', async ({ context, url }) => {
	const page = await openPage(context, url);
	await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
	await page.evaluate(() => {
		window.bus = new window.kaiwa.EventBus();
		window.panel = window.kaiwa.mountDevtools(window.bus, { open: true, storageKey: false });
		window.huge = 'ab'.repeat(4 * 1024 * 1024);
		window.bus.emit('huge.string', { body: window.huge, small: 'ok' });
	});
	await panel(page, '.window .row[data-id="1"]:not([hidden])').click();
	const detail = await panelText(page, '.detail');
	assert.ok(detail.length < 5000, `the detail pane holds ${detail.length} characters, not 8 million`);
	assert.match(detail, /body: "abab.*…" 8,388,608 characters Copy/);
	assert.match(detail, /small: "ok"/);
	await panel(page, '.detail [data-action=copy-string]').click();
	await page.waitForFunction(() =>
		/^Copied the string/.test(document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.leaf.long .copied').textContent)
	);
	assert.equal(await page.evaluate(async () => (await navigator.clipboard.readText()) === window.huge), true, 'the whole string, copied');
	assert.deepEqual(page.complaints, []);
	await page.close();
});

// The bus, the relay and an import refuse such names (the naming rule); a
// store written before that rule can still hand them back as restored records.
test('names with invisible or look-alike characters are shown visibly: in the list, the name filter and the detail', async ({
	context,
	url
}) => {
	const page = await openPage(context, url);
	const names = ['auth.user.login', 'auth.user.login\u200b', 'auth.user.\u200dlogin', 'auth.\u202euser.login\u202c'];
	await page.evaluate(async (names) => {
		const { MemoryEventStore, PersistentEventBus } = await import('kaiwa-bus/store');
		const store = new MemoryEventStore();
		await store.append(names.map((name) => ({ name, payload: {} })));
		const bus = new PersistentEventBus(new window.kaiwa.EventBus(), store);
		await bus.ready;
		window.panel = window.kaiwa.mountDevtools(bus, { open: true, storageKey: false });
	}, names);
	// Restored records are numbered back from -1, the newest.
	await panel(page, '.window .row[data-id="-1"]:not([hidden])').waitFor();
	const shown = [];
	for (let id = -4; id <= -1; id++) shown.push(await panelText(page, `.window .row[data-id="${id}"]:not([hidden]) .name`));
	assert.deepEqual(shown, ['auth.user.login', 'auth.user.login⟨U+200B⟩', 'auth.user.⟨U+200D⟩login', 'auth.⟨U+202E⟩user.login⟨U+202C⟩']);
	const options = await panel(page, 'select[data-filter=name] option').allTextContents();
	assert.equal(new Set(options).size, options.length, `every menu entry reads differently: ${options}`);
	assert.ok(options.includes('auth.user.login⟨U+200B⟩'));
	// The filter still filters by the real name (set in the page: Playwright's selectOption drops U+200B).
	await page.evaluate((name) => {
		const select = document.querySelector('kaiwa-devtools').shadowRoot.querySelector('select[data-filter=name]');
		select.value = name;
		select.dispatchEvent(new Event('input'));
	}, names[1]);
	await page.waitForFunction(
		() => document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.list').getAttribute('aria-rowcount') === '2'
	);
	await panel(page, '.window .row[data-id="-3"]:not([hidden])').click();
	assert.match(await panelText(page, '.detail'), /auth\.user\.login⟨U\+200B⟩.*⚠ This name holds invisible or look-alike characters/);
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('a corrupted saved size is ignored: the panel keeps its default height', async ({ context, url }) => {
	const page = await openPage(context, url);
	const heights = await page.evaluate(() => {
		const mount = (saved) => {
			localStorage.setItem('kd-test', JSON.stringify(saved));
			const el = window.kaiwa.mountDevtools(new window.kaiwa.EventBus(), { storageKey: 'kd-test' });
			const height = Math.round(el.shadowRoot.querySelector('.panel').getBoundingClientRect().height);
			el.remove();
			return height;
		};
		return [
			mount({ open: true, dock: 'bottom', size: { bottom: 250 } }), // the control: a good size is used
			mount({ open: true, dock: 'bottom', size: { bottom: 'huge' } }),
			mount({ open: true, dock: 'bottom', size: { bottom: null } }),
			mount({ open: true, dock: 'bottom', size: { bottom: -5 } }),
			mount({ open: 'yes', dock: 'top', size: 7 })
		];
	});
	assert.deepEqual(heights, [250, 320, 320, 320, 320]);
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('two panels on one page: one Alt+Shift+K toggles one of them, the one with the focus if either has it', async ({ context, url }) => {
	const page = await openPage(context, url);
	await page.evaluate(() => {
		window.a = window.kaiwa.mountDevtools(new window.kaiwa.EventBus(), { open: true, storageKey: false });
		window.b = window.kaiwa.mountDevtools(new window.kaiwa.EventBus(), { open: true, storageKey: false, dock: 'right' });
	});
	const state = () => page.evaluate(() => [window.a.isOpen, window.b.isOpen]);
	await page.keyboard.press('Alt+Shift+KeyK');
	assert.deepEqual(await state(), [false, true], 'the first panel, alone');
	await page.keyboard.press('Alt+Shift+KeyK');
	assert.deepEqual(await state(), [true, true]);
	await page.evaluate(() => window.b.shadowRoot.querySelector('[data-filter=text]').focus());
	await page.keyboard.press('Alt+Shift+KeyK');
	assert.deepEqual(await state(), [true, false], 'the panel holding the focus');
	assert.deepEqual(page.complaints, []);
	await page.close();
});
