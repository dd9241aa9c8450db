// End-to-end tests of what the devtools panel does to a bus (issue 22), in
// headless Chromium on tests/e2e/buses.html (the built package, pkg/,
// served from the repo root), with a real kaiwa-relay where a relay bus is
// involved (target/debug/kaiwa-relay, `cargo build -p kaiwa-relay`):
//   the Emit view's form for every descriptor kind, its JSON view, the
//   issues the bus raises as you type, Emit on a memory and a relay bus;
//   Edit and emit again, Copy as code; Replay of an export at the recorded
//   pace, faster and stepwise, with nothing published; Compare; the
//   keyboard routes; the grid a screen reader reads; an axe-core audit.
//   node tests/e2e/act.test.mjs [name filter]
// Also runs tests/e2e/edges.test.mjs (issue 25's panel items). Prints one
// line per test and `# panel-act: N passed, N failed`; exits 1 on a failure
// or if no test ran. Screenshots go to test-output/e2e-act/; with
// KAIWA_DOC_SHOTS=1 the Emit and Replay ones go to docs/images/ too.

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { runBrowserSuite } from '../../scripts/lib/browser-suite.mjs';
import { startRelay } from '../relay-js/servers.js';
import { tests as edges } from './edges.test.mjs';
import { SHOTS, openPage, panel, panelText, shadowEval, until } from './panel-page.mjs';

mkdirSync(SHOTS, { recursive: true });
const DOC_SHOTS = process.env.KAIWA_DOC_SHOTS === '1';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// A screenshot of the panel, into docs/images/ as well with KAIWA_DOC_SHOTS=1
// (then of the panel alone, `forDocs` px tall, its views scrolled to their top).
async function shot(page, name, forDocs = 0) {
	if (forDocs) {
		await page.evaluate((size) => window.panel.configure({ size }), forDocs);
		await shadowEval(page, (root) => {
			root.activeElement?.blur();
			for (const el of root.querySelectorAll('.emit > div, .replay')) el.scrollTop = 0;
		});
	}
	await page.screenshot({
		path: `${SHOTS}/${name}`,
		clip: forDocs ? { x: 0, y: 800 - forDocs, width: 1280, height: forDocs } : undefined
	});
	if (forDocs && DOC_SHOTS) {
		mkdirSync('docs/images', { recursive: true });
		copyFileSync(`${SHOTS}/${name}`, `docs/images/${name}`);
	}
}

// Every descriptor kind, each once, two of them optional.
const ALL_KINDS = {
	name: 'form.all',
	version: '1.0.0',
	description: 'every descriptor kind',
	payload: {
		text: 'string',
		count: 'number',
		flag: 'boolean',
		at: 'Date',
		tier: "'free' | 'pro'",
		tags: 'string[]',
		meta: 'object',
		extra: 'any',
		note: 'string?',
		until: 'Date?'
	}
};

/** A bus with ALL_KINDS, a handler that keeps what it gets, the panel mounted, the Emit view open. */
async function emitPage(context, url, options = {}) {
	const page = await openPage(context, url);
	await page.evaluate(
		({ schema, options }) => {
			const bus = new window.kaiwa.EventBus(options);
			bus.registerSchema(schema);
			window.bus = bus;
			window.got = [];
			bus.on('*', (payload, meta) => window.got.push({ name: meta.name, source: meta.source, payload }));
			window.panel = window.kaiwa.mountDevtools(bus, { open: true, storageKey: false });
		},
		{ schema: ALL_KINDS, options }
	);
	await panel(page, '[data-tab=emit]').click();
	return page;
}

const emitName = (page) => panel(page, '.emit .pick input');
const field = (page, name) => panel(page, `.emit .field[data-field="${name}"]`);
const jsonView = (page) => panel(page, '.emit textarea.json');
const issues = (page) => panel(page, '.emit .issues-live li').allTextContents();

test('emit: the form has an editor for every descriptor kind, the JSON view follows it, and Emit sends it as the panel', async ({
	context,
	url
}) => {
	const page = await emitPage(context, url);
	// The panel asks the bus itself: count its validate calls.
	await page.evaluate(() => {
		const validate = window.bus.validate.bind(window.bus);
		window.validations = 0;
		window.bus.validate = (...args) => (window.validations++, validate(...args));
	});
	await emitName(page).fill('form.all');
	const kinds = await panel(page, '.emit .field').evaluateAll((rows) =>
		rows.map((row) => {
			const controls = [...row.querySelectorAll('input:not(.include), select, textarea, button')].map((c) =>
				c.tagName === 'INPUT' ? `input:${c.type}` : c.tagName.toLowerCase()
			);
			return `${row.dataset.field}=${controls.join('+')}${row.querySelector('input.include') ? ' (optional)' : ''}`;
		})
	);
	assert.deepEqual(kinds, [
		'text=input:text',
		'count=input:number',
		'flag=input:checkbox',
		'at=input:datetime-local+button',
		'tier=select',
		'tags=button',
		'meta=textarea',
		'extra=textarea',
		'note=input:text (optional)',
		'until=input:datetime-local+button (optional)'
	]);
	assert.deepEqual(await field(page, 'tier').locator('option').allTextContents(), ['"free"', '"pro"']);
	// Empty, the number is left out: the bus says so.
	assert.ok((await issues(page)).includes('count: expected number, received undefined'), `${await issues(page)}`);

	await field(page, 'text').locator('input').fill('hello');
	await field(page, 'count').locator('input').fill('42');
	await field(page, 'flag').locator('input[type=checkbox]').check();
	await field(page, 'at').locator('input').fill('2024-05-06T07:08:09.010');
	await field(page, 'tier').locator('select').selectOption('pro');
	await field(page, 'tags').getByRole('button', { name: 'Add item' }).click();
	await field(page, 'tags').locator('li input').nth(0).fill('a');
	await field(page, 'tags').getByRole('button', { name: 'Add item' }).click();
	await field(page, 'tags').locator('li input').nth(1).fill('b');
	await field(page, 'meta').locator('textarea').fill('{"k": 1}');
	await field(page, 'extra').locator('textarea').fill('[1, 2]');
	await field(page, 'note').locator('input[type=text]').fill('left in');
	assert.equal(await field(page, 'note').locator('input.include').isChecked(), true, 'typing in an optional field includes it');
	assert.equal(await field(page, 'until').locator('input.include').isChecked(), false);

	const at = await page.evaluate(() => new Date('2024-05-06T07:08:09.010').toISOString());
	const expected = {
		text: 'hello',
		count: 42,
		flag: true,
		at,
		tier: 'pro',
		tags: ['a', 'b'],
		meta: { k: 1 },
		extra: [1, 2],
		note: 'left in'
	};
	assert.deepEqual(JSON.parse(await jsonView(page).inputValue()), expected, 'the JSON view is the form');
	assert.deepEqual(await issues(page), []);
	assert.equal(await panelText(page, '.emit .verdict'), '✓ The bus accepts this payload.');
	assert.ok((await page.evaluate(() => window.validations)) >= 12, 'the issues come from bus.validate, at each edit');
	await shot(page, 'devtools-emit.png', 640);

	await panel(page, '[data-action=emit]').click();
	await page.waitForFunction(() => window.got.length === 1);
	const got = await page.evaluate(() => {
		const [{ name, source, payload }] = window.got;
		const record = window.bus.getEventHistory().at(-1);
		return {
			name,
			source,
			at: payload.at instanceof Date ? payload.at.toISOString() : typeof payload.at,
			payload: JSON.parse(JSON.stringify(payload)),
			record: { source: record.source, status: record.status, id: record.id }
		};
	});
	assert.deepEqual(got.payload, expected);
	assert.equal(got.at, at, 'a Date field is emitted as a Date');
	assert.equal(got.source, 'devtools', "the handler's meta.source");
	assert.deepEqual(got.record, { source: 'devtools', status: 'delivered', id: got.record.id });
	assert.equal(await panelText(page, '.emit .result'), `✓ #${got.record.id} delivered to 1 handler`);
	// The list shows where it came from.
	await panel(page, '[data-tab=events]').click();
	await panel(page, `.window .row[data-id="${got.record.id}"][data-source=devtools]`).waitFor();
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('emit: the JSON view drives the form; a value the form cannot hold is kept and the bus names the issue', async ({ context, url }) => {
	const page = await emitPage(context, url);
	await emitName(page).fill('form.all');
	const payload = {
		text: 't',
		count: 'many',
		flag: false,
		at: '2024-01-02T03:04:05.006Z',
		tier: 'gold',
		tags: ['x'],
		meta: {},
		extra: null,
		until: '2025-01-01T00:00:00.000Z'
	};
	await jsonView(page).fill(JSON.stringify(payload));
	assert.equal(await field(page, 'text').locator('input').inputValue(), 't');
	assert.equal(
		await field(page, 'at').locator('input').inputValue(),
		await page.evaluate(() => {
			const d = new Date('2024-01-02T03:04:05.006Z');
			const p = (n, w = 2) => String(n).padStart(w, '0');
			return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
		})
	);
	assert.equal(
		await field(page, 'until').locator('input.include').isChecked(),
		true,
		'an optional field present in the JSON is included'
	);
	assert.match(await field(page, 'count').locator('.note').textContent(), /^kept as "many": edit it in the JSON$/);
	assert.equal(await field(page, 'tier').locator('select').inputValue(), 'gold');
	// The issues are exactly what bus.validate says of the same payload.
	const own = await page.evaluate((p) => {
		const value = { ...p, at: new Date(p.at), until: new Date(p.until) };
		return window.bus.validate('form.all', value).issues.map((i) => `${i.path}: expected ${i.expected}, received ${i.received}`);
	}, payload);
	assert.ok(own.length === 2, `the case has two issues: ${own}`);
	assert.deepEqual(await issues(page), own);
	assert.match(await panelText(page, '.emit .verdict'), /^⊘ The bus would refuse it: 2 issues\.$/);
	// Bad JSON: said, and Emit waits.
	await jsonView(page).fill('{"text": ');
	assert.match((await issues(page))[0], /^\(JSON\): not JSON/);
	assert.equal(await panel(page, '[data-action=emit]').isDisabled(), true);
	// Fixed in the form: the JSON follows again.
	await jsonView(page).fill(JSON.stringify({ ...payload, count: 1, tier: 'free' }));
	await field(page, 'count').locator('input').fill('7');
	assert.equal(JSON.parse(await jsonView(page).inputValue()).count, 7);
	assert.deepEqual(await issues(page), []);
	// Emitted with the issues left: refused, recorded as the panel's, and said.
	await field(page, 'tier').locator('select').selectOption('free');
	await jsonView(page).fill(JSON.stringify({ ...payload, count: 1 }));
	await panel(page, '[data-action=emit]').click();
	const last = await page.evaluate(() => {
		const r = window.bus.getEventHistory().at(-1);
		return { id: r.id, status: r.status, source: r.source };
	});
	assert.deepEqual(last, { id: last.id, status: 'rejected', source: 'devtools' });
	assert.match(await panelText(page, '.emit .result'), new RegExp(`^⊘ #${last.id} refused: ValidationError: .*tier`));
	assert.deepEqual(await page.evaluate(() => window.got.length), 0, 'no handler ran');
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('emit: a free name in development mode is delivered; a strict bus refuses it, and the panel says why before and after', async ({
	context,
	url
}) => {
	const page = await emitPage(context, url);
	await emitName(page).fill('panel.free.name');
	assert.equal(await panelText(page, '.emit .fields'), 'No schema: write the payload as JSON.');
	await jsonView(page).fill('{"x": 1}');
	assert.equal(await panelText(page, '.emit .verdict'), 'No schema: the bus delivers it as it is (development mode).');
	await panel(page, '[data-action=emit]').click();
	await page.waitForFunction(() => window.got.length === 1);
	assert.deepEqual(await page.evaluate(() => window.got[0]), { name: 'panel.free.name', source: 'devtools', payload: { x: 1 } });

	await page.evaluate(() => {
		window.strict = new window.kaiwa.EventBus({ mode: 'strict' });
		window.panel.bus = window.strict;
	});
	await panel(page, '[data-tab=emit]').click();
	await emitName(page).fill('panel.free.name');
	await jsonView(page).fill('{"x": 1}');
	assert.equal(await panelText(page, '.emit .verdict'), 'No schema: the bus refuses it (strict mode).');
	await panel(page, '[data-action=emit]').click();
	const record = await page.evaluate(() => window.strict.getEventHistory().at(-1));
	assert.equal(record.status, 'rejected');
	assert.equal(record.source, 'devtools');
	assert.match(await panelText(page, '.emit .result'), new RegExp(`^⊘ #${record.id} refused: UnknownEventError: .*strict mode`));
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('emit on a relay bus: the event goes to the relay and another client gets it; the relay refusing it is shown', async ({
	context,
	url
}) => {
	const relay = await startRelay({ insecure: true, mode: 'strict' });
	const page = await openPage(context, url);
	const other = await openPage(context, url);
	try {
		const relayBus = (name) =>
			`window.${name} = window.kaiwa.createRelayBus({ url: ${JSON.stringify(relay.url)}, token: null, share: false });`;
		await other.evaluate(`${relayBus('bus')} window.got = []; window.bus.on('*', (p, meta) => window.got.push(meta.name));`);
		await page.evaluate(`${relayBus('bus')} window.panel = window.kaiwa.mountDevtools(window.bus, { open: true, storageKey: false });`);
		await page.waitForFunction(() => window.bus.connection.state === 'open');
		await other.waitForFunction(() => window.bus.connection.state === 'open');
		await panel(page, '[data-tab=emit]').click();
		await emitName(page).fill('auth.user.logout');
		await panel(page, '.emit .field[data-field=userId] input').fill('from-the-panel');
		await panel(page, '[data-action=emit]').click();
		await other.waitForFunction(() => window.got.includes('auth.user.logout'));
		await page.waitForFunction(() =>
			/stored by the relay at offset/.test(
				document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.emit .result').textContent
			)
		);
		assert.equal(await page.evaluate(() => window.bus.getEventHistory().at(-1).source), 'devtools');

		// Known here (development mode), unknown to the strict relay: refused there.
		await emitName(page).fill('panel.only.here');
		await jsonView(page).fill('{"x": 1}');
		await panel(page, '[data-action=emit]').click();
		await page.waitForFunction(() =>
			/refused by the relay/.test(document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.emit .result').textContent)
		);
		assert.match(await panelText(page, '.emit .result'), /^⊘ #\d+ delivered here, but refused by the relay \(\w+\): .+/);
		assert.deepEqual(await other.evaluate(() => window.got), ['auth.user.logout'], 'the refused event reached no one else');
		// The relay bus warns of a refusal nobody awaited: the panel's own emit is shown instead.
		assert.deepEqual(
			page.complaints.filter((c) => !/^console\.warning: kaiwa-bus: the relay refused panel\.only\.here \(unknown\)/.test(c)),
			[]
		);
	} finally {
		await page.close();
		await other.close();
		await relay.kill();
	}
});

test('Edit and emit again fills the form from a record; Copy as code gives the emit line, Dates included, for live and imported records', async ({
	context,
	url
}) => {
	const page = await openPage(context, url);
	await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
	await page.evaluate(() => {
		window.bus = new window.kaiwa.EventBus();
		window.panel = window.kaiwa.mountDevtools(window.bus, { open: true, storageKey: false });
		window.bus.emit('auth.user.login', {
			userId: 'u1',
			email: 'u1@example.com',
			tier: 'pro',
			timestamp: new Date('2024-02-03T04:05:06.789Z')
		});
	});
	await panel(page, '.window .row[data-id="1"]:not([hidden])').click();
	await panel(page, '.detail [data-action=copy-code]').click();
	await page.waitForFunction(() =>
		/^Copied/.test(document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.detail .copied').textContent)
	);
	const code = await page.evaluate(() => navigator.clipboard.readText());
	assert.equal(
		code,
		"bus.emit('auth.user.login', {\n\tuserId: 'u1',\n\temail: 'u1@example.com',\n\ttier: 'pro',\n\ttimestamp: new Date('2024-02-03T04:05:06.789Z')\n});"
	);
	// The line runs, and makes the same event again.
	const again = await page.evaluate((line) => {
		new Function('bus', line)(window.bus);
		const [a, b] = window.bus.getEventHistory().slice(-2);
		return {
			same: JSON.stringify(a.payload) === JSON.stringify(b.payload),
			date: b.payload.timestamp instanceof Date,
			status: b.status
		};
	}, code);
	assert.deepEqual(again, { same: true, date: true, status: 'delivered' });

	await panel(page, '.window .row[data-id="1"]:not([hidden])').click();
	await panel(page, '.detail [data-action=prefill]').click();
	assert.equal(await panel(page, '[data-tab=emit]').getAttribute('aria-selected'), 'true');
	assert.equal(await emitName(page).inputValue(), 'auth.user.login');
	assert.equal(await field(page, 'userId').locator('input').inputValue(), 'u1');
	assert.equal(await field(page, 'tier').locator('input').inputValue(), 'pro');
	await field(page, 'userId').locator('input').fill('u2');
	await panel(page, '[data-action=emit]').click();
	const edited = await page.evaluate(() => {
		const r = window.bus.getEventHistory().at(-1);
		return { ...r.payload, timestamp: r.payload.timestamp.toISOString(), source: r.source };
	});
	assert.deepEqual(edited, {
		userId: 'u2',
		email: 'u1@example.com',
		tier: 'pro',
		timestamp: '2024-02-03T04:05:06.789Z',
		source: 'devtools'
	});

	// An imported record has its Dates as ISO strings: the schema makes them Dates again.
	await page.evaluate(() => window.panel.importJSON(window.panel.exportJSON(), 'report.json'));
	await panel(page, '[data-tab=events]').click();
	await panel(page, '.window .row[data-id="1"]:not([hidden])').click();
	await panel(page, '.detail [data-action=copy-code]').click();
	await page.waitForFunction(() =>
		/^Copied/.test(document.querySelector('kaiwa-devtools').shadowRoot.querySelector('.detail .copied').textContent)
	);
	assert.equal(await page.evaluate(() => navigator.clipboard.readText()), code);
	assert.deepEqual(page.complaints, []);
	await page.close();
});

// An export of three logouts `gap` ms apart, a relay gap between them (not an event: skipped).
function bugReport(gap = 400, t0 = Date.parse('2024-03-01T10:00:00.000Z')) {
	const record = (id, name, at, payload, extra = {}) => ({
		id,
		name,
		payload,
		timestamp: new Date(t0 + at).toISOString(),
		status: 'delivered',
		handlerCount: 1,
		durationMs: null,
		errors: [],
		issues: [],
		...extra
	});
	const logout = (id, at) => record(id, 'auth.user.logout', at, { userId: `user-${id}`, timestamp: new Date(t0 + at).toISOString() });
	return JSON.stringify({
		format: 'kaiwa-bus/history',
		version: 1,
		exportedAt: new Date(t0 + 1000).toISOString(),
		records: [
			logout(1, 0),
			record(2, 'kaiwa.relay.gap', 1, { epoch: 'e', offset: '9' }, { source: 'remote' }),
			logout(3, gap),
			logout(4, 2 * gap)
		]
	});
}

const replayed = (page) =>
	page.evaluate(() =>
		window.bus
			.getEventHistory()
			.filter((r) => r.source === 'replay')
			.map((r) => ({ userId: r.payload.userId, date: r.payload.timestamp instanceof Date, time: r.timestamp.getTime() }))
	);
const replayStatus = (page) => panelText(page, '.replay-status');

test('replay an export into a relay bus: stepwise, at the recorded pace, 10× faster, paused and stopped; nothing reaches the relay unless "also publish"', async ({
	context,
	url
}) => {
	const relay = await startRelay({ insecure: true });
	const page = await openPage(context, url);
	const other = await openPage(context, url);
	try {
		const relayBus = `window.bus = window.kaiwa.createRelayBus({ url: ${JSON.stringify(relay.url)}, token: null, share: false });`;
		await other.evaluate(`${relayBus} window.got = []; window.bus.on('*', (p) => window.got.push(p.userId));`);
		await page.evaluate(`${relayBus} window.panel = window.kaiwa.mountDevtools(window.bus, { open: true, storageKey: false });`);
		await page.waitForFunction(() => window.bus.connection.state === 'open');
		await other.waitForFunction(() => window.bus.connection.state === 'open');
		await panel(page, '[data-tab=replay]').click();
		await panel(page, '.replay input[type=file]').setInputFiles({
			name: 'bug-report.json',
			mimeType: 'application/json',
			buffer: Buffer.from(bugReport())
		});
		await until(async () => /^3 events from bug-report\.json: 0 of 3 replayed/.test(await replayStatus(page)), 'the export to load');
		assert.match(await replayStatus(page), /ready\. Not published: the local bus only\.$/);

		// One step: the first event, its Date revived; the cursor on the second.
		await panel(page, '[data-action=replay-step]').click();
		assert.deepEqual(
			(await replayed(page)).map((r) => [r.userId, r.date]),
			[['user-1', true]]
		);
		assert.equal(await panel(page, '.replay-list li[aria-current=step]').getAttribute('data-index'), '1');
		assert.match(await panel(page, '.replay-list li[data-index="0"] .outcome').textContent(), /^✓ replayed as #\d+$/);
		assert.match(await replayStatus(page), /1 of 3 replayed \(1 accepted, 0 refused\), paused/);
		await shot(page, 'devtools-replay.png', 300);

		// Play on at the recorded pace: the next two 400 ms apart.
		await panel(page, '[data-action=replay-play]').click();
		await until(async () => (await replayed(page)).length === 3, 'the replay to end');
		let times = (await replayed(page)).map((r) => r.time);
		assert.ok(times[2] - times[1] >= 380, `at the recorded pace: ${times[2] - times[1]} ms apart`);
		assert.match(await replayStatus(page), /3 of 3 replayed \(3 accepted, 0 refused\), done/);

		// Stop puts the cursor back; 10× faster: 40 ms apart, sooner than at the recorded pace.
		await panel(page, '[data-action=replay-stop]').click();
		assert.match(await replayStatus(page), /0 of 3 replayed/);
		await panel(page, '[data-action=replay-speed]').selectOption('10');
		await panel(page, '[data-action=replay-play]').click();
		await until(async () => (await replayed(page)).length === 6, 'the fast replay');
		times = (await replayed(page)).map((r) => r.time);
		assert.ok(
			times[5] - times[3] >= 75 && times[5] - times[3] < times[2] - times[0],
			`10× faster: ${times[5] - times[3]} ms from first to last`
		);

		// A report of events 3 s apart, paused after the first: nothing more until Play.
		await panel(page, '[data-action=replay-speed]').selectOption('1');
		await panel(page, '.replay input[type=file]').setInputFiles({
			name: 'slow.json',
			mimeType: 'application/json',
			buffer: Buffer.from(bugReport(3000))
		});
		await until(async () => /^3 events from slow\.json/.test(await replayStatus(page)), 'the second export to load');
		await panel(page, '[data-action=replay-play]').click();
		await until(async () => (await replayed(page)).length === 7, 'the first of the slow replay');
		await panel(page, '[data-action=replay-play]').click(); // Pause
		assert.match(await replayStatus(page), /1 of 3 replayed .*paused/);
		await page.waitForTimeout(3500); // past the recorded gap: a running replay would have gone on
		assert.equal((await replayed(page)).length, 7, 'paused, nothing is replayed');
		await panel(page, '[data-action=replay-play]').click();
		await until(async () => (await replayed(page)).length === 8, 'the replay to go on');
		await panel(page, '[data-action=replay-play]').click(); // Pause again
		await panel(page, '.replay input[type=file]').setInputFiles({
			name: 'bug-report.json',
			mimeType: 'application/json',
			buffer: Buffer.from(bugReport())
		});

		// None of it went to the relay. The control: an emit from the panel does.
		await panel(page, '[data-tab=emit]').click();
		await emitName(page).fill('auth.user.logout');
		await panel(page, '.emit .field[data-field=userId] input').fill('control');
		await panel(page, '[data-action=emit]').click();
		await other.waitForFunction(() => window.got.includes('control'));
		assert.deepEqual(await other.evaluate(() => window.got), ['control'], 'the replayed events were not published');

		// "also publish": the replay goes through the relay bus's own emit.
		await panel(page, '[data-tab=replay]').click(); // the cursor at the start of bug-report.json
		await panel(page, '[data-action=replay-publish]').check();
		await panel(page, '[data-action=replay-step]').click();
		await other.waitForFunction(() => window.got.includes('user-1'));
		await panel(page, '[data-action=replay-step]').click();
		await other.waitForFunction(() => window.got.includes('user-3'));
		assert.deepEqual(await other.evaluate(() => window.got), ['control', 'user-1', 'user-3']);
		assert.equal(await page.evaluate(() => window.bus.getEventHistory().at(-1).source), 'replay');
		assert.deepEqual(page.complaints, []);
	} finally {
		await page.close();
		await other.close();
		await relay.kill();
	}
});

test('records marked in the list (Ctrl+click, Space) are compared side by side, differences marked by sign, and replayed', async ({
	context,
	url
}) => {
	const page = await openPage(context, url);
	await page.evaluate(() => {
		window.bus = new window.kaiwa.EventBus();
		window.panel = window.kaiwa.mountDevtools(window.bus, { open: true, storageKey: false });
		window.bus.emit('compare.me', { user: { id: 'u1', roles: ['a'] }, tier: 'free', same: 1 });
		window.bus.emit('compare.me', { user: { id: 'u1', roles: ['a', 'b'] }, tier: 'pro', same: 1, added: true });
	});
	await panel(page, '.window .row[data-id="1"]:not([hidden])').click({ modifiers: ['Control'] });
	await panel(page, '.window .row[data-id="2"]:not([hidden])').click(); // selected
	await panel(page, '.list').press(' '); // Space marks the selected row
	assert.equal(await panel(page, '.window .row[data-marked]').count(), 2);
	assert.equal(await panelText(page, '.window .row[data-id="1"]:not([hidden]) .mark'), '◆');
	assert.match(await panelText(page, '.footer .marks'), /^2 marked/);
	await panel(page, '[data-action=compare-marked]').click();
	const rows = await panel(page, '.diff tbody tr').evaluateAll((trs) =>
		trs.map((tr) => [tr.dataset.path, tr.dataset.diff, tr.cells[0].textContent])
	);
	assert.deepEqual(rows, [
		['(event)', 'same', '=same'],
		['(status)', 'same', '=same'],
		['user.id', 'same', '=same'],
		['user.roles[0]', 'same', '=same'],
		['tier', 'changed', '≠changed'],
		['same', 'same', '=same'],
		['user.roles[1]', 'added', '+only in the second'],
		['added', 'added', '+only in the second']
	]);
	assert.equal(await panelText(page, '.compare [role=status]'), '3 differences in 8 fields.');
	await panel(page, '#kd-compare-only').check();
	assert.equal(await panel(page, '.diff tbody tr').count(), 3);
	await shot(page, 'devtools-compare.png');

	await panel(page, '[data-tab=replay]').click();
	await panel(page, '[data-action=replay-marked]').click();
	await panel(page, '[data-action=replay-speed]').selectOption('Infinity');
	await panel(page, '[data-action=replay-play]').click();
	await until(
		async () => /2 of 2 replayed \(2 accepted, 0 refused\), done/.test(await replayStatus(page)),
		'the marked records to replay'
	);
	const sources = await page.evaluate(() => window.bus.getEventHistory().map((r) => r.source ?? 'local'));
	assert.deepEqual(sources, ['local', 'local', 'replay', 'replay']);
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('keyboard: / focuses the search, arrows and Enter move and open, Space marks, Escape closes, arrows move between tabs', async ({
	context,
	url
}) => {
	const page = await openPage(context, url);
	await page.evaluate(() => {
		window.bus = new window.kaiwa.EventBus();
		window.panel = window.kaiwa.mountDevtools(window.bus, { open: true, storageKey: false });
		for (let i = 1; i <= 3; i++) window.bus.emit('key.board', { i });
	});
	await panel(page, '.window .row[data-id="3"]:not([hidden])').waitFor();
	const focused = () =>
		shadowEval(page, (root) => {
			const el = root.activeElement;
			return el
				? `${el.tagName.toLowerCase()}${el.className ? `.${el.className.split(' ')[0]}` : ''}${el.dataset.tab ? `[${el.dataset.tab}]` : ''}`
				: 'none';
		});
	await panel(page, '.list').focus();
	await page.keyboard.press('/');
	assert.equal(await focused(), 'input', 'the search');
	assert.equal(await shadowEval(page, (root) => root.activeElement.dataset.filter), 'text');
	await page.keyboard.type('key');
	assert.equal(await panel(page, '[data-filter=text]').inputValue(), 'key', '/ typed into the search is text');
	await panel(page, '.list').focus();
	await page.keyboard.press('ArrowDown');
	await page.keyboard.press('ArrowDown');
	assert.match(await panelText(page, '.detail h3'), /#2$/);
	await page.keyboard.press('Enter');
	assert.equal(await focused(), 'div.detail', 'Enter opens the detail');
	await page.keyboard.press('Escape');
	assert.equal(await focused(), 'div.list', 'Escape comes back to the list');
	await page.keyboard.press(' ');
	assert.equal(await panel(page, '.window .row[data-id="2"][data-marked]').count(), 1, 'Space marks');
	// Tabs: one stop in the tab order, arrows between them.
	await panel(page, '[data-tab=events]').focus();
	await page.keyboard.press('ArrowRight');
	assert.equal(await focused(), 'button[stats]');
	assert.equal(await panel(page, '.stats').isVisible(), true);
	await page.keyboard.press('End');
	assert.equal(await focused(), 'button[compare]');
	await page.keyboard.press('Escape');
	assert.equal(await focused(), 'button[events]', 'Escape leaves a view for the Events');
	await panel(page, '.list').focus();
	await page.keyboard.press('Escape');
	assert.equal(await panel(page, '.panel').isVisible(), false, 'Escape on the list collapses the panel');
	assert.equal(await focused(), 'button.launcher');
	await page.keyboard.press('Enter');
	assert.equal(await panel(page, '.panel').isVisible(), true, 'and the launcher opens it again');
	assert.deepEqual(page.complaints, []);
	await page.close();
});

test('screen readers: the list is a grid with its row count, the selection its active row, statuses in words and signs', async ({
	context,
	url
}) => {
	const page = await openPage(context, url);
	await page.evaluate(() => {
		window.bus = new window.kaiwa.EventBus();
		window.panel = window.kaiwa.mountDevtools(window.bus, { open: true, storageKey: false });
		window.bus.on('sr.failed', () => {
			throw new Error('boom');
		});
		window.bus.emit('sr.ok', {});
		window.bus.emit('sr.failed', {});
		try {
			window.bus.emit('auth.user.login', { userId: 1 });
		} catch {}
	});
	await panel(page, '.window .row[data-id="3"]:not([hidden])').waitFor();
	const grid = panel(page, '.list');
	assert.equal(await grid.getAttribute('role'), 'grid');
	assert.equal(await grid.getAttribute('aria-rowcount'), '4', 'three rows and the header');
	assert.equal(await grid.getAttribute('aria-label'), 'Events, newest first');
	const statuses = await panel(page, '.window .row .status').allTextContents();
	assert.deepEqual(statuses.sort(), ['⊘ rejected', '✓ delivered', '✗ failed'], 'each status in a sign and a word, not a colour alone');
	await panel(page, '.window .row[data-id="2"]:not([hidden])').click();
	const active = await grid.getAttribute('aria-activedescendant');
	assert.equal(await panel(page, `#${active}`).getAttribute('data-id'), '2');
	assert.equal(await panel(page, `#${active}`).getAttribute('aria-selected'), 'true');
	assert.equal(await panel(page, `#${active}`).getAttribute('aria-rowindex'), '3');
	assert.deepEqual(
		page.complaints.filter((c) => !/boom/.test(c)),
		[]
	);
	await page.close();
});

// axe-core (npm) in the page: the panel's serious and critical violations.
async function audit(page) {
	return page.evaluate(async () => {
		const { violations } = await window.axe.run({ include: [['kaiwa-devtools']] }, { resultTypes: ['violations'] });
		return violations
			.filter((v) => v.impact === 'serious' || v.impact === 'critical')
			.map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
	});
}

test('axe-core finds no serious or critical violation in the list, detail, statistics, emit form and replay', async ({ context, url }) => {
	const page = await emitPage(context, url);
	await page.addScriptTag({ path: 'node_modules/axe-core/axe.min.js' });
	await page.evaluate(() => {
		window.bus.emit('form.all', { text: 'x', count: 1, flag: true, at: new Date(), tier: 'pro', tags: ['a'], meta: {}, extra: 1 });
		try {
			window.bus.emit('form.all', { text: 1 });
		} catch {}
	});
	// The control: the audit sees into the panel's shadow root.
	await shadowEval(page, (root) =>
		root.querySelector('.toolbar').append(Object.assign(document.createElement('input'), { className: 'planted' }))
	);
	assert.ok(
		(await audit(page)).some((v) => v.startsWith('label (critical)')),
		'an unlabelled input planted in the panel is found'
	);
	await shadowEval(page, (root) => root.querySelector('.planted').remove());

	await emitName(page).fill('form.all');
	await field(page, 'tags').getByRole('button', { name: 'Add item' }).click();
	const states = {};
	states['emit form'] = await audit(page);
	await panel(page, '[data-tab=events]').click();
	states.list = await audit(page);
	await panel(page, '.window .row[data-id="2"]:not([hidden])').click();
	states['detail of a rejected event'] = await audit(page);
	await panel(page, '[data-tab=stats]').click();
	states.statistics = await audit(page);
	await panel(page, '[data-tab=replay]').click();
	await panel(page, '.replay input[type=file]').setInputFiles({
		name: 'bug.json',
		mimeType: 'application/json',
		buffer: Buffer.from(bugReport())
	});
	await panel(page, '[data-action=replay-step]').click();
	states.replay = await audit(page);
	await panel(page, '[data-tab=events]').click();
	await panel(page, '.window .row[data-id="1"]:not([hidden])').click({ modifiers: ['Control'] });
	await panel(page, '.window .row[data-id="2"]:not([hidden])').click({ modifiers: ['Control'] });
	await panel(page, '[data-tab=compare]').click();
	states.compare = await audit(page);
	assert.deepEqual(states, { 'emit form': [], list: [], 'detail of a rejected event': [], statistics: [], replay: [], compare: [] });
	assert.deepEqual(page.complaints, []);
	await page.close();
});

const only = process.argv[2]; // a part of a test's name: run only those
const all = [...tests, ...edges];
await runBrowserSuite('panel-act', only ? all.filter((t) => t.name.includes(only)) : all);
