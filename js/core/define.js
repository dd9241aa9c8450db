// defineEvents: one definition of an app's own events gives both their
// TypeScript types (index.d.ts derives them from the descriptor strings)
// and the schemas a bus registers (createEventBus('memory', { events }),
// provideBus({ events }) in kaiwa-bus/svelte). So an event cannot
// type-check and then be unknown to a strict bus.

import { describe } from './errors.js';
import { AUDIENCES } from './contract.js';

const defined = new WeakSet();

/**
 * `defineEvents({ 'cart.item.added': { itemId: 'string', note: 'string?' } })`,
 * or per event the long form `{ version, description, audience, payload }`.
 * `audience` is who receives the event through kaiwa-relay: 'user' (the
 * default, and the short form's: the publishing user's own connections),
 * 'all' (everyone allowed to subscribe to it) or 'group' (the members of the
 * payload's `groupId`). Returns `{ schemas }`, the `EventSchema`s a bus
 * registers, and what the relay's `--schemas` file holds
 * (`JSON.stringify(events.schemas)`).
 */
export function defineEvents(definitions) {
	if (definitions === null || typeof definitions !== 'object' || Array.isArray(definitions)) {
		throw new TypeError(`kaiwa-bus: defineEvents(definitions): expected an object of events by name, got ${describe(definitions)}`);
	}
	const schemas = Object.entries(definitions).map(([name, definition]) => Object.freeze(toSchema(name, definition)));
	const events = Object.freeze({ schemas: Object.freeze(schemas) });
	defined.add(events);
	return events;
}

function toSchema(name, definition) {
	if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
		throw new TypeError(
			`kaiwa-bus: defineEvents(): ${JSON.stringify(name)}: expected its payload's fields ({ itemId: 'string' }) ` +
				`or { version, description, payload }, got ${describe(definition)}`
		);
	}
	const { payload } = definition;
	if (payload !== null && typeof payload === 'object') {
		const { version = '1.0.0', description = '', audience = AUDIENCES[0] } = definition;
		if (!AUDIENCES.includes(audience)) {
			throw new TypeError(
				`kaiwa-bus: defineEvents(): ${JSON.stringify(name)}: audience must be 'user' (the default: the publishing user's ` +
					`connections), 'all' (everyone subscribed) or 'group' (the payload's groupId), got ${describe(audience)}`
			);
		}
		return { name, version, description, audience, payload: { ...payload } };
	}
	return { name, version: '1.0.0', description: '', audience: AUDIENCES[0], payload: { ...definition } };
}

/** Registers what defineEvents() returned on a bus (descriptor errors name the field). */
export function registerEvents(bus, events) {
	if (!defined.has(events)) {
		throw new TypeError(
			`kaiwa-bus: options.events must be what defineEvents({...}) returns, got ${describe(events)}: ` +
				"wrap your definitions, as in events: defineEvents({ 'cart.item.added': { itemId: 'string' } })"
		);
	}
	for (const schema of events.schemas) bus.registerSchema(schema);
}
