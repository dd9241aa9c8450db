// The history's payloads. Rust keeps the records (src/core/history.rs),
// this layer their payloads, which wasm memory cannot hold: in a ring of a
// power of two slots, by record id. EventBus keeps one per bus.

export class Payloads {
	#limit; // the history limit
	#mask; // slots - 1, or -1 when the history keeps nothing
	#slots = []; // slot i: record id at 2i, payload at 2i + 1

	constructor(limit) {
		this.#limit = limit;
		// Capped: wasm memory cannot hold 2^30 records.
		this.#mask = limit === 0 ? -1 : 2 ** Math.min(Math.ceil(Math.log2(limit)), 30) - 1;
	}

	// Keeps the payload of a record while Rust keeps the record (the last
	// `limit` ids): in slot id & mask (a mask, not %, which divides), after
	// letting go of the payload whose record has just left the history. Its
	// slot belongs to no kept record: kept ids are less than `limit` apart,
	// and the ring has `limit` slots or more.
	keep(record, payload) {
		const mask = this.#mask;
		if (mask < 0) return;
		const slots = this.#slots;
		slots[(((record - this.#limit) & mask) << 1) + 1] = undefined;
		const at = (record & mask) << 1;
		slots[at] = record;
		slots[at + 1] = payload;
	}

	/** The payload of a record still kept, or undefined. */
	of(record) {
		const at = (record & this.#mask) << 1;
		return this.#slots[at] === record ? this.#slots[at + 1] : undefined;
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
