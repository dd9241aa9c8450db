// The history's payloads. Rust keeps the records (src/core/history.rs),
// this layer their payloads, which wasm memory cannot hold: in a ring of a
// power of two slots, by record id. EventBus keeps one per bus.

export class Payloads {
	#limit; // the history limit
	#mask; // slots - 1, or -1 when the history keeps nothing
	#slots = []; // slot i: the payload of the kept record whose id & mask is i

	constructor(limit) {
		this.#limit = limit;
		// Capped: wasm memory cannot hold 2^30 records.
		this.#mask = limit === 0 ? -1 : 2 ** Math.min(Math.ceil(Math.log2(limit)), 30) - 1;
	}

	// Keeps the payload of a record while Rust keeps the record (the last
	// `limit` ids): in slot id & mask (a mask, not %, which divides), after
	// letting go of the payload whose record has just left the history. Its
	// slot belongs to no kept record: kept ids are less than `limit` apart,
	// and the ring has `limit` slots or more. So a kept record's slot holds
	// its payload, or undefined if its keep never ran (an exception between
	// Rust's record and here): the slot was emptied when the record `ring`
	// ids before it left. The ids are not stored beside the payloads: that
	// was a third store per emit, 2-3 ns (bench/ab.mjs, bench/ab-chromium.mjs).
	keep(record, payload) {
		const mask = this.#mask;
		if (mask < 0) return;
		const slots = this.#slots;
		slots[(record - this.#limit) & mask] = undefined;
		slots[record & mask] = payload;
	}

	/** The payload of a record Rust still keeps (undefined if none was kept). */
	of(record) {
		return this.#slots[record & this.#mask];
	}

	/** Records from Rust, with their payloads. */
	attach(records) {
		for (const record of records) record.payload = this.of(record.id);
		return records;
	}

	forget() {
		this.#slots = [];
	}
}

/** The records whose payload has this `userId` (getEventFlow). */
export function flowOf(records, userId) {
	return records.filter((r) => hasUserId(r.payload, userId));
}

function hasUserId(payload, userId) {
	try {
		return payload !== null && typeof payload === 'object' && 'userId' in payload && payload.userId === userId;
	} catch {
		return false;
	}
}
