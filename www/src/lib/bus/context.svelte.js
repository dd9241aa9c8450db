// The app's one EventBus, handed to features through Svelte context.
//
// The bus is created in the browser only (see start.js and the root
// layout), so on the server and until the wasm module has loaded,
// `shared.bus` is null and features render with their buttons disabled.
// There is no module-level bus: nothing is shared between SSR requests.

import { getContext, setContext } from 'svelte';

const KEY = Symbol('kaiwa-bus');

/** In the root layout: the holder whose `bus` the layout fills in on mount. */
export function provideBus() {
	const shared = $state({ bus: /** @type {import('kaiwa-bus').EventBus | null} */ (null) });
	setContext(KEY, shared);
	return shared;
}

/** The holder of the bus; `.bus` is null until the bus is ready. */
export function useBus() {
	const shared = getContext(KEY);
	if (!shared) throw new Error('useBus() needs the root layout, which provides the bus');
	return shared;
}

/**
 * A feature's service, created with the bus once it is ready and disposed of
 * with the component: `const auth = useFeature((bus) => new Auth(bus))`, then
 * `auth.current` (null until ready). Call it while a component initialises.
 *
 * @template {{ dispose(): void }} T
 * @param {(bus: import('kaiwa-bus').EventBus) => T} create
 * @returns {{ readonly current: T | null }}
 */
export function useFeature(create) {
	const shared = useBus();
	/** @type {T | null} */
	let current = $state.raw(null);
	$effect(() => {
		const bus = shared.bus;
		if (!bus) return;
		const service = create(bus);
		current = service;
		return () => {
			service.dispose();
			current = null;
		};
	});
	return {
		get current() {
			return current;
		}
	};
}
