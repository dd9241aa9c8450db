#!/usr/bin/env node
// `npx kaiwa-bus schemas src/lib/events.ts -o relay-schemas.json`: the
// relay's --schemas file, from the same defineEvents module the app
// imports, so that the app and the relay validate with one definition. The
// file is exactly JSON.stringify(events.schemas). `--check FILE` compares
// instead of writing, and exits 1 naming each difference (for CI, or a
// build script, to catch a relay file older than the events).
//
// A .ts module is compiled with the app's own `typescript` package (or
// Node's type stripping, Node 22.13+), into a file beside it that lives for
// the import, so that its imports resolve as the app's do.

import nodeModule from 'node:module';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const USAGE = `Usage: kaiwa-bus schemas <events module> [-o FILE | --check FILE] [--export NAME]

  Prints JSON.stringify(events.schemas) of the defineEvents() result the module
  exports (the export named by --export, else 'events', else the only one): the
  file kaiwa-relay takes with --schemas.

  -o FILE        write it to FILE instead of printing it
  --check FILE   compare it with FILE; exit 1, naming each difference, if FILE is stale
  --export NAME  the export to read

  npx kaiwa-bus schemas src/lib/events.ts -o relay-schemas.json`;

class UsageError extends Error {}

try {
	const code = await main(process.argv.slice(2));
	process.exitCode = code;
} catch (error) {
	process.stderr.write(`kaiwa-bus: ${error instanceof UsageError ? `${error.message}\n\n${USAGE}` : error.message}\n`);
	process.exitCode = 2;
}

async function main(argv) {
	const [command, ...rest] = argv;
	if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
		process.stdout.write(`${USAGE}\n`);
		return command === undefined ? 2 : 0;
	}
	if (command !== 'schemas') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
	const args = parseArgs(rest);
	const events = pick(await load(args.module), args.module, args.exportName);
	const json = JSON.stringify(events.schemas);
	if (args.check !== undefined) return check(json, args);
	if (args.out !== undefined) writeFileSync(args.out, json);
	else process.stdout.write(json);
	return 0;
}

function parseArgs(rest) {
	const args = { module: undefined, out: undefined, check: undefined, exportName: undefined };
	const flags = { '-o': 'out', '--out': 'out', '--check': 'check', '--export': 'exportName' };
	for (let i = 0; i < rest.length; i++) {
		const flag = flags[rest[i]];
		if (flag !== undefined) {
			if (rest[i + 1] === undefined) throw new UsageError(`${rest[i]} needs a value`);
			args[flag] = rest[++i];
		} else if (rest[i].startsWith('-') || args.module !== undefined) {
			throw new UsageError(`unexpected ${JSON.stringify(rest[i])}`);
		} else {
			args.module = rest[i];
		}
	}
	if (args.module === undefined) throw new UsageError('which module? Give the file that calls defineEvents()');
	if (args.out !== undefined && args.check !== undefined) throw new UsageError('-o writes the file, --check compares with it: give one');
	return args;
}

// Imports the module; a TypeScript one compiled into a file beside it first.
async function load(module) {
	const file = resolve(module);
	if (!existsSync(file)) throw new Error(`${module}: no such file`);
	if (!/\.[cm]?ts$/.test(file)) return importing(file, module);
	const temporary = join(dirname(file), `.${basename(file)}.kaiwa-schemas-${process.pid}.mjs`);
	writeFileSync(temporary, compile(readFileSync(file, 'utf8'), file, module));
	try {
		return await importing(temporary, module);
	} finally {
		rmSync(temporary, { force: true });
	}
}

async function importing(file, module) {
	try {
		return await import(pathToFileURL(file).href);
	} catch (error) {
		if (error?.code !== 'ERR_MODULE_NOT_FOUND' && error?.code !== 'ERR_UNKNOWN_FILE_EXTENSION')
			throw new Error(`${module}: ${error?.message ?? error}`, { cause: error });
		throw new Error(
			`${module} could not be loaded: ${error.message}. kaiwa-bus schemas loads that one file with Node: ` +
				"keep defineEvents() in a module that imports only packages ('kaiwa-bus') and .js files (no $lib/ aliases, no other .ts files)",
			{ cause: error }
		);
	}
}

function compile(source, file, module) {
	let ts = null;
	try {
		ts = nodeModule.createRequire(file)('typescript');
	} catch {
		// Not installed where the module is: Node's own type stripping, if it has it.
	}
	if (ts !== null) {
		const options = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false };
		return ts.transpileModule(source, { compilerOptions: options, fileName: file }).outputText;
	}
	if (typeof nodeModule.stripTypeScriptTypes === 'function') return nodeModule.stripTypeScriptTypes(source);
	throw new Error(
		`${module} is TypeScript: install the typescript package in the app (npm install -D typescript), or run this with Node 22.13 or later`
	);
}

// The defineEvents() result among the module's exports.
function pick(exports, module, exportName) {
	const isEvents = (value) =>
		value !== null &&
		typeof value === 'object' &&
		Array.isArray(value.schemas) &&
		value.schemas.every((s) => typeof s?.name === 'string');
	if (exportName !== undefined) {
		if (isEvents(exports[exportName])) return exports[exportName];
		throw new Error(`${module}: its export ${JSON.stringify(exportName)} is not what defineEvents() returns`);
	}
	if (isEvents(exports.events)) return exports.events;
	const found = Object.keys(exports).filter((name) => isEvents(exports[name]));
	if (found.length === 1) return exports[found[0]];
	if (found.length === 0)
		throw new Error(`${module} exports no defineEvents() result: export it (export const events = defineEvents({ … }))`);
	throw new Error(`${module} exports several defineEvents() results (${found.join(', ')}): say which with --export NAME`);
}

// --check: 0 if FILE holds these schemas, else 1 with what differs and how to regenerate.
function check(json, { module, check: file }) {
	const regenerate = `Regenerate it, and restart the relay with it:\n  npx kaiwa-bus schemas ${module} -o ${file}`;
	if (!existsSync(file)) {
		process.stderr.write(`kaiwa-bus: ${file} does not exist. ${regenerate}\n`);
		return 1;
	}
	let stored;
	try {
		stored = JSON.parse(readFileSync(file, 'utf8'));
	} catch (error) {
		process.stderr.write(`kaiwa-bus: ${file} is not JSON (${error.message}). ${regenerate}\n`);
		return 1;
	}
	const differences = differ(JSON.parse(json), Array.isArray(stored) ? stored : [], module, file);
	if (differences.length === 0 && JSON.stringify(stored) === json) {
		process.stdout.write(`kaiwa-bus: ${file} is current with ${module}\n`);
		return 0;
	}
	const lines = differences.length > 0 ? differences : ['the same schemas, in another order or form'];
	process.stderr.write(
		`kaiwa-bus: ${file} is stale: it differs from ${module}:\n${lines.map((line) => `  ${line}\n`).join('')}${regenerate}\n`
	);
	return 1;
}

// What differs between two schema lists, by event and field.
function differ(current, stored, module, file) {
	const byName = (list) => new Map(list.filter((s) => typeof s?.name === 'string').map((s) => [s.name, s]));
	const [mine, theirs] = [byName(current), byName(stored)];
	const where = (value, place) => (value === undefined ? `absent from ${place}` : `${JSON.stringify(value)} in ${place}`);
	const lines = [];
	for (const name of new Set([...mine.keys(), ...theirs.keys()])) {
		const [a, b] = [mine.get(name), theirs.get(name)];
		if (!b || !a) {
			lines.push(`${name}: only in ${a ? module : file}`);
			continue;
		}
		const keys = (x) =>
			Object.keys(x).flatMap((key) =>
				key === 'payload' && x.payload && typeof x.payload === 'object' ? Object.keys(x.payload).map((f) => `payload.${f}`) : [key]
			);
		for (const key of new Set([...keys(a), ...keys(b)])) {
			const read = (x) => (key.startsWith('payload.') ? x.payload?.[key.slice(8)] : x[key]);
			if (JSON.stringify(read(a)) !== JSON.stringify(read(b)))
				lines.push(`${name}: ${key}: ${where(read(a), module)}, ${where(read(b), file)}`);
		}
	}
	return lines;
}
