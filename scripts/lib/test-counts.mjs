// Reads what each test runner printed and says what ran: the tests by name
// (so that `make test` can tell distinct tests from runs of the same test in
// several environments), how many passed and failed, and how many were
// skipped, left to do or ignored. Three formats cover every suite:
//   - cargo and wasm-bindgen-test-runner: `test <name> ... ok|FAILED|ignored`;
//   - node --test's TAP: `ok N - <name>`, indented 4 spaces per level of
//     nesting, `# SKIP` / `# TODO` after the name, and `type: 'suite'` in the
//     YAML block of a describe() (a suite is not a test);
//   - this repo's own runners: `ok - <name>` / `not ok - <name>`.

/**
 * @typedef {{ names: string[], passed: number, failed: number, skipped: number, todo: number, summary?: { passed: number, failed: number } }} Counts
 */

/** cargo test and wasm-bindgen-test-runner. */
export function cargoCounts(log) {
	const counts = empty();
	for (const [, name, result] of log.matchAll(/^test (.+?) \.\.\. (ok|FAILED|ignored)\b/gm)) {
		if (result === 'ignored') {
			counts.skipped++;
			continue;
		}
		counts.names.push(name);
		if (result === 'ok') counts.passed++;
		else counts.failed++;
	}
	return counts;
}

/** node --test --test-reporter=tap: tests (not suites), named by their parents' names and their own. */
export function tapCounts(log) {
	const counts = empty();
	const lines = log.split('\n');
	// `# Subtest: name` opens a test and `ok N - name` closes it, so the
	// parents of a test are the `# Subtest:` lines still open above it.
	const open = [];
	for (let i = 0; i < lines.length; i++) {
		const sub = /^( *)# Subtest: (.*)$/.exec(lines[i]);
		if (sub) {
			open.length = sub[1].length / 4;
			open.push(sub[2]);
			continue;
		}
		const m = /^( *)(ok|not ok) \d+ - (.*)$/.exec(lines[i]);
		if (!m) continue;
		const depth = m[1].length / 4;
		open.length = depth;
		if (isSuite(lines, i)) continue;
		const directive = /\s+# (SKIP|TODO)\b.*$/i.exec(m[3]);
		if (directive?.[1].toUpperCase() === 'SKIP') counts.skipped++;
		else if (directive) counts.todo++;
		else {
			counts.names.push([...open, m[3]].join(' > '));
			if (m[2] === 'ok') counts.passed++;
			else counts.failed++;
		}
	}
	return counts;
}

/**
 * The repo's own runners: `ok - name` and `not ok - name` at the start of a
 * line. Their summary line (`# label: N passed, M failed`), when printed, is
 * kept in `summary` so that the two can be checked against each other.
 */
export function lineCounts(log) {
	const counts = empty();
	for (const [, result, name] of log.matchAll(/^(ok|not ok) - (.+)$/gm)) {
		counts.names.push(name.replace(/ \(\d+(\.\d+)? s\)$/, ''));
		if (result === 'ok') counts.passed++;
		else counts.failed++;
	}
	const summary = [...log.matchAll(/^# [\w-]+: (\d+) passed, (\d+) failed$/gm)].at(-1);
	if (summary) counts.summary = { passed: Number(summary[1]), failed: Number(summary[2]) };
	return counts;
}

function empty() {
	return { names: [], passed: 0, failed: 0, skipped: 0, todo: 0 };
}

// True when the `ok` line at `i` closes a describe(): its YAML block says so.
function isSuite(lines, i) {
	for (let j = i + 1; j < lines.length && j < i + 12; j++) {
		if (/^\s*\.\.\.$/.test(lines[j])) return false;
		if (/^\s*type: 'suite'$/.test(lines[j])) return true;
	}
	return false;
}
