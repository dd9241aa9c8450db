// Browser-only start-up: loads the wasm module, creates the app's bus, and
// mounts the devtools panel on it. The root layout imports this module
// dynamically from onMount, so the server never loads it.

import { EventBus, init } from 'kaiwa-bus';
import { mountDevtools } from 'kaiwa-bus/devtools';
import wasmUrl from 'kaiwa-bus/kaiwa_bus_bg.wasm?url';

/** Resolves to `{ bus, stop }`; `stop()` unmounts the panel and empties the bus. */
export async function startBus() {
	await init(wasmUrl);
	const bus = new EventBus({ mode: 'development' });
	const panel = mountDevtools(bus, { open: true, dock: 'bottom' });
	// For console experiments: kaiwaBus.emit(...), kaiwaBus.getEventHistory().
	window.kaiwaBus = bus;
	return {
		bus,
		stop() {
			panel.remove();
			bus.clear();
			if (window.kaiwaBus === bus) delete window.kaiwaBus;
		}
	};
}
