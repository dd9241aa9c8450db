// One source of types: each entry's hand-written .d.ts (js/**/index.d.ts,
// js/inline.d.ts) is what users compile against, the JS is type-checked
// against it where it imports it (tests/jscheck), and the reference pages
// describe it. This checks, with the TypeScript compiler, what ties them:
// - every JS file an entry resolves to (each condition of pkg.json's
//   exports map) exports exactly the values its .d.ts declares: a declared
//   function the JS lacks type-checks, then fails at run time;
// - the entry's reference page names every value it exports, and
//   docs/api.md names every member of EventBus and every bus option, and
//   documents no EventBus method the type lacks;
// - the JS's own signatures (its code and JSDoc, read by the compiler) fit
//   what the .d.ts declares: parameters, return types, class members
//   (signatures.mjs; each entry's JS, and each JS module with a .d.ts beside it).
// Prints `ok`/`not ok` per check and `# api: N passed, M failed`.
//   node scripts/lib/api-check.mjs

import ts from 'typescript';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { checkSignatures } from './signatures.mjs';

const PAGES = {
	'.': 'docs/api.md',
	'./inline': 'docs/api.md',
	'./svelte': 'docs/api.md',
	'./server': 'docs/api.md',
	'./relay': 'docs/transports.md',
	'./store': 'docs/store.md',
	'./devtools': 'docs/devtools.md',
	'./history': 'docs/history-format.md'
};

const manifest = JSON.parse(readFileSync('pkg.json', 'utf8'));
const source = (target) => `js/${target.slice(2)}`;
const entries = Object.entries(manifest.exports)
	.filter(([, target]) => typeof target === 'object')
	.map(([entry, { types, ...conditions }]) => ({ entry, types: source(types), js: [...new Set(Object.values(conditions))].map(source) }));

// The signatures (signatures.mjs): each entry's JS against its .d.ts, and each JS module with a hand-written .d.ts beside it.
const pairs = [
	...entries.flatMap((e) => e.js.map((js) => [js, e.types])),
	...readdirSync('js', { recursive: true })
		.filter((f) => f.endsWith('.d.ts'))
		.map((f) => `js/${f}`)
		.map((dts) => [dts.replace(/\.d\.ts$/, '.js'), dts])
		.filter(([js, dts]) => existsSync(js) && !entries.some((e) => e.types === dts))
];
const files = [...new Set(pairs.flat())];
const program = ts.createProgram(files, {
	allowJs: true,
	checkJs: true,
	strict: true,
	noImplicitAny: false,
	lib: ['lib.es2024.d.ts', 'lib.dom.d.ts'],
	noEmit: true,
	target: ts.ScriptTarget.ES2022,
	module: ts.ModuleKind.ES2022,
	moduleResolution: ts.ModuleResolutionKind.Bundler,
	skipLibCheck: true,
	types: []
});
const checker = program.getTypeChecker();

function moduleExports(file) {
	const sourceFile = program.getSourceFile(file);
	if (!sourceFile) throw new Error(`${file}: not found`);
	const symbol = checker.getSymbolAtLocation(sourceFile);
	return symbol ? checker.getExportsOfModule(symbol) : [];
}
const resolved = (symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
const values = (file) =>
	moduleExports(file)
		.filter((s) => resolved(s).flags & ts.SymbolFlags.Value)
		.map((s) => s.name)
		.sort();

let passed = 0;
let failed = 0;
function check(name, problems) {
	if (problems.length === 0) {
		passed++;
		console.log(`ok - ${name}`);
	} else {
		failed++;
		console.log(`not ok - ${name}\n  ${problems.join('\n  ')}`);
	}
}

const pages = new Map();
const page = (file) => {
	if (!pages.has(file)) pages.set(file, readFileSync(file, 'utf8'));
	return pages.get(file);
};
// Named in a page: as a word in its code (inline code and code blocks), not in its prose.
const code = (text) => [...text.matchAll(/```[^]*?```|`[^`\n]+`/g)].map((m) => m[0]).join('\n');
const names = (text, name) => new RegExp(`\\b${name}\\b`).test(code(text));

for (const { entry, types, js } of entries) {
	const declared = values(types);
	for (const file of js) {
		const actual = values(file);
		const missing = declared.filter((n) => !actual.includes(n)).map((n) => `${types} declares ${n}, ${file} does not export it`);
		const extra = actual.filter((n) => !declared.includes(n)).map((n) => `${file} exports ${n}, ${types} does not declare it`);
		check(`${entry}: ${file} exports the values ${types} declares (${declared.length})`, [...missing, ...extra]);
	}
	const doc = PAGES[entry];
	const unnamed = declared.filter((n) => n !== 'default' && !names(page(doc), n));
	check(
		`${entry}: ${doc} names each of its values`,
		unnamed.map((n) => `${doc} does not name \`${n}\``)
	);
}

// EventBus and its options, in docs/api.md.
const api = page('docs/api.md');
const core = moduleExports('js/index.d.ts');
const members = (name) => {
	const symbol = core.find((s) => s.name === name);
	const type = checker.getDeclaredTypeOfSymbol(resolved(symbol));
	return checker.getPropertiesOfType(type).map((p) => p.name);
};
const busMembers = members('EventBus');
check(
	`docs/api.md names every member of EventBus (${busMembers.length})`,
	busMembers.filter((n) => !names(api, n)).map((n) => `EventBus.${n} is not in docs/api.md`)
);
const busSection = api.slice(api.indexOf('## EventBus'), api.indexOf('\n## ', api.indexOf('## EventBus') + 1));
const documented = [...busSection.matchAll(/^\| `(\w+)\(/gm)].map((m) => m[1]);
check(
	`docs/api.md's EventBus table documents only methods EventBus has (${documented.length})`,
	documented.filter((n) => !busMembers.includes(n)).map((n) => `docs/api.md documents EventBus.${n}, which index.d.ts lacks`)
);
const options = members('EventBusOptions');
check(
	`docs/api.md names every bus option (${options.length})`,
	options.filter((n) => !names(api, n)).map((n) => `EventBusOptions.${n} is not in docs/api.md`)
);

const untyped = checkSignatures(program, pairs, check);
if (process.env.KAIWA_API_UNTYPED) for (const p of untyped) console.log(`# no JSDoc type: ${p}`);
console.log(
	`# ${untyped.length} parameters of the exports have no JSDoc type (any): only their count is checked (KAIWA_API_UNTYPED=1 lists them)`
);
console.log(`# api: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
