// The payload reader: it looks at a payload as a schema's plan says and
// writes what it sees as integers, which Rust then validates. See
// src/schema/probe.rs for the encoding; the reader only describes values,
// Rust decides whether they are acceptable.

import { KIND, KIND_NAMES, PROBE_WIDTH, READ_MODE } from './contract.js';

export { KIND_NAMES };

// Kind codes and read modes, from the generated contract (src/contract.rs).
const {
	Missing: MISSING,
	Null: NULL,
	String: STRING,
	Literal: LITERAL,
	Number: NUMBER,
	NonFinite: NON_FINITE,
	Boolean: BOOLEAN,
	Date: DATE,
	InvalidDate: INVALID_DATE,
	Array: ARRAY,
	Object: OBJECT,
	Function: FUNCTION,
	BigInt: BIGINT,
	Symbol: SYMBOL,
	Threw: THREW
} = KIND;
const { Literal: MODE_LITERAL, StringItems: MODE_STRING_ITEMS } = READ_MODE;

/** Probe codes a plan's reader writes: one probe for the payload, one per field. */
export function probeWidth(plan) {
	return PROBE_WIDTH * (plan.keys.length + 1);
}

const getTime = Date.prototype.getTime;
const hasOwn = Object.prototype.hasOwnProperty;
const OBJECT_PROTOTYPE = Object.prototype;

// A field whose key Object.prototype also has (constructor, toString,
// hasOwnProperty, __proto__…) counts only as an own property or when
// something other than Object.prototype supplies it (a class): `{}` has no
// field `toString`. Other keys are read through the prototype chain as is.
function readInherited(p, key) {
	const v = p[key];
	return (key === '__proto__' || v === OBJECT_PROTOTYPE[key]) && !hasOwn.call(p, key) ? undefined : v;
}

function isInherited(key) {
	return key in OBJECT_PROTOTYPE;
}

function kindOf(value) {
	switch (typeof value) {
		case 'string':
			return STRING;
		case 'number':
			return value - value === 0 ? NUMBER : NON_FINITE;
		case 'boolean':
			return BOOLEAN;
		case 'undefined':
			return MISSING;
		case 'function':
			return FUNCTION;
		case 'bigint':
			return BIGINT;
		case 'symbol':
			return SYMBOL;
		default:
			if (value === null) return NULL;
			if (Array.isArray(value)) return ARRAY;
			if (value instanceof Date) return getTime.call(value) === getTime.call(value) ? DATE : INVALID_DATE;
			return OBJECT;
	}
}

// Writes the three codes of one value at out[at..at+3].
function probe(value, mode, atoms, out, at) {
	/** @type {number} */
	let kind = kindOf(value);
	let aux = 0;
	let item = -1;
	if (kind === STRING && mode === MODE_LITERAL) {
		const atom = atoms.get(value);
		if (atom !== undefined) {
			kind = LITERAL;
			aux = atom;
		}
	} else if (kind === ARRAY && mode === MODE_STRING_ITEMS) {
		for (let i = 0, n = value.length; i < n; i++) {
			const v = value[i];
			if (typeof v !== 'string') {
				aux = i;
				item = kindOf(v);
				break;
			}
		}
	} else if (kind === NON_FINITE) {
		aux = value !== value ? 0 : value > 0 ? 1 : 2;
	}
	out[at] = kind;
	out[at + 1] = aux;
	out[at + 2] = item;
}

// Reads `payload` as `plan` ({ keys, modes }) says into `out` from index
// `base`: the payload itself, then each field. Returns the number of integers
// written. A getter or Proxy trap that throws is reported as THREW for that
// value, never thrown. This is the reference reader; compileReader() makes a
// faster one with the same output.
export function readPayload(plan, payload, atoms, out, base) {
	try {
		probe(payload, 0, atoms, out, base);
	} catch {
		out[base] = THREW;
	}
	if (out[base] !== OBJECT) return 3;
	const { keys, modes } = plan;
	let at = base + 3;
	for (let i = 0; i < keys.length; i++, at += 3) {
		try {
			const key = keys[i];
			probe(isInherited(key) ? readInherited(payload, key) : payload[key], modes[i], atoms, out, at);
		} catch {
			out[at] = THREW;
			out[at + 1] = 0;
			out[at + 2] = -1;
		}
	}
	return at - base;
}

// The code that reads one field into (kind, aux, item), by read mode: the
// same steps as probe(), written out so the engine sees plain property loads.
function fieldCode(key, mode) {
	const literal = `
			if (kind === ${STRING}) {
				const atom = atoms.get(v);
				if (atom !== undefined) {
					kind = ${LITERAL};
					aux = atom;
				}
			}`;
	const items = `
			if (kind === ${ARRAY}) {
				for (let i = 0, n = v.length; i < n; i++) {
					const x = v[i];
					if (typeof x !== 'string') {
						aux = i;
						item = kindOf(x);
						break;
					}
				}
			}`;
	const k = JSON.stringify(key);
	return `
		try {
			v = ${isInherited(key) ? `readInherited(p, ${k})` : `p[${k}]`};
			kind = kindOf(v);
			aux = 0;
			item = -1;${mode === MODE_LITERAL ? literal : mode === MODE_STRING_ITEMS ? items : ''}
			if (kind === ${NON_FINITE}) aux = v !== v ? 0 : v > 0 ? 1 : 2;
		} catch {
			kind = ${THREW};
			aux = 0;
			item = -1;
		}
		out[at] = kind;
		out[at + 1] = aux;
		out[at + 2] = item;
		at += 3;`;
}

// Whether `new Function` may be used: decided once per page, on first need
// (a strict Content-Security-Policy reports every attempt, even a caught
// one), or never tried after configure({ jitless: true }).
let evalAllowed;

/**
 * Package-wide settings. `jitless: true`: never compile payload readers with
 * `new Function` (for pages whose Content-Security-Policy forbids
 * 'unsafe-eval', so they see no violation report); readers then use the
 * slower, equivalent loop. Set it before the first schema is read.
 * @param {{ jitless?: boolean }} [options]
 */
export function configure({ jitless } = {}) {
	if (jitless !== undefined) {
		if (typeof jitless !== 'boolean') throw new TypeError('kaiwa-bus: configure({ jitless }): jitless must be a boolean');
		evalAllowed = jitless ? false : undefined;
	}
}

function allowsEval() {
	if (evalAllowed === undefined) {
		try {
			evalAllowed = new Function('return true')() === true;
		} catch {
			evalAllowed = false;
		}
	}
	return evalAllowed;
}

// A reader for one plan: `read(payload, atoms, out, base)` returns what
// readPayload() returns. Generated once per schema with `new Function`, the
// way ajv compiles validators, since a loop over keys is five times slower.
// Where `new Function` is not allowed, the reader is readPayload().
export function compileReader(plan) {
	const generic = (payload, atoms, out, base) => readPayload(plan, payload, atoms, out, base);
	if (!allowsEval()) return generic;
	const fields = plan.keys.map((key, i) => fieldCode(key, plan.modes[i])).join('');
	const body = `
	return function read(p, atoms, out, base) {
		try {
			probe(p, 0, atoms, out, base);
		} catch {
			out[base] = ${THREW};
		}
		if (out[base] !== ${OBJECT}) return 3;
		let at = base + 3;
		let v, kind, aux, item;${fields}
		return at - base;
	};`;
	try {
		return new Function('kindOf', 'probe', 'readInherited', body)(kindOf, probe, readInherited);
	} catch {
		return generic;
	}
}
