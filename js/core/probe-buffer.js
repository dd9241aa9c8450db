// The probe buffer: integers in wasm memory (src/wasm/mod.rs, probeBuffer)
// that the payload reader (js/core/probe.js) writes a payload's description
// into, and through which queued emits are handed to Rust (js/core/bus.js,
// #record). EventBus keeps one.

import { memory } from './runtime.js';

export class ProbeBuffer {
	#rust; // the BusCore whose buffer it is
	#view = null; // the buffer, or null before the first use
	top = 0; // its slots in use by reads in progress: a getter may emit
	from = 0; // where the last read's codes start
	#end = 0; // where they end: Rust has yet to read them

	constructor(rust) {
		this.#rust = rust;
	}

	// Reads the payload: returns the first word of its description, and
	// writes the rest from this.from (see js/core/probe.js). The reader
	// writes straight into wasm memory, above the slots of any read in
	// progress: a getter that emits reads its own payload higher up, so
	// each payload is read once, whatever the nesting. Only if a getter made
	// wasm memory grow (which detaches the view) is the payload read again.
	// The caller restores `top` should the read be cut short (a stack
	// overflow: the readers catch everything else).
	read(plan, payload, atoms) {
		const from = this.top;
		const end = from + plan.width;
		let view = this.#view;
		if (view === null || view.length < end) view = this.#grow(end);
		this.top = end;
		const word = plan.read(payload, atoms, view, from);
		this.top = from;
		this.from = from;
		this.#end = end;
		if (view === this.#view && view.length !== 0) return word;
		if (view.length !== 0) {
			// A nested read moved the buffer (Rust copied the codes written
			// before the move); the rest went to the old one.
			this.#grow(end).set(view.subarray(from, end), from);
			return word;
		}
		return this.#readAgain(plan, payload, atoms, from, end);
	}

	// Reads into a JS array, then copies into wasm memory, where nothing can
	// run between copy and use.
	#readAgain(plan, payload, atoms, from, end) {
		const codes = new Int32Array(plan.width);
		this.top = end;
		const word = plan.read(payload, atoms, codes, 0);
		this.top = from;
		this.#grow(end).set(codes, from);
		return word;
	}

	// Copies the first `length` integers of `ints` above the reads in
	// progress and the codes of the last read (a queue handed over between
	// a read and its emit must not overwrite them); returns where they start.
	write(ints, length) {
		const from = Math.max(this.top, this.#end);
		let view = this.#view;
		if (view === null || view.length < from + length) view = this.#grow(from + length);
		for (let i = 0; i < length; i++) view[from + i] = ints[i];
		return from;
	}

	#grow(width) {
		const length = Math.max(width, 256);
		const ptr = this.#rust.probeBuffer(length);
		this.#view = new Int32Array(memory().buffer, ptr, length);
		return this.#view;
	}
}
