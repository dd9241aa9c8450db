// The devtools panel as an app's production build has it: an entry that
// uses the bus and loads the panel with import(), as the README's layout
// does, bundled by esbuild with code splitting. Measures what the import()
// downloads (the panel's chunks, minified, gzip -9) and checks that none of
// the panel is in what the page loads up front: it fails if it is.

import * as esbuild from 'esbuild';
import { gzipSize } from '../scripts/lib/size.mjs';

const ENTRY = `
import { EventBus, init } from 'kaiwa-bus';
await init();
const bus = new EventBus();
bus.emit('auth.user.logout', { userId: 'u', timestamp: new Date() });
if (location.search.includes('devtools')) import('kaiwa-bus/devtools').then(({ mountDevtools }) => mountDevtools(bus));
`;

/** `{ entry: { raw, gzip }, panel: { raw, gzip, files } }` in bytes; throws if the panel is in the entry. */
export async function measurePanelChunk() {
	const result = await esbuild.build({
		stdin: { contents: ENTRY, resolveDir: '.', loader: 'js' },
		alias: { 'kaiwa-bus/devtools': './pkg/devtools/index.js', 'kaiwa-bus': './pkg/index.js' },
		bundle: true,
		splitting: true,
		minify: true,
		format: 'esm',
		platform: 'browser',
		outdir: 'test-output/bench/panel-chunk',
		metafile: true,
		write: false,
		logLevel: 'warning'
	});
	const outputs = result.metafile.outputs;
	const files = new Map(result.outputFiles.map((f) => [f.path.slice(f.path.indexOf('test-output/')), f.contents]));
	const [entryPath] = Object.entries(outputs).find(([, o]) => o.entryPoint !== undefined);
	// What the page loads up front: the entry and its static imports, transitively.
	const upFront = new Set();
	const visit = (path) => {
		if (upFront.has(path)) return;
		upFront.add(path);
		for (const i of outputs[path].imports) if (i.kind === 'import-statement') visit(i.path);
	};
	visit(entryPath);
	const panelInput = (path) => Object.keys(outputs[path].inputs).some((input) => input.includes('pkg/devtools'));
	const leaked = [...upFront].filter(panelInput);
	if (leaked.length > 0) throw new Error(`bench: the devtools panel is in the entry's chunks (${leaked.join(', ')}): a dynamic import() should keep it out`);
	const later = Object.keys(outputs).filter((path) => !upFront.has(path) && path.endsWith('.js'));
	if (!later.some(panelInput)) throw new Error('bench: no chunk of the devtools panel was found: the measurement is wrong');
	const size = (paths) => {
		const bytes = Buffer.concat(paths.map((p) => files.get(p)));
		return { raw: bytes.length, gzip: gzipSize(bytes), files: paths.length };
	};
	return { entry: size([...upFront]), panel: size(later) };
}
