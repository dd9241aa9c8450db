// The JS linter (`npm run lint`; `make check` and `make test` run it): eslint's recommended rules
// over js/, tests/ and scripts/, with the globals of where each file runs.
import js from '@eslint/js';
import globals from 'globals';

export default [
	// The JS contracts (js/**/*contract.js) are generated from Rust by `make types`: a regex of control characters on purpose.
	{ ignores: ['**/node_modules/', 'tests/sveltekit/kit*/', 'js/**/*contract.js'] },
	{ files: ['js/**/*.js', 'tests/**/*.{js,mjs}', 'scripts/**/*.{js,mjs}'], ...js.configs.recommended },
	{
		files: ['js/**/*.js', 'tests/**/*.{js,mjs}', 'scripts/**/*.{js,mjs}'],
		rules: {
			// `try { bus.emit(bad) } catch {}`: a refusal the test or the panel records through the bus, not the exception.
			'no-empty': ['error', { allowEmptyCatch: true }]
		}
	},
	// The package runs in browsers; its Node entries and its CLI in Node.
	{ files: ['js/**/*.js'], languageOptions: { globals: globals.browser } },
	{ files: ['js/**/*node*.js', 'js/**/cli.js', 'js/**/server.js', 'js/server/**/*.js'], languageOptions: { globals: globals.node } },
	// Tests and scripts run in Node and hand functions to Chromium pages (page.evaluate).
	{ files: ['tests/**/*.{js,mjs}', 'scripts/**/*.{js,mjs}'], languageOptions: { globals: { ...globals.node, ...globals.browser } } }
];
