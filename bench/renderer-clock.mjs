// A CPU clock for a Chromium page: a page has only wall time, which on a
// shared machine counts the time the renderer waits for a core. This reads
// the renderer main thread's own CPU time from Linux's
// /proc/<pid>/task/<tid>/schedstat (nanoseconds on the CPU) and lends it to
// the page as `await window.__cpuMs()`, the way bench/node.mjs times Node
// with process.cpuUsage().
//
// Which renderer runs the page: among the Chromium processes this Node
// process started, the renderer whose main thread (tid = pid) gains the most
// CPU time while the page spins between `await window.__cpuMark()` and its
// first `__cpuMs()` (bench/browser-entry.js). Linux only: elsewhere
// `available` is false and the page keeps its wall clock.

import { existsSync, readFileSync, readdirSync } from 'node:fs';

export const available = existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`);

function runtimeNs(pid) {
	try {
		return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
	} catch {
		return NaN; // gone
	}
}

// The renderers among this process's descendants.
function renderers() {
	const procs = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
			procs.push({ pid: Number(entry), ppid, renderer: cmdline.includes('--type=renderer') });
		} catch {
			// It exited while we looked.
		}
	}
	const mine = new Set([process.pid]);
	for (let grew = true; grew;) {
		grew = false;
		for (const p of procs) {
			if (!mine.has(p.pid) && mine.has(p.ppid)) {
				mine.add(p.pid);
				grew = true;
			}
		}
	}
	return procs.filter((p) => p.renderer && mine.has(p.pid)).map((p) => p.pid);
}

/** Lends `page` the clock; call before it loads. */
export async function lendCpuClock(page) {
	let marked = null; // pid -> runtime at the mark
	let pid = null;
	await page.exposeFunction('__cpuMark', () => {
		marked = new Map(renderers().map((p) => [p, runtimeNs(p)]));
		pid = null;
	});
	await page.exposeFunction('__cpuMs', () => {
		if (pid === null) {
			if (marked === null) throw new Error('bench: __cpuMs() before __cpuMark()');
			let most = 0;
			for (const [p, before] of marked) {
				const gained = runtimeNs(p) - before;
				if (gained > most) [pid, most] = [p, gained];
			}
			if (pid === null) throw new Error('bench: no renderer of this process ran the page');
		}
		return runtimeNs(pid) / 1e6;
	});
}
