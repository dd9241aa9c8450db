// The four svelte functions js/svelte/context.js uses (the workspace does not install svelte).
declare module 'svelte' {
	export function getContext<T>(key: unknown): T;
	export function hasContext(key: unknown): boolean;
	export function setContext<T>(key: unknown, context: T): T;
	export function onDestroy(fn: () => unknown): void;
}
