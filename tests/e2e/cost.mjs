// What the devtools panel costs, in headless Chromium:
//   node tests/e2e/cost.mjs [pace filter] [runs]
// Emits events on a bus with no panel, a collapsed panel and an open one,
// in three paces: a burst of 20,000 in one task, and 200 frames of 10 and
// of 1 event each; and 500 per frame for 400 frames, each event with a new
// userId (200,000 users: what the panel's user menu holds). It reads Chromium's own main-thread counters
// (Performance.getMetrics: every task, with script, style, layout and paint
// recording) around each run, and prints the median of 5 runs per event and
// per frame, and what the panel adds to the no-panel run.
// Needs pkg/ (make pkg). Not part of make test: timings are for reading.

import { launchChromium } from '../../scripts/lib/chromium.mjs';
import { serveStatic } from '../../scripts/lib/static-server.mjs';

const only = process.argv[2] ?? ''; // runs the paces whose name contains it
const RUNS = Number(process.argv[3] ?? 5);
const PACES = [
	{ name: 'burst: 20,000 in one task', perFrame: 20_000, frames: 1 },
	{ name: '10 per frame, 200 frames', perFrame: 10, frames: 200 },
	{ name: '1 per frame, 200 frames', perFrame: 1, frames: 200 },
	{ name: '500/frame, new userId each', perFrame: 500, frames: 400, users: true }
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await serveStatic('.');
const browser = await launchChromium();

// Main-thread ms (all tasks; and script alone) one run costs.
async function run(panel, pace) {
	const page = await browser.context.newPage();
	try {
		await page.goto(`${server.url}/tests/e2e/cost.html`);
		await page.waitForFunction(() => window.ready);
		await page.evaluate((state) => window.prepare(state), panel);
		const cdp = await browser.context.newCDPSession(page);
		await cdp.send('Performance.enable');
		const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
		const before = await metrics();
		const rows = await page.evaluate((p) => window.measure(p), pace);
		const after = await metrics();
		const ms = (key) => (after[key] - before[key]) * 1000;
		return { task: ms('TaskDuration'), script: ms('ScriptDuration'), rows };
	} finally {
		await page.close();
	}
}

const results = [];
try {
	for (const pace of PACES.filter((p) => p.name.includes(only))) {
		for (const panel of ['none', 'closed', 'open']) {
			const runs = [];
			for (let i = 0; i < RUNS; i++) runs.push(await run(panel, pace));
			results.push({
				pace,
				panel,
				task: median(runs.map((r) => r.task)),
				script: median(runs.map((r) => r.script)),
				rows: runs[0].rows
			});
		}
	}
} finally {
	await browser.close();
	await server.close();
}

console.log(`kaiwa-bus devtools panel: main-thread time, median of ${RUNS} runs (headless Chromium, this machine)\n`);
console.log('pace                        panel    per event   per frame   panel adds/event   rows in DOM');
for (const r of results) {
	const events = r.pace.perFrame * r.pace.frames;
	const base = results.find((x) => x.pace === r.pace && x.panel === 'none');
	const adds = r.panel === 'none' ? '' : `${(((r.task - base.task) * 1000) / events).toFixed(2)} µs`;
	console.log(
		`${r.pace.name.padEnd(27)} ${r.panel.padEnd(7)} ${`${((r.task * 1000) / events).toFixed(2)} µs`.padStart(10)} ${`${(r.task / (r.pace.frames + 2)).toFixed(3)} ms`.padStart(11)} ${adds.padStart(18)} ${String(r.rows).padStart(13)}`
	);
}
