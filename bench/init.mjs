// init() in fresh Chromium pages (bench/init.html). Used by bench/run.mjs
// (`make bench`); alone, an A/B of package directories:
//   node bench/init.mjs [--pages 15] [pkg dir...]   (default: pkg)
// The directories' pages alternate A, B, B, A… so that drift on a busy
// machine hits them alike; prints each one's median init() and the part
// after the download (compile + instantiate).

import { cpSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** `pages` fresh pages per package path (served under baseUrl), alternating; returns { [path]: { ms, afterDownloadMs } } of arrays. */
export async function measureInit(context, baseUrl, pages, paths = ['/pkg']) {
	const out = Object.fromEntries(paths.map((path) => [path, { ms: [], afterDownloadMs: [] }]));
	for (let i = 0; i < pages; i++) {
		for (const path of i % 2 ? [...paths].reverse() : paths) {
			const page = await context.newPage();
			await page.goto(`${baseUrl}/bench/init.html?pkg=${encodeURIComponent(path)}`);
			const { ms, afterDownloadMs } = await page.evaluate(() => window.__run());
			out[path].ms.push(ms);
			out[path].afterDownloadMs.push(afterDownloadMs);
			await page.close();
		}
	}
	return out;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
	const { launchChromium } = await import('../scripts/lib/chromium.mjs');
	const { serveStatic } = await import('../scripts/lib/static-server.mjs');
	const args = process.argv.slice(2);
	const at = args.indexOf('--pages');
	const pages = at < 0 ? 15 : Number(args.splice(at, 2)[1]);
	const dirs = args.length ? args : ['pkg'];
	// Each directory is copied under test-output/init-ab/ (served with the repository).
	rmSync('test-output/init-ab', { recursive: true, force: true });
	const paths = dirs.map((dir, i) => {
		cpSync(dir, `test-output/init-ab/${i}`, { recursive: true });
		return `/test-output/init-ab/${i}`;
	});
	const server = await serveStatic('.');
	// As bench/run.mjs launches it.
	const browser = await launchChromium({ args: ['--js-flags=--expose-gc --single-threaded-gc', '--enable-precise-memory-info'] });
	try {
		const result = await measureInit(browser.context, server.url, pages, paths);
		const median = (xs) => {
			const s = [...xs].sort((a, b) => a - b);
			return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
		};
		for (const [i, path] of paths.entries()) {
			const { ms, afterDownloadMs } = result[path];
			console.log(
				`${dirs[i]}: init() ${median(ms).toFixed(2)} ms median of ${pages} fresh pages (${median(afterDownloadMs).toFixed(2)} after the download)`
			);
		}
	} finally {
		await browser.close();
		await server.close();
	}
}
