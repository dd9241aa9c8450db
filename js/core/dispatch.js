// What the handler loop of js/core/bus.js works with: one subscription
// (Entry) and what a handler gets besides the payload (EventMeta).

// An entry's state, one field the handler loop reads per handler: most
// handlers are LIVE, which it calls without looking further.
export const LIVE = 0;
export const ONCE = 1; // live, and dropped before its one call
export const DROPPED = 2; // unsubscribed (during a dispatch, too), or its bus cleared

export class Entry {
	constructor(fn, once, link) {
		this.fn = fn;
		this.state = once ? ONCE : LIVE;
		this.sub = 0; // the subscription id Rust gave it
		this.link = link; // the transport link that subscribed, or null
	}
}

/** `meta.source` of an emit of this page. */
export const LOCAL = 'local';

// What a handler gets besides the payload. `timestamp` is made on first use:
// most handlers never read it, and a Date costs as much as a whole emit.
// `source` is 'local' for an emit of this page, or the `source` of the
// transport that handed the event in (see attach()), with its `offset` if
// it gave one.
export class EventMeta {
	#date = null;
	constructor(name, id, time, source, offset) {
		this.name = name;
		this.id = id;
		this.time = time;
		this.source = source;
		this.offset = offset;
	}

	get timestamp() {
		this.#date ??= new Date(this.time);
		return this.#date;
	}
}
