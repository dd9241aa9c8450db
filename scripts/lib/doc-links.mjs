// The links between the repository's Markdown files: every relative link
// (`docs/api.md`, `../relay/README.md#running-it`, `#install`) leads to a file
// that exists and, when it names a heading, to a heading that file has
// (GitHub's anchors). External links (https:, mailto:) are not followed.
// One check per file: `ok`/`not ok` and `# links: N passed, M failed`.
//   node scripts/lib/doc-links.mjs

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { anchors, LINK, isRelative } from './readme-links.mjs';

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], { encoding: 'utf8' })
	.split('\n')
	.filter((f) => f && existsSync(f) && !f.includes('node_modules/'));

const headings = new Map();
const headingsOf = (file) => {
	if (!headings.has(file)) headings.set(file, anchors(readFileSync(file, 'utf8')));
	return headings.get(file);
};
// Links inside code (inline or fenced) are examples, not links.
const prose = (markdown) => markdown.replace(/```[^]*?```|`[^`\n]*`/g, '');

let passed = 0;
let failed = 0;
for (const file of files) {
	const dead = [];
	for (const [, target] of prose(readFileSync(file, 'utf8')).matchAll(LINK)) {
		if (!isRelative(target) && !target.startsWith('#')) continue;
		const [path, anchor] = target.split('#');
		const to = path === '' ? file : posix.normalize(posix.join(posix.dirname(file), path));
		if (!existsSync(to)) dead.push(`${target}: no file ${to}`);
		else if (anchor !== undefined && !statSync(to).isDirectory() && !headingsOf(to).has(anchor))
			dead.push(`${target}: no heading #${anchor} in ${to}`);
	}
	if (dead.length === 0) {
		passed++;
		console.log(`ok - ${file}: its links lead somewhere`);
	} else {
		failed++;
		console.log(`not ok - ${file}: dead links\n  ${dead.join('\n  ')}`);
	}
}
console.log(`# links: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
