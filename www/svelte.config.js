import adapter from '@sveltejs/adapter-node';

/** @type {import('@sveltejs/kit').Config} */
export default {
	kit: {
		// `node build` serves the production build (HOST and PORT from the environment).
		adapter: adapter()
	}
};
