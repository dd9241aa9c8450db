// The type tests (tests/types): compiles them with the TypeScript compiler
// and counts their assertions from what the compiler found, not from the
// text. A type assertion is an `// @ts-expect-error` directive the compiler
// parsed (one in a string or inside another comment is not one): it passes
// when the line below it has a type error, and fails with TS2578 ("Unused
// '@ts-expect-error' directive") when a wrong payload type-checks. Any other
// diagnostic is a failure too (the positive cases must compile).
// Prints `ok`/`not ok` per assertion and `# types: N passed, M failed`.
//   node scripts/lib/type-assertions.mjs [tests/types/tsconfig.json]

import ts from 'typescript';
import { dirname, relative } from 'node:path';

const configPath = process.argv[2] ?? 'tests/types/tsconfig.json';
const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
if (error) fail(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
const parsed = ts.parseJsonConfigFileContent(config, ts.sys, dirname(configPath));
const program = ts.createProgram(parsed.fileNames, parsed.options);
const diagnostics = ts.getPreEmitDiagnostics(program);

// TS2578 is reported at the directive that expected an error and got none.
const UNUSED_EXPECT_ERROR = 2578;
const unused = new Set(diagnostics.filter((d) => d.code === UNUSED_EXPECT_ERROR && d.file).map((d) => `${d.file.fileName}:${d.start}`));
// `commentDirectives` is the compiler's own list of the directives it parsed
// in a file (ExpectError is type 0, Ignore type 1).
const EXPECT_ERROR = 0;
let passed = 0;
let failed = 0;
for (const fileName of parsed.fileNames) {
	const file = program.getSourceFile(fileName);
	const directives = file?.commentDirectives;
	if (!Array.isArray(directives)) fail(`the compiler gave no comment directives for ${fileName}: has its API changed?`);
	for (const d of directives.filter((d) => d.type === EXPECT_ERROR)) {
		const { line } = file.getLineAndCharacterOfPosition(d.range.pos);
		const where = `${relative('.', fileName)}:${line + 1}`;
		const next = file.text.split('\n')[line + 1]?.trim() ?? '';
		if (unused.has(`${fileName}:${d.range.pos}`)) {
			failed++;
			console.log(`not ok - ${where}: expected a type error, got none: ${next}`);
		} else {
			passed++;
			console.log(`ok - ${where}: ${next}`);
		}
	}
}
for (const d of diagnostics.filter((d) => d.code !== UNUSED_EXPECT_ERROR)) {
	failed++;
	const where = d.file ? `${relative('.', d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : 'tsc';
	console.log(`not ok - ${where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
}
console.log(`# types: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);

function fail(message) {
	console.log(`not ok - ${message}\n# types: 0 passed, 1 failed`);
	process.exit(1);
}
