// `make bench-transports` (and part of `make bench`): what it costs an emit
// to leave the page, in headless Chromium. The local part of an emit on a
// memory, a 'broadcast' and a 'redis' (relay) bus, in ns; and the time from
// an emit in tab A to the handler in tab B, p50/p99, beside a plain
// BroadcastChannel message. Writes bench/results/transports.{json,md}.
//   node bench/transports.mjs [--quick]

import { mkdirSync, writeFileSync } from 'node:fs';
import { launchChromium } from '../scripts/lib/chromium.mjs';
import { serveStatic } from '../scripts/lib/static-server.mjs';
import { RELAY_BIN, startRelay } from '../tests/relay-js/servers.js';

const quick = process.argv.includes('--quick');
const out = quick ? 'test-output/bench' : 'bench/results';
mkdirSync(out, { recursive: true });
const burst = quick ? 500 : 5000;
const rounds = quick ? 3 : 15;
const messages = quick ? 50 : 1000;

// ns per emit of `burst` emits with one handler, median over `rounds` (after
// one untimed burst); the page's clock is coarse (100 µs), so bursts are
// long. On a 'redis' bus the local part ends before the task's publishes are
// serialized and sent (once, at the end of the task), so it also measures
// the whole: from the burst's first emit until the relay acknowledged its
// last event, as emits per second.
const emitCost = (page, kind, relayUrl) =>
	page.evaluate(
		async ({ kind, relayUrl, burst, rounds }) => {
			const k = window.kaiwa;
			const bus =
				kind === 'memory' ? new k.EventBus() : kind === 'broadcast' ? k.createBroadcastBus({ channel: 'bench-cost' }) : k.createRelayBus({ url: relayUrl, token: null, share: false });
			if (kind === 'redis') while (bus.connection.state !== 'open') await new Promise((r) => setTimeout(r, 10));
			bus.on('analytics.performance.metric', () => {});
			const payloads = Array.from({ length: burst }, (_, i) => ({ sessionId: 's', metric: 'm', value: i, unit: 'n', timestamp: new Date() }));
			const per = [];
			const perSecond = [];
			for (let r = -1; r < rounds; r++) {
				const sent = [];
				const t0 = performance.now();
				for (let i = 0; i < burst; i++) sent.push(bus.emit('analytics.performance.metric', payloads[i]));
				const t1 = performance.now();
				await Promise.all(sent);
				const t2 = performance.now();
				if (r >= 0) {
					per.push(((t1 - t0) * 1e6) / burst);
					perSecond.push(burst / ((t2 - t0) / 1000));
				}
				await new Promise((r) => setTimeout(r, 0));
			}
			bus.close?.();
			const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
			return { ns: median(per), perSecond: kind === 'redis' ? median(perSecond) : null };
		},
		{ kind, relayUrl, burst, rounds }
	);

// Tab A sends `messages` events 2 ms apart; tab B measures send → handler
// with the shared wall clock (timeOrigin + now, in µs precision).
async function latency(a, b, kind) {
	await b.evaluate((kind) => {
		window.lat = [];
		const took = (sentAt) => window.lat.push(performance.timeOrigin + performance.now() - sentAt);
		if (kind === 'plain') new BroadcastChannel('bench-lat-plain').onmessage = (m) => took(m.data.sentAt);
		else window.kaiwa.createBroadcastBus({ channel: 'bench-lat' }).on('analytics.performance.metric', (p) => took(p.value));
	}, kind);
	await a.evaluate(
		async ({ kind, messages }) => {
			const plain = new BroadcastChannel('bench-lat-plain');
			const bus = window.kaiwa.createBroadcastBus({ channel: 'bench-lat' });
			for (let i = 0; i < messages; i++) {
				const sentAt = performance.timeOrigin + performance.now();
				if (kind === 'plain') plain.postMessage({ sentAt, sessionId: 's', metric: 'm', unit: 'n', timestamp: new Date() });
				else bus.emit('analytics.performance.metric', { sessionId: 's', metric: 'm', value: sentAt, unit: 'n', timestamp: new Date() });
				await new Promise((r) => setTimeout(r, 2));
			}
		},
		{ kind, messages }
	);
	await b.waitForFunction((n) => window.lat.length >= n, messages);
	const lat = (await b.evaluate(() => window.lat)).sort((x, y) => x - y);
	return { p50Ms: lat[Math.floor(lat.length * 0.5)], p99Ms: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] };
}

const relay = await startRelay({ insecure: true, extra: ['--rate', '1000000'] });
const server = await serveStatic('.');
const browser = await launchChromium();
const result = {};
try {
	const open = async () => {
		const page = await browser.context.newPage();
		await page.goto(`${server.url}/bench/transports.html`);
		await page.waitForSelector('body[data-ready=yes]', { state: 'attached' });
		return page;
	};
	const [a, b] = [await open(), await open()];
	result.emitNs = {};
	for (const kind of ['memory', 'broadcast', 'redis']) {
		const { ns, perSecond } = await emitCost(a, kind, relay.url);
		result.emitNs[kind] = ns;
		if (perSecond !== null) result.relayEmitsPerSecond = perSecond;
	}
	result.tabToTab = { plainBroadcastChannel: await latency(a, b, 'plain'), broadcastBus: await latency(a, b, 'bus') };
} finally {
	await browser.close();
	await server.close();
	await relay.kill();
}

const f = (x, d = 1) => x.toFixed(d);
const { emitNs, tabToTab, relayEmitsPerSecond } = result;
const md = `# Transports benchmark (Chromium)

| emit, local part (validated, 1 handler) | ns | × memory bus |
|---|---|---|
| memory bus | ${f(emitNs.memory)} | 1.00 |
| 'broadcast' bus (posts to the other tabs) | ${f(emitNs.broadcast)} | ${f(emitNs.broadcast / emitNs.memory, 2)} |
| 'redis' bus (into the relay connection's outbox) | ${f(emitNs.redis)} | ${f(emitNs.redis / emitNs.memory, 2)} |

A 'redis' bus serializes and sends the task's publishes once its emits are done. End to end, from the first emit of a burst to the relay's ack of its last event (serialization, one WebSocket frame per event, the relay storing it): **${f(relayEmitsPerSecond, 0)} emits/s** (${f(1e9 / relayEmitsPerSecond, 0)} ns each), against \`${RELAY_BIN}\` (memory engine) on this machine.

| tab A emit → tab B handler | p50 | p99 |
|---|---|---|
| plain BroadcastChannel message | ${f(tabToTab.plainBroadcastChannel.p50Ms, 2)} ms | ${f(tabToTab.plainBroadcastChannel.p99Ms, 2)} ms |
| 'broadcast' bus event | ${f(tabToTab.broadcastBus.p50Ms, 2)} ms | ${f(tabToTab.broadcastBus.p99Ms, 2)} ms |

Measured by \`make bench-transports\` on ${new Date().toISOString().slice(0, 10)}; bursts of ${burst} emits, median of ${rounds}; ${messages} messages 2 ms apart.
`;
writeFileSync(`${out}/transports.json`, `${JSON.stringify(result, null, '\t')}\n`);
writeFileSync(`${out}/transports.md`, md);
console.log(md);
