import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// As `npx sv create` writes it: nothing here for kaiwa-bus.
export default defineConfig({
	plugins: [sveltekit()]
});
