import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
	plugins: [sveltekit()],
	// Dev server only: pre-bundling would move kaiwa-bus away from its .wasm.
	// The app passes the `?url` import to init() anyway (src/lib/bus/start.js).
	optimizeDeps: { exclude: ['kaiwa-bus'] },
	server: { host: '127.0.0.1' },
	preview: { host: '127.0.0.1' }
});
