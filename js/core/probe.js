// The payload reader: it looks at a payload as a schema's plan says and
// describes what it sees as integers, which Rust then validates. The reader
// only describes values; Rust decides whether they are acceptable.
//
// The description (src/schema/probe.rs, "The packed description"): probe j
// is the payload (0) or field j - 1. Each probe's kind is four bits: probes
// 0 to 7 in the word a reader returns, later ones eight to a word written
// after the extras. The extras are two integers per probe at out[base + 2j]
// and out[base + 2j + 1], written only for the kinds that have them (a
// literal's atom, which non-finite number, an array's first non-string
// item). A valid payload of a plain schema is thus one returned integer,
// and nothing written.

import { KIND, KIND_BITS, KIND_NAMES, KINDS_PER_WORD, PROBE_EXTRAS, READ_MODE } from './contract.js';

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

/** Integers a plan's reader may write: the extras of every probe, then the words of kinds past the first. */
export function probeWidth(plan) {
	const probes = plan.keys.length + 1;
	return PROBE_EXTRAS * probes + Math.ceil(probes / KINDS_PER_WORD) - 1;
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

// A Date (this realm's, or a subclass): getTime() tells a valid one from an
// invalid one. Anything else that passed `instanceof Date` (an object made
// from Date.prototype, a Proxy) gets what objectKind gives it.
function dateKind(value) {
	try {
		const time = getTime.call(value);
		return time === time ? DATE : INVALID_DATE;
	} catch {
		return objectKind(value);
	}
}

// The prototype of an object that is not a Proxy, read as the `__proto__`
// property: the engine inlines that load, where Object.getPrototypeOf() is
// a call of about 8 ns. undefined if it throws (a Proxy's trap).
function protoOf(value) {
	try {
		return value.__proto__;
	} catch {
		return undefined;
	}
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

// One reader per read mode: each returns the kind of one value, and writes
// its extras at out[at] and out[at + 1] if it has any.
function readKind(value, atoms, out, at) {
	const kind = kindOf(value);
	if (kind === NON_FINITE) out[at] = nonFinite(value);
	return kind;
}

// Which non-finite number: NaN 0, +Infinity 1, -Infinity 2.
function nonFinite(value) {
	return value !== value ? 0 : value > 0 ? 1 : 2;
}

// A string that is one of the schema's literals is LITERAL, with its atom.
function readLiteral(value, atoms, out, at) {
	const atom = typeof value === 'string' ? atoms.get(value) : undefined;
	if (atom === undefined) return readKind(value, atoms, out, at);
	out[at] = atom;
	return LITERAL;
}

// An array also gives the kind of its first item that is not a string (-1:
// none), and that item's index.
function readStringItems(value, atoms, out, at) {
	const kind = readKind(value, atoms, out, at);
	if (kind !== ARRAY) return kind;
	out[at + 1] = -1;
	for (let i = 0, n = value.length; i < n; i++) {
		const v = value[i];
		if (typeof v !== 'string') {
			out[at] = i;
			out[at + 1] = kindOf(v);
			break;
		}
	}
	return ARRAY;
}

const READERS = { [MODE_KIND]: readKind, [MODE_LITERAL]: readLiteral, [MODE_STRING_ITEMS]: readStringItems };
const MODES = Object.keys(READERS);

// The payload's own kind (its extras at out[base]); its fields are read
// only if it is an OBJECT.
function readSelf(payload, atoms, out, base) {
	try {
		return readKind(payload, atoms, out, base);
	} catch {
		return THREW;
	}
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

// Where word k of kinds goes (k >= 1: probes 8k to 8k + 7), from `base`.
function wordAt(plan, k) {
	return PROBE_EXTRAS * (plan.keys.length + 1) + k - 1;
}

// Reads `payload` as `plan` ({ keys, modes }) says: the payload itself, then
// each field, extras into `out` from index `base`. Returns the first word of
// kinds. A getter or Proxy trap that throws is described as THREW for that
// value, never thrown. This is the reference reader; compileReader()
// unrolls its loop per schema.
export function readPayload(plan, payload, atoms, out, base) {
	const self = readSelf(payload, atoms, out, base);
	if (self !== OBJECT) return self;
	const { keys, modes } = plan;
	/** @type {number} */
	let word = self;
	let first = 0;
	for (let j = 1; j <= keys.length; j++) {
		let kind;
		try {
			kind = READERS[modes[j - 1]](load(payload, keys[j - 1]), atoms, out, base + PROBE_EXTRAS * j);
		} catch {
			kind = THREW;
		}
		const slot = j % KINDS_PER_WORD;
		if (slot === 0) {
			// Probe j starts word j / 8: the one before is complete.
			if (j === KINDS_PER_WORD) first = word;
			else out[base + wordAt(plan, j / KINDS_PER_WORD - 1)] = word;
			word = 0;
		}
		word |= kind << (KIND_BITS * slot);
	}
	if (keys.length < KINDS_PER_WORD) return word;
	out[base + wordAt(plan, Math.floor(keys.length / KINDS_PER_WORD))] = word;
	return first;
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
// times slower), its kind shifted into place by a constant; every other step
// calls the reference reader's functions. Where `new Function` is not
// allowed, the reader is readPayload().
export function compileReader(plan) {
	const generic = (payload, atoms, out, base) => readPayload(plan, payload, atoms, out, base);
	if (!allowsEval()) return generic;
	// Word k of kinds is the variable w (k = 0) or wk.
	const words = ['w'];
	const fields = plan.keys.map((key, i) => {
		const j = i + 1;
		const k = Math.floor(j / KINDS_PER_WORD);
		if (k === words.length) words.push(`w${k}`);
		const shift = KIND_BITS * (j % KINDS_PER_WORD);
		// A string read in mode Kind is STRING, with no extras: said inline,
		// which keeps the reader small enough for the engine to inline the
		// rest (a Date field's check) whole: 3-5x faster.
		const read = `mode${plan.modes[i]}(v, atoms, out, base + ${PROBE_EXTRAS * j})`;
		// So is a Date, whose check is then small enough to inline too.
		const kind = plan.modes[i] === MODE_KIND ? `typeof v === 'string' ? ${STRING} : v instanceof Date ? dateKind(v) : ${read}` : read;
		return `
		try {
			const v = ${loadCode(key)};
			${words[k]} |= (${kind}) << ${shift};
		} catch {
			${words[k]} |= ${THREW << shift};
		}`;
	});
	const later = words.slice(1);
	// The payload: a plain object, the common case, is told inline by its
	// \`__proto__\`. Anything else goes to readSelf(), as in the reference
	// reader: a Proxy (its get trap may throw, or lie), an array or a Date
	// whose own "__proto__" key claims Object.prototype. The one case told
	// apart from the reference reader: a Date of another realm (an iframe's)
	// given a "__proto__" key holding this realm's Object.prototype, which
	// reads as an object.
	const body = `
	return function read(p, atoms, out, base) {
		let w = ${OBJECT};
		if (typeof p !== 'object' || p === null || protoOf(p) !== OBJECT_PROTOTYPE || isArray(p) || p instanceof Date) {
			w = readSelf(p, atoms, out, base);
			if (w !== ${OBJECT}) return w;
		}${later
			.map(
				(w) => `
		let ${w} = 0;`
			)
			.join('')}${fields.join('')}${later
			.map(
				(w, i) => `
		out[base + ${wordAt(plan, i + 1)}] = ${w};`
			)
			.join('')}
		return w;
	};`;
	try {
		const names = MODES.map((mode) => `mode${mode}`);
		const make = new Function('readSelf', 'readInherited', 'protoOf', 'isArray', 'dateKind', 'OBJECT_PROTOTYPE', ...names, body);
		return make(readSelf, readInherited, protoOf, Array.isArray, dateKind, OBJECT_PROTOTYPE, ...MODES.map((mode) => READERS[mode]));
	} catch {
		return generic;
	}
}

/** What the bus keeps per event with a schema: its reader and width, or null without a plan. */
export function planOf(plan) {
	if (plan === undefined) return null;
	return { read: compileReader(plan), width: probeWidth(plan) };
}

/** The schemas' literals (the core's atoms), by text: literal -> atom id. */
export function atomMap(atoms) {
	const map = new Map();
	atoms.forEach((atom, id) => map.set(atom, id));
	return map;
}
