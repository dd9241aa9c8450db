// `make flake SUITE='<command>' N=20`: runs one suite's command N times in a
// row and counts the runs that failed (issue 23: a flake run must show 0).
// Each run's output goes to test-output/flake/<suite>/<i>.log; a failed run's last
// lines are printed. Run it beside load (`make bench`, other builds) to see
// the suite on a busy machine. A run is failed after 10 minutes.
//
//   make flake SUITE='cargo test -p kaiwa-relay --test documented' N=20
//   make flake SUITE='node tests/store-e2e/run.mjs' N=20

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const [suite, n = '20'] = process.argv.slice(2);
const runs = Number(n);
if (!suite || !Number.isInteger(runs) || runs < 1) {
	console.error("usage: make flake SUITE='<the suite's command>' N=<runs>");
	process.exit(2);
}
const dir = `test-output/flake/${suite.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}`;
mkdirSync(dir, { recursive: true });
let failed = 0;
for (let i = 1; i <= runs; i++) {
	const t0 = Date.now();
	// A run that hangs counts as failed after 10 minutes.
	const run = spawnSync('sh', ['-c', suite], { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 600_000, killSignal: 'SIGKILL' });
	const log = `${run.stdout}${run.stderr}`;
	writeFileSync(`${dir}/${i}.log`, log);
	const ok = run.status === 0;
	if (!ok) failed++;
	console.log(`run ${i}/${runs}: ${ok ? 'ok' : `FAILED (exit ${run.status ?? run.signal})`} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
	if (!ok) console.log(log.split('\n').slice(-30).join('\n'));
}
console.log(`# flake: ${failed} of ${runs} runs failed: ${suite}`);
process.exit(failed > 0 ? 1 : 0);
