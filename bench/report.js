// Turns raw benchmark samples into the summary, the Markdown report and the
// SVG chart. Pure functions of the result object written by bench/run.mjs.

const KAIWA = 'kaiwa-bus (validated, history + stats)';
const KAIWA_DISPATCH = 'kaiwa-bus (no schema: dispatch only)';
const MITT = 'mitt';
const ZOD = 'mitt + zod v4';
const VALIBOT = 'mitt + valibot';
const AJV = 'mitt + ajv';

function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// The core download's target (issue 24; make test holds a ceiling: scripts/lib/size.mjs).
const CORE_TARGET = 36 * 1024;
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const ns = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const times = (x) => `${x.toFixed(2)}×`;

// { engine -> handlers -> case -> { median, min, max } }, ratios and targets.
export function summarize(result) {
	const engines = {};
	for (const { engine, clock, timings, memory } of result.engines) {
		const byHandlers = {};
		for (const t of timings) {
			byHandlers[t.handlers] ??= {};
			byHandlers[t.handlers][t.case] = { median: median(t.samples), min: Math.min(...t.samples), max: Math.max(...t.samples) };
		}
		const ratios = {};
		for (const [h, cases] of Object.entries(byHandlers)) {
			ratios[h] = {};
			for (const name of [KAIWA, KAIWA_DISPATCH]) {
				ratios[h][name] = { mitt: cases[name].median / cases[MITT].median, zod: cases[name].median / cases[ZOD].median };
			}
		}
		const at = (n) => memory.find((m) => m.emits === n) ?? memory.at(-1);
		const settled = memory[Math.min(2, memory.length - 1)];
		const last = at(1_000_000);
		engines[engine] = {
			clock: clock ?? 'wall time',
			cases: byHandlers,
			ratios,
			memory: {
				samples: memory,
				wasmGrowthBytes: last.wasmBytes - settled.wasmBytes,
				heapGrowthRatio: settled.heapBytes ? last.heapBytes / settled.heapBytes : null
			}
		};
	}
	// The JS as a production bundle ships it (minified); the README also
	// gives the size of the files as published.
	const totalGzip = result.size.wasm.gzip + result.size.jsMinified.gzip;
	const initMedian = result.initMs.length ? median(result.initMs) : null;
	const initAfterDownload = result.initAfterDownloadMs?.length ? median(result.initAfterDownloadMs) : null;
	const targets = [];
	for (const [engine, e] of Object.entries(engines)) {
		const c = e.cases;
		const add = (what, value, limit, shown) => targets.push({ engine, what, value, limit, met: value <= limit, shown });
		// The targets of issue 24.
		add('validated, 1 handler ≤ 1.5× mitt + zod v4', c[1][KAIWA].median / c[1][ZOD].median, 1.5, times);
		add('validated, 1 handler ≤ 2.5× mitt + ajv', c[1][KAIWA].median / c[1][AJV].median, 2.5, times);
		add('validated, 10 handlers ≤ 1.3× mitt + zod v4', c[10][KAIWA].median / c[10][ZOD].median, 1.3, times);
		add('validated, 1 handler faster than mitt + valibot', c[1][KAIWA].median / c[1][VALIBOT].median, 1, times);
		add('validated, 10 handlers faster than mitt + valibot', c[10][KAIWA].median / c[10][VALIBOT].median, 1, times);
		add('no schema, 1 handler ≤ 1.3× mitt', c[1][KAIWA_DISPATCH].median / c[1][MITT].median, 1.3, times);
		add('no schema, 10 handlers ≤ 2× mitt', c[10][KAIWA_DISPATCH].median / c[10][MITT].median, 2, times);
		targets.push({
			engine,
			what: 'memory flat from 250k to 1M emits (wasm growth 0, heap ≤ 1.2×)',
			value: e.memory.heapGrowthRatio,
			limit: 1.2,
			met: e.memory.wasmGrowthBytes === 0 && (e.memory.heapGrowthRatio ?? 1) <= 1.2,
			shown: () => `wasm +${e.memory.wasmGrowthBytes} B, heap ${times(e.memory.heapGrowthRatio ?? 1)}`
		});
	}
	targets.push({ engine: 'package', what: '.wasm + minified JS ≤ 36 KB gzip', value: totalGzip, limit: CORE_TARGET, met: totalGzip <= CORE_TARGET, shown: kb });
	if (initMedian !== null) {
		targets.push({ engine: 'Chromium', what: 'init() < 10 ms (median of fresh pages)', value: initMedian, limit: 10, met: initMedian < 10, shown: (x) => `${x.toFixed(2)} ms` });
	}
	const readyMedian = result.readyMs ? { core: median(result.readyMs.core), inline: median(result.readyMs.inline) } : null;
	return { readyMedian, engines, targets: targets.map(({ shown, ...t }) => ({ ...t, text: shown(t.value) })), totalGzip, initMedian, initAfterDownload };
}

export function renderMarkdown(result) {
	const { summary } = result;
	const lines = [
		`# kaiwa-bus benchmark`,
		'',
		`Run ${result.date.slice(0, 16).replace('T', ' ')} UTC on ${result.machine}${result.load ? `, load average ${result.load.start.toFixed(1)} at the start and ${result.load.end.toFixed(1)} at the end` : ''}${result.quick ? ' (quick smoke run: figures mean nothing)' : ''}.`,
		`Median ns per emit of the seed's \`auth.user.login\` payload (with a real \`Date\`), min–max over the rounds; ratios against mitt and mitt + zod v4 in the same run. ` +
			`The cases take turns round by round, each round timed in the engine's CPU time where there is one: Node's process CPU time, Chromium's renderer main thread's (read from Linux's /proc by bench/run.mjs: a page has no CPU clock), ` +
			`both with the GC on that thread (\`--single-threaded-gc\`), so time spent waiting for a core on a busy machine does not count.`,
		''
	];
	for (const [engine, e] of Object.entries(summary.engines)) {
		lines.push(`**${engine}** (${e.clock})`, '', '| | 1 handler | ×mitt | ×mitt+zod | 10 handlers | ×mitt | ×mitt+zod |', '|---|---:|---:|---:|---:|---:|---:|');
		for (const name of Object.keys(e.cases[1])) {
			const cell = (h) => {
				const c = e.cases[h][name];
				const r = e.ratios[h][name];
				const ratio = r ? [times(r.mitt), times(r.zod)] : ['', ''];
				return [`${ns(c.median)} (${ns(c.min)}–${ns(c.max)})`, ...ratio];
			};
			const bold = name.startsWith('kaiwa-bus') ? `**${name}**` : name;
			lines.push(`| ${bold} | ${cell(1).join(' | ')} | ${cell(10).join(' | ')} |`);
		}
		lines.push('');
	}
	lines.push('| target | where | measured | met |', '|---|---|---:|:---:|');
	for (const t of summary.targets) lines.push(`| ${t.what} | ${t.engine} | ${t.text} | ${t.met ? 'yes' : '**no**'} |`);
	lines.push('');
	const { wasm, js, jsMinified } = result.size;
	lines.push(
		`Package: \`.wasm\` ${kb(wasm.raw)} (${kb(wasm.gzip)} gzip); JS ${kb(jsMinified.raw)} minified in a bundle (${kb(jsMinified.gzip)} gzip), ` +
			`${kb(js.raw)} as published with comments (${kb(js.gzip)} gzip, ${js.files.length} files); ` +
			`${kb(summary.totalGzip)} gzip in all (.wasm + minified JS). ` +
			`init() in Chromium: ${summary.initMedian?.toFixed(2)} ms median of ${result.initMs.length} fresh pages (timed once the page is quiet), ` +
			`${summary.initAfterDownload?.toFixed(2)} ms of it after the download (compile + instantiate).`,
		''
	);
	if (result.size.devtools) {
		const { devtools } = result.size;
		lines.push(
			`The devtools panel loaded with \`import('kaiwa-bus/devtools')\` (as the README's layout does) is a chunk of its own in a production build: ` +
				`${kb(devtools.raw)} minified (${kb(devtools.gzip)} gzip), downloaded only when the panel is mounted; none of it is in the page's up-front chunks (checked).`,
			''
		);
	}
	if (summary.readyMedian && result.size.inline) {
		lines.push(
			`Time to a usable bus in Chromium (from navigation start to a first emit, production bundle, median of ${result.readyMs.core.length} fresh pages): ` +
				`${summary.readyMedian.core.toFixed(1)} ms with \`kaiwa-bus\` + \`await init()\` (${kb(summary.totalGzip)} gzip), ` +
				`${summary.readyMedian.inline.toFixed(1)} ms with \`kaiwa-bus/inline\` (${kb(result.size.inline.gzip)} gzip, the .wasm inside).`,
			''
		);
	}
	lines.push('Memory during a million validated emits (history limit 1000):', '', '| emits | ' + Object.keys(summary.engines).map((e) => `${e} wasm | ${e} JS heap`).join(' | ') + ' |');
	lines.push('|---:|' + Object.keys(summary.engines).map(() => '---:|---:').join('|') + '|');
	const engines = Object.values(summary.engines);
	engines[0].memory.samples.forEach((s, i) => {
		const cells = engines.map((e) => `${kb(e.memory.samples[i].wasmBytes)} | ${kb(e.memory.samples[i].heapBytes)}`);
		lines.push(`| ${s.emits.toLocaleString('en')} | ${cells.join(' | ')} |`);
	});
	lines.push('');
	return lines.join('\n');
}

// A horizontal bar chart: one panel per engine and handler count.
export function renderSvg(result) {
	const panels = [];
	for (const [engine, e] of Object.entries(result.summary.engines)) {
		for (const h of Object.keys(e.cases)) panels.push({ title: `${engine}, ${h} handler${h === '1' ? '' : 's'}`, cases: e.cases[h] });
	}
	const rowH = 18;
	const labelW = 270;
	const barW = 380;
	const rows = Object.keys(panels[0].cases).length;
	const panelH = 30 + rows * rowH + 12;
	const width = labelW + barW + 80;
	const height = panels.length * panelH + 10;
	const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
	const parts = [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
		`<rect width="100%" height="100%" fill="white"/>`
	];
	panels.forEach((p, i) => {
		const y0 = i * panelH + 10;
		const max = Math.max(...Object.values(p.cases).map((c) => c.median));
		parts.push(`<text x="8" y="${y0 + 14}" font-weight="bold">${esc(p.title)}: median ns per emit</text>`);
		Object.entries(p.cases).forEach(([name, c], j) => {
			const y = y0 + 24 + j * rowH;
			const w = Math.max(1, (c.median / max) * barW);
			const fill = name.startsWith('kaiwa-bus') ? '#c2410c' : '#64748b';
			parts.push(
				`<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${esc(name)}</text>`,
				`<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 5}" fill="${fill}"/>`,
				`<text x="${labelW + w + 4}" y="${y + 12}">${ns(c.median)}</text>`
			);
		});
	});
	parts.push('</svg>');
	return `${parts.join('\n')}\n`;
}
