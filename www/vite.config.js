import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
	plugins: [sveltekit()],
	// Only because scripts/demo.mjs installs kaiwa-bus with --no-save (see
	// its header): an app that lists kaiwa-bus in package.json needs nothing
	// here, as Vite's Svelte plugin then bundles kaiwa-bus/svelte into the
	// server build with the app's own copy of Svelte.
	ssr: { noExternal: ['kaiwa-bus'] },
	server: { host: '127.0.0.1' },
	preview: { host: '127.0.0.1' }
});
