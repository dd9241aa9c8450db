// The demo with its relay (scripts/demo.mjs starts a real kaiwa-relay next to
// the SvelteKit server): two tabs of one user, two users in two browsers,
// the payment webhook, the remote devtools (/devtools, an admin token), and
// the page with the relay stopped. A second browser (its own cookies, tabs'
// channel and locks) is another machine; each test launches the ones it needs.

import assert from 'node:assert/strict';
import { launchChromium } from '../../scripts/lib/chromium.mjs';
import { openDemo, setFilter, panelRows, waitReady } from './helpers.mjs';

export const tests = [];
const test = (name, run, options = {}) => tests.push({ name, run, ...options });

const button = (page, name) => page.getByRole('button', { name, exact: true });
const userOf = (email) => `user-${email.split('@')[0]}`;

/** Signs in with `email` and waits for the relay connection as that user. */
async function signIn(page, email) {
	await page.getByLabel('Email').fill(email);
	await button(page, 'Sign in').click();
	await connected(page, userOf(email));
}

function connected(page, user) {
	return page.locator(`[data-testid=relay-state][data-state=open][data-user="${user}"]`).waitFor({ timeout: 15_000 });
}

/** The page's records of `name`, as `[source, userId, ...]`: source 'local', 'tab' (another tab) or 'remote' (the relay). */
function records(page, name, field = 'userId') {
	return page.evaluate(
		([n, f]) =>
			window.kaiwaBus
				.getEventHistory()
				.filter((r) => r.name === n)
				.map((r) => `${r.source ?? 'local'}:${r.payload[f]}`),
		[name, field]
	);
}

/**
 * Waits for `count` records of `name` on `page`, then for a round trip from
 * `from` (the page whose events, or whose relay, brought them) to `page`, so
 * that any further copy would have come too; returns them all.
 */
async function waitRecords(page, name, count, { from, field } = {}) {
	await page.waitForFunction(([n, c]) => window.kaiwaBus.getEventHistory().filter((r) => r.name === n).length >= c, [name, count], {
		timeout: 15_000
	});
	await roundTrip(from, page);
	return records(page, name, field);
}

let markers = 0;

/**
 * A round trip instead of a pause: once `from`'s outbox is stored at the
 * relay, `from` emits a public notice (audience 'all': over the tabs'
 * channel to its browser's other tabs, through the relay to every signed-in
 * browser) and `to` waits for it. The tabs' channel delivers in order per
 * sender, and the relay in the order it stored the events, so when the
 * marker has come, whatever `from` sent before it (and whatever the relay
 * stored before it) has come too. The markers are notices, so they also
 * show in the "elsewhere" list and the notice line.
 */
async function roundTrip(from, to) {
	const text = `e2e marker ${++markers}`;
	await until(() => from.evaluate(() => window.kaiwaBus.connection.outbox === 0), 'the outbox stored');
	await from.evaluate((t) => window.kaiwaBus.emit('app.notice.posted', { text: t, by: 'e2e', at: new Date() }), text);
	await to.waitForFunction(
		(t) => window.kaiwaBus.getEventHistory().some((r) => r.name === 'app.notice.posted' && r.payload.text === t),
		text,
		{ timeout: 15_000 }
	);
}

async function relayConnections(demo) {
	const text = await (await fetch(`${demo.relay.http}/metrics`)).text();
	return Number(text.match(/^kaiwa_relay_connections (\d+)/m)?.[1]);
}

async function until(check, what, ms = 10_000) {
	const deadline = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}

/** A page of the demo in another browser (`other.context`), signed out. */
async function openOther(other, url, path = '/') {
	const page = await other.context.newPage();
	page.setDefaultTimeout(10_000);
	await page.goto(`${url}${path}`);
	return page;
}

/** Runs `body(page)` with a demo page in another browser signed in as `email`; closes that browser after. */
async function inOtherBrowser(url, email, body) {
	const other = await launchChromium();
	try {
		const page = await openOther(other, url);
		await waitReady(page);
		await signIn(page, email);
		return await body(page);
	} finally {
		await other.close();
	}
}

test("two tabs of one user get each other's events once, over one socket at the relay", async ({ page, context, url, demo }) => {
	await signIn(page, 'aiko@example.com');
	const before = await relayConnections(demo); // the first tab's, and any an earlier test's page left open
	// Every WebSocket the second tab's page creates (Chromium reports it when the page calls `new WebSocket`).
	const sockets = [];
	const watch = (p) => p.on('websocket', (ws) => sockets.push(ws.url()));
	context.on('page', watch);
	const second = await openDemo(context, url, { keepCookies: true }).finally(() => context.off('page', watch)); // the session: signed in as aiko already
	try {
		await connected(second.page, 'user-aiko');
		assert.match(
			await second.page.getByTestId('relay-state').innerText(),
			/through another tab’s socket/,
			"the second tab uses the first one's socket"
		);
		assert.equal(await second.page.evaluate(() => window.kaiwaBus.connection.leader), false, 'the second tab holds no socket');
		await button(page, 'Start conversation').click();
		await button(second.page, 'Get Plus').click();
		assert.deepEqual(
			await waitRecords(second.page, 'conversation.started', 1, { from: page }),
			['tab:user-aiko'],
			"the first tab's event in the second, once"
		);
		assert.deepEqual(
			await waitRecords(page, 'subscription.created', 1, { from: second.page }),
			['tab:user-aiko'],
			"the second tab's event in the first, once"
		);
		assert.deepEqual(await records(page, 'conversation.started'), ['local:user-aiko']);
		assert.match(await page.getByTestId('elsewhere').innerText(), /subscription\.created for user-aiko tab/);
		// No socket of its own, checked after the round trips above, not after a pause: the page's
		// WebSocket events come over the same DevTools session as, and before, the answers of the
		// evaluate() calls made after it, so a socket the tab opened by now is in `sockets`.
		assert.deepEqual(sockets, [], 'the second tab opened no WebSocket');
		// And the relay counts at most as many as before: sockets of earlier tests' closed pages may still be counted, and go
		// (observed: the relay keeps a socket the browser closed, in CLOSE-WAIT, for seconds or more).
		const after = await relayConnections(demo);
		assert.ok(after <= before, `no WebSocket of its own at the relay (${before} before, ${after} after)`);
		second.assertClean();
	} finally {
		await second.page.close();
	}
});

test("another user in another browser sees none of the first user's events; the remote devtools see both", async ({
	page,
	context,
	url
}) => {
	// The admin page first, in the user's browser: were it to share its socket with the user's tab, the user would see every user's events.
	const admin = await context.newPage();
	await admin.goto(`${url}/devtools`);
	await waitReady(admin);
	await admin.getByTestId('admin-state').and(admin.locator('[data-state=open]')).waitFor();
	await signIn(page, 'yuki@example.com');
	const other = await launchChromium();
	try {
		const ben = await openOther(other, url);
		await waitReady(ben);
		await signIn(ben, 'ben@example.com');
		await button(page, 'Start conversation').click();
		await button(ben, 'Start conversation').click();
		await button(page, 'Get Pro').click();
		// The admin sees the three, from the relay.
		await admin.waitForFunction(
			() =>
				window.kaiwaBus.getEventHistory().filter((r) => /^(conversation\.started|subscription\.created)$/.test(r.name)).length === 3
		);
		assert.deepEqual((await records(admin, 'conversation.started')).sort(), ['remote:user-ben', 'remote:user-yuki']);
		assert.deepEqual(await records(admin, 'subscription.created'), ['remote:user-yuki']);
		// A round trip each way through the relay (the markers are public notices): what the other
		// user sent before has come by then, were it to come at all.
		await roundTrip(ben, page);
		await roundTrip(page, ben);
		assert.deepEqual(await records(page, 'conversation.started'), ['local:user-yuki'], 'yuki sees only her own');
		assert.deepEqual(await records(ben, 'conversation.started'), ['local:user-ben'], 'ben sees only his own');
		assert.deepEqual(await records(ben, 'subscription.created'), []);
		const elsewhere = await ben.getByTestId('elsewhere').locator('li').allInnerTexts();
		assert.ok(
			elsewhere.length === 1 && /^app\.notice\.posted for \(no user\) remote\b/.test(elsewhere[0]),
			`from elsewhere only yuki's public marker: ${JSON.stringify(elsewhere)}`
		);
		// The panel: remote records, which user each belongs to (the user filter).
		await setFilter(admin, 'user', 'user-ben');
		const rows = await panelRows(admin);
		assert.ok(
			rows.length >= 1 && rows.every((r) => r.source === 'remote'),
			`ben's records in the admin panel: ${JSON.stringify(rows)}`
		);
		assert.ok(rows.some((r) => r.name === 'conversation.started'));
		assert.ok(!rows.some((r) => r.name === 'subscription.created'), "the user filter leaves yuki's out");
	} finally {
		await admin.close();
		await other.close();
	}
});

test("a maintenance notice (audience 'all') reaches another user's browser; that user's private events do not", async ({ page, url }) => {
	await signIn(page, 'yuki@example.com');
	await inOtherBrowser(url, 'ben@example.com', async (ben) => {
		await button(ben, 'Start conversation').click(); // private: stays with ben
		await until(() => ben.evaluate(() => window.kaiwaBus.connection.outbox === 0), "ben's conversation stored");
		await button(ben, 'Post a maintenance notice').click();
		await page
			.getByTestId('notice')
			.getByText(/Notice from user-ben: Maintenance tonight/)
			.waitFor();
		assert.match(await page.getByTestId('notice').innerText(), /remote$/, 'from the relay');
		assert.match(await ben.getByTestId('notice').innerText(), /local$/);
		const notice = await page.evaluate(() =>
			window.kaiwaBus
				.getEventHistory()
				.filter((r) => r.name === 'app.notice.posted')
				.map((r) => [r.status, r.payload.at instanceof Date])
		);
		assert.deepEqual(notice, [['delivered', true]], "validated with $lib/events.js's schema, its Date a Date");
		// ben's conversation was stored before his notice, and events arrive in order: yuki never got it.
		assert.deepEqual(await records(page, 'conversation.started'), [], "ben's conversation is his");
	});
});

test('the same user in another browser gets the events through the relay, once', async ({ page, url }) => {
	await signIn(page, 'yuki@example.com');
	await inOtherBrowser(url, 'yuki@example.com', async (elsewhere) => {
		await button(page, 'Start conversation').click();
		assert.deepEqual(await waitRecords(elsewhere, 'conversation.started', 1, { from: page }), ['remote:user-yuki']);
		await button(elsewhere, 'Get Plus').click();
		assert.deepEqual(await waitRecords(page, 'subscription.created', 1, { from: elsewhere }), ['remote:user-yuki']);
		// Signed out there: signed out here too.
		await button(elsewhere, 'Sign out').click();
		await page.locator('[data-testid=relay-state][data-user=""]').waitFor();
		await button(page, 'Sign in').waitFor();
	});
});

test("the payment webhook's subscription.renewed reaches that user's tabs, not another user's", async ({ page, context, url }) => {
	await signIn(page, 'aiko@example.com');
	await button(page, 'Get Plus').click();
	const second = await openDemo(context, url, { keepCookies: true });
	const other = await launchChromium();
	try {
		await connected(second.page, 'user-aiko');
		const ben = await openOther(other, url);
		await waitReady(ben);
		await signIn(ben, 'ben@example.com');
		await button(page, 'Payment webhook').click();
		await page
			.getByTestId('webhook')
			.getByText(/stored subscription\.renewed at offset \S+/)
			.waitFor();
		const subscriptionId = await page.evaluate(
			() => window.kaiwaBus.getEventHistory().find((r) => r.name === 'subscription.created').payload.subscriptionId
		);
		// The relay stored the renewal before ben's markers (the webhook answered with its offset).
		assert.deepEqual(await waitRecords(page, 'subscription.renewed', 1, { from: ben, field: 'subscriptionId' }), [
			`remote:${subscriptionId}`
		]);
		assert.deepEqual(await waitRecords(second.page, 'subscription.renewed', 1, { from: ben, field: 'subscriptionId' }), [
			`remote:${subscriptionId}`
		]);
		assert.equal(
			await page.evaluate(
				() =>
					window.kaiwaBus.getEventHistory().find((r) => r.name === 'subscription.renewed').payload.nextBillingDate instanceof Date
			),
			true,
			'a Date again'
		);
		await roundTrip(page, ben); // stored after the renewal, so delivered after it
		assert.deepEqual(await records(ben, 'subscription.renewed'), [], "not another user's");
		second.assertClean();
	} finally {
		await second.page.close();
		await other.close();
	}
});

test(
	'with the relay stopped the page says so and still delivers its events; the relay back, it connects again',
	async ({ page, demo }) => {
		await signIn(page, 'yuki@example.com');
		await demo.relay.stop();
		try {
			const state = page.locator('[data-testid=relay-state]');
			await page.locator('[data-testid=relay-state]:not([data-state=open])').waitFor();
			// The bus retries with backoff: 'connecting' until the relay is back.
			assert.match(await state.innerText(), /^Relay not connected \(connecting, retrying, as user-yuki\)/);
			assert.equal(
				await page.locator('kaiwa-devtools .connection').getAttribute('data-state'),
				'connecting',
				'the panel says it too'
			);
			await button(page, 'Start conversation').click();
			await button(page, 'Send').click();
			await page.locator('li.message.assistant').waitFor();
			assert.deepEqual(await records(page, 'conversation.started'), ['local:user-yuki'], 'delivered here at once');
			const statuses = await page.evaluate(() =>
				window.kaiwaBus
					.getEventHistory()
					.slice(-3)
					.map((r) => r.status)
			);
			assert.deepEqual(statuses, ['delivered', 'delivered', 'delivered']);
			await button(page, 'Payment webhook').click();
			await page
				.getByTestId('webhook')
				.getByText(/^failed: /)
				.waitFor();
		} finally {
			await demo.relay.restart();
		}
		await connected(page, 'user-yuki');
		await until(() => page.evaluate(() => window.kaiwaBus.connection.outbox === 0), 'the outbox sent');
	},
	{
		allowLogs: [
			/^console\.error: WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/v1\/ws' failed/,
			/^console\.error: Failed to load resource: the server responded with a status of 502/,
			/^console\.warning: kaiwa-bus: the relay no longer has the events after/ // a memory relay restarted: a gap
		]
	}
);

test(
	'REDIS_URL: the demo runs its relay on Redis; the server signs in, issues tokens and publishes there',
	async () => {
		const { startRedis } = await import('../relay-js/servers.js');
		const { startDemo } = await import('../../scripts/demo.mjs');
		const redis = await startRedis();
		let demo = null;
		try {
			demo = await startDemo({ port: 0, quiet: true, redisUrl: redis.url });
			const health = await fetch(`${demo.relay.http}/healthz`);
			assert.equal(health.status, 200, 'the relay reaches its Redis');
			assert.equal((await fetch(`${demo.url}/api/relay-token`)).status, 401, 'no token without a session');
			const signIn = await fetch(`${demo.url}/api/session`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', origin: demo.url },
				body: JSON.stringify({ email: 'mei@example.com', tier: 'pro' })
			});
			assert.equal(signIn.status, 200);
			const cookie = signIn.headers.get('set-cookie').split(';')[0];
			const { userId, token } = await (await fetch(`${demo.url}/api/relay-token`, { headers: { cookie } })).json();
			assert.equal(userId, 'user-mei');
			const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
			assert.equal(claims.sub, 'user-mei');
			assert.ok(!claims.admin && claims.exp - Date.now() / 1000 <= 600, `a user's short-lived token: ${JSON.stringify(claims)}`);
			const forged = `${cookie.split('.')[0]}.AAAA`;
			assert.equal(
				(await fetch(`${demo.url}/api/relay-token`, { headers: { cookie: forged } })).status,
				401,
				'a forged session cookie is no session'
			);
			const hook = await fetch(`${demo.url}/api/payment-webhook`, {
				method: 'POST',
				headers: { cookie, 'content-type': 'application/json', origin: demo.url },
				body: '{}'
			});
			assert.equal(hook.status, 200, await hook.clone().text());
			assert.match((await hook.json()).offset, /^\d+-\d+$/, 'stored in the Redis stream');
		} finally {
			await demo?.stop();
			await redis.kill();
		}
	},
	{ browser: false }
);
