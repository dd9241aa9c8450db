// The seam between a bus and what attaches to it: a transport (another tab,
// a relay) or a store. See docs/transports.md for the interface. A link
// hands the bus events from elsewhere and subscribes without ever getting
// back the events it handed in; detaching removes its handlers and closes it.

import { requireTransport } from './checks.js';

/**
 * @typedef {object} BusSide What a bus lends its links (its private operations).
 * @property {(name: string, payload: unknown, link: object, offset: unknown) => void} receive
 *   Validates, records with the link's source, delivers to every handler but the link's own.
 * @property {(pattern: string, handler: Function, link: object) => object} add Subscribes; returns the entry.
 * @property {(entry: object) => void} drop Unsubscribes an entry (twice is harmless).
 * @property {Set<() => void>} detachers The bus's attached links, detached by dispose().
 */

/**
 * Calls `transport.attach(link)` with a link on `bus`; returns `detach()`.
 * @param {object} bus
 * @param {{ source: string, attach(link: object): unknown }} transport
 * @param {BusSide} side
 */
export function attachTransport(bus, transport, side) {
	const source = requireTransport(transport);
	let open = true;
	const entries = new Set();
	const link = Object.freeze({
		source,
		bus,
		receive: (name, payload, /** @type {{ offset?: unknown }} */ { offset } = {}) => {
			if (!open) throw new Error(`kaiwa-bus: link.receive(): the '${source}' transport was detached`);
			side.receive(name, payload, link, offset);
		},
		on: (pattern, handler) => {
			if (!open) throw new Error(`kaiwa-bus: link.on(): the '${source}' transport was detached`);
			const entry = side.add(pattern, handler, link);
			entries.add(entry);
			return () => {
				entries.delete(entry);
				side.drop(entry);
			};
		}
	});
	const release = transport.attach(link);
	const detach = () => {
		if (!open) return;
		open = false;
		side.detachers.delete(detach);
		for (const entry of entries) side.drop(entry);
		entries.clear();
		if (typeof release === 'function') release();
	};
	side.detachers.add(detach);
	return detach;
}
