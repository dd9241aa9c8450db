import adapter from '@sveltejs/adapter-node';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// As `npx sv create` writes it with adapter-node (SvelteKit 3 takes its
// config here): nothing here for kaiwa-bus. The production build is served
// by `vite preview`, then deployed from build/ without node_modules.
export default defineConfig({
	plugins: [sveltekit({ adapter: adapter() })]
});
