// The two ways to a usable bus that bench/ready.html times, bundled and
// minified by bench/run.mjs as an app's production build would ship them.

export const entries = {
	core: "import { init, EventBus } from './pkg/index.js'; export async function ready() { await init('/pkg/kaiwa_bus_bg.wasm'); return new EventBus(); }",
	inline: "import { EventBus } from './pkg/inline.js'; export async function ready() { return new EventBus(); }"
};
