// The two node:fs functions js/node.js uses (the workspace has no @types/node).
declare module 'node:fs' {
	export function existsSync(path: string | URL): boolean;
	export function readFileSync(path: string | URL): Uint8Array;
}
