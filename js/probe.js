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
const { Kind: MODE_KIND, Literal: MODE_LITERAL, StringItems: MODE_STRING_ITEMS } = READ_MODE;

/** Probe codes a plan's reader writes: one probe for the payload, one per field. */
export function probeWidth(plan) {
	return PROBE_WIDTH * (plan.keys.length + 1);
}

const getTime = Date.prototype.getTime;
const getPrototypeOf = Object.getPrototypeOf;
const tagOf = Object.prototype.toString;
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
	const type = typeof value;
	if (type === 'string') return STRING;
	if (type === 'object') return objectKind(value);
	if (type === 'number') return value - value === 0 ? NUMBER : NON_FINITE;
	return otherKind(type);
}

// Kept apart from kindOf, which is inlined at every field (engines inline a
// bounded amount of code per reader): the rarer kinds.
function otherKind(type) {
	if (type === 'boolean') return BOOLEAN;
	if (type === 'undefined') return MISSING;
	return type === 'function' ? FUNCTION : type === 'bigint' ? BIGINT : SYMBOL;
}

function objectKind(value) {
	if (value === null) return NULL;
	if (Array.isArray(value)) return ARRAY;
	// A plain object, the common case, is told by its prototype alone.
	if (getPrototypeOf(value) === OBJECT_PROTOTYPE) return OBJECT;
	// This realm's Date, or another's (an iframe's, node:vm's: no instanceof
	// this page's Date). getTime() works on any Date and throws on anything
	// else, such as an object whose tag only claims to be a Date.
	if (value instanceof Date || tagOf.call(value) === '[object Date]') {
		try {
			return getTime.call(value) === getTime.call(value) ? DATE : INVALID_DATE;
		} catch {
			// Not a Date.
		}
	}
	return OBJECT;
}

// One reader per read mode: each writes the three codes (kind, aux, item) of
// one value at out[at..at+3]; src/schema/probe.rs says what they mean.
function readKind(value, atoms, out, at) {
	const kind = kindOf(value);
	out[at] = kind;
	out[at + 1] = kind === NON_FINITE ? nonFinite(value) : 0;
	out[at + 2] = -1;
}

// Which non-finite number: NaN 0, +Infinity 1, -Infinity 2.
function nonFinite(value) {
	return value !== value ? 0 : value > 0 ? 1 : 2;
}

// A string that is one of the schema's literals is LITERAL with its atom.
function readLiteral(value, atoms, out, at) {
	const atom = typeof value === 'string' ? atoms.get(value) : undefined;
	if (atom === undefined) return readKind(value, atoms, out, at);
	out[at] = LITERAL;
	out[at + 1] = atom;
	out[at + 2] = -1;
}

// An array also gives the index and kind of its first item that is not a string.
function readStringItems(value, atoms, out, at) {
	readKind(value, atoms, out, at);
	if (out[at] !== ARRAY) return;
	for (let i = 0, n = value.length; i < n; i++) {
		const v = value[i];
		if (typeof v !== 'string') {
			out[at + 1] = i;
			out[at + 2] = kindOf(v);
			return;
		}
	}
}

const READERS = { [MODE_KIND]: readKind, [MODE_LITERAL]: readLiteral, [MODE_STRING_ITEMS]: readStringItems };
const MODES = Object.keys(READERS);

// What a reader writes for a value whose read threw (a getter or a Proxy trap).
function threw(out, at) {
	out[at] = THREW;
	out[at + 1] = 0;
	out[at + 2] = -1;
}

// The payload's own probe at out[base]; whether its fields are to be read.
function readSelf(payload, atoms, out, base) {
	try {
		readKind(payload, atoms, out, base);
	} catch {
		threw(out, base);
	}
	return out[base] === OBJECT;
}

// How a reader loads one field, as a value (the reference reader) and as
// source text (the compiled one): the only step written twice, in one place.
function load(p, key) {
	return isInherited(key) ? readInherited(p, key) : p[key];
}
function loadCode(key) {
	const k = JSON.stringify(key);
	return isInherited(key) ? `readInherited(p, ${k})` : `p[${k}]`;
}

// Reads `payload` as `plan` ({ keys, modes }) says into `out` from index
// `base`: the payload itself, then each field. Returns the number of integers
// written. A getter or Proxy trap that throws is reported as THREW for that
// value, never thrown. This is the reference reader; compileReader() unrolls
// its loop per schema.
export function readPayload(plan, payload, atoms, out, base) {
	if (!readSelf(payload, atoms, out, base)) return 3;
	const { keys, modes } = plan;
	let at = base + 3;
	for (let i = 0; i < keys.length; i++, at += 3) {
		try {
			READERS[modes[i]](load(payload, keys[i]), atoms, out, at);
		} catch {
			threw(out, at);
		}
	}
	return at - base;
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
// way ajv compiles validators: readPayload()'s loop unrolled, so each field is
// a plain property load the engine can cache (a loop over keys is several
// times slower); every other step calls the reference reader's functions.
// Where `new Function` is not allowed, the reader is readPayload().
export function compileReader(plan) {
	const generic = (payload, atoms, out, base) => readPayload(plan, payload, atoms, out, base);
	if (!allowsEval()) return generic;
	const fields = plan.keys.map((key, i) => {
		const at = `base + ${3 * (i + 1)}`;
		return `
		try {
			mode${plan.modes[i]}(${loadCode(key)}, atoms, out, ${at});
		} catch {
			threw(out, ${at});
		}`;
	});
	const body = `
	return function read(p, atoms, out, base) {
		if (!readSelf(p, atoms, out, base)) return 3;${fields.join('')}
		return ${3 * (plan.keys.length + 1)};
	};`;
	try {
		const names = MODES.map((mode) => `mode${mode}`);
		const make = new Function('readSelf', 'threw', 'readInherited', ...names, body);
		return make(readSelf, threw, readInherited, ...MODES.map((mode) => READERS[mode]));
	} catch {
		return generic;
	}
}
