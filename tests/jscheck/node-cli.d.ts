// What js/cli.js uses of Node (the workspace has no @types/node); node:fs merges with node-fs.d.ts.
declare module 'node:fs' {
	export function readFileSync(path: string, encoding: 'utf8'): string;
	export function writeFileSync(path: string, text: string): void;
	export function rmSync(path: string, options?: { force?: boolean }): void;
}
declare module 'node:module' {
	const nodeModule: {
		createRequire(path: string): (id: string) => any;
		stripTypeScriptTypes?: (source: string) => string;
	};
	export default nodeModule;
}
declare module 'node:path' {
	export function basename(path: string): string;
	export function dirname(path: string): string;
	export function join(...paths: string[]): string;
	export function resolve(...paths: string[]): string;
}
declare module 'node:url' {
	export function pathToFileURL(path: string): URL;
}
declare const process: {
	argv: string[];
	pid: number;
	exitCode: number | undefined;
	stdout: { write(text: string): void };
	stderr: { write(text: string): void };
};
