// The options every bus takes, in one place. createBroadcastBus,
// createRelayBus and createPersistentBus make their EventBus here, so
// `events`, `mode`, `historyLimit`, `timing` and `catalog` mean the same on
// every bus as on `new EventBus` (which reads them), and an option such a
// factory does not know is an error that names it, never silently dropped
// (a relay bus without its `events` refused every custom event in strict
// mode, and gave remote Dates as strings). The core entry's
// createEventBus('memory') and provideBus make `new EventBus(options)`
// directly: this check there would cost the core's size budget, and
// TypeScript flags a misspelt option on every factory.

import { EventBus } from './bus.js';
import { describe } from './errors.js';

/** The options of the bus itself, which every factory takes (EventBusOptions in index.d.ts). */
export const BUS_OPTIONS = Object.freeze(['events', 'mode', 'historyLimit', 'timing', 'catalog']);

/**
 * Splits a factory's `options` into a new EventBus made with the bus options
 * and the factory's own options (the names in `own`), which it returns as
 * `[bus, ownOptions]`. Any other option throws a TypeError naming it.
 * @param {unknown} options
 * @param {string} factory the call, for messages: "createRelayBus"
 * @param {readonly string[]} own
 * @returns {[any, Record<string, any>]}
 */
export function takeBusOptions(options, factory, own = []) {
	const [busOptions, ownOptions] = split(options, factory, own);
	return [new EventBus(busOptions), ownOptions];
}

/**
 * As takeBusOptions, for a factory that wraps a bus made elsewhere (`own`
 * lists 'bus'): given `options.bus`, that bus is used, and bus options beside
 * it throw (they belong to the factory that made it). Apart from
 * takeBusOptions so that the core entry, which never wraps, does not carry it.
 * @param {unknown} options
 * @param {string} factory
 * @param {readonly string[]} own
 * @returns {[any, Record<string, any>]}
 */
export function takeBusOrOptions(options, factory, own) {
	const [busOptions, ownOptions] = split(options, factory, own);
	const given = ownOptions.bus;
	delete ownOptions.bus;
	if (given === undefined) return [new EventBus(busOptions), ownOptions];
	if (given === null || typeof given !== 'object' || typeof given.emit !== 'function' || typeof given.on !== 'function') {
		throw new TypeError(
			`kaiwa-bus: ${factory}(options): options.bus must be a bus (an EventBus, or one createRelayBus or createBroadcastBus made), got ${describe(given)}`
		);
	}
	const clash = Object.keys(busOptions).find((key) => busOptions[key] !== undefined);
	if (clash !== undefined) {
		throw new TypeError(
			`kaiwa-bus: ${factory}(options): options.${clash} beside options.bus: the bus you pass keeps the options it was made with; ` +
				`give ${clash} to the factory that made it (createRelayBus({ ${clash}, … }))`
		);
	}
	return [given, ownOptions];
}

// [busOptions, ownOptions] of `options`; any other option (not undefined) throws naming it.
function split(options, factory, own) {
	if (options === undefined) options = {};
	if (options === null || typeof options !== 'object')
		throw new TypeError(`kaiwa-bus: ${factory}(options): options must be an object, got ${describe(options)}`);
	const busOptions = {};
	const ownOptions = {};
	for (const [key, value] of Object.entries(options)) {
		if (BUS_OPTIONS.includes(key)) busOptions[key] = value;
		else if (own.includes(key)) ownOptions[key] = value;
		else if (value !== undefined)
			throw new TypeError(`kaiwa-bus: ${factory}(options): unknown option ${JSON.stringify(key)}; it takes ${takes(own)}`);
	}
	return [busOptions, ownOptions];
}

function takes(own) {
	const bus = `the bus options (${BUS_OPTIONS.join(', ')})`;
	return own.length === 0 ? bus : `${bus} and its own (${own.join(', ')})`;
}
