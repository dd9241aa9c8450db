// The history record format, `kaiwa-bus/history` version 1: how a bus's
// history records are written to JSON and read back. The devtools panel's
// Export and Import use it, and so will any store that keeps records
// (IndexedDB, a server): one format, one reader. Shipped as the
// `kaiwa-bus/history` entry point; docs/history-format.md describes the
// document field by field.
//
//   historyDocument(records)  -> { format, version, exportedAt, records }
//   plainRecord(record)       -> one record, JSON-safe
//   toPlain(value)            -> any payload, JSON-safe
//   readHistoryDocument(text) -> records with Date timestamps, or an Error
//                                that names the record and field at fault
//   reviveDates(bus, name, payload) -> the payload's Date fields (by the
//                                event's schema) back from ISO strings

import { HIDDEN_IN_NAMES, MAX_NAME_LEN } from '../core/contract.js';
import { messageOf } from '../core/errors.js';

export const HISTORY_FORMAT = 'kaiwa-bus/history';
export const HISTORY_VERSION = 1;
/** @type {readonly import('../index.js').Status[]} */
export const STATUSES = ['delivered', 'failed', 'rejected'];
/**
 * Where a record's event came from; a record without one is 'local'.
 * 'devtools': emitted from the devtools panel; 'replay': replayed by it.
 */
/** @type {readonly import('./index.js').RecordSource[]} */
export const SOURCES = ['local', 'tab', 'remote', 'restored', 'devtools', 'replay'];
/**
 * The event a relay bus records, with source 'remote', when the relay could
 * not resume where the bus left off (a gap: events were missed). Its payload
 * is GAP_SCHEMA's: the relay's new epoch and offset, and the last offset the
 * bus had seen (absent if none).
 */
export const GAP_EVENT = 'kaiwa.relay.gap';
export const GAP_SCHEMA = Object.freeze({
	name: GAP_EVENT,
	version: '1.0.0',
	description: 'The relay could not resume from the last offset this bus saw: the events after lostAfter were missed.',
	payload: Object.freeze({ epoch: 'string', offset: 'string', lostAfter: 'string?' })
});

const MAX_DEPTH = 60; // nesting kept by toPlain; deeper values become '[Too deep]'
// What one toPlain call writes at most, in units: 1 per value, plus 1 per
// KiB of string. Past it, what is left of an array, a Map or a Set is one
// last item '[Truncated: n more items]', what is left of an object one key
// '[Truncated]': 'n more keys', and a sub-object seen before whose copy
// would not fit '[Repeated]'.
const BUDGET = 20_000;

// Brand checks that hold across realms (an iframe's Map is not an instanceof
// this page's Map): each throws on anything but its own kind.
const tagOf = Object.prototype.toString;
const UNBOX = {
	'[object Number]': Number.prototype.valueOf,
	'[object String]': String.prototype.valueOf,
	'[object Boolean]': Boolean.prototype.valueOf,
	'[object BigInt]': BigInt.prototype.valueOf
};
const mapEntries = Map.prototype.entries;
const setValues = Set.prototype.values;
const sizeOf = {
	'[object Map]': Object.getOwnPropertyDescriptor(Map.prototype, 'size').get,
	'[object Set]': Object.getOwnPropertyDescriptor(Set.prototype, 'size').get
};

/**
 * A JSON-safe copy of any value, for export, for the free-text search, and
 * for a stored payload IndexedDB cannot copy. It is what JSON.stringify
 * writes wherever JSON.stringify can write something: a value with
 * `toJSON()` is written as what that returns (a Date its ISO string, a URL
 * its href, a class that hides a field through toJSON without it), boxed
 * primitives as their value; from any realm. Beyond JSON: BigInts become
 * strings ('12n'), Maps arrays of [key, value], Sets arrays, Errors
 * 'Name: message', a cycle the string '[Circular]'; what JSON drops
 * (functions, symbols, undefined) is dropped the same way.
 *
 * Never throws, and its work and output are bounded (BUDGET): each object is
 * walked once (by identity; a sub-object reused elsewhere shares its copy
 * while the budget lasts), the items of an array are read only while the
 * budget lasts, and a value whose traps, getters or toJSON throw becomes
 * '[unreadable: …]', '[getter threw: …]' or '[toJSON threw: …]'.
 * @param {unknown} value
 * @returns {unknown}
 */
export function toPlain(value) {
	return new Walk().plain(value, 0, '');
}

class Walk {
	budget = BUDGET;
	copies = new Map(); // object -> { plain, cost }: walked once
	ancestors = new Set();

	// `key` is what JSON.stringify hands toJSON: the key, the index as a
	// string, '' for the value itself.
	plain(value, depth, key) {
		if (this.budget <= 0) return '[Truncated]';
		if (value === null || typeof value !== 'object') return this.primitive(value);
		const seen = this.copies.get(value);
		if (seen) {
			if (seen.cost > this.budget) return '[Repeated]';
			this.budget -= seen.cost;
			return seen.plain;
		}
		if (this.ancestors.has(value)) return '[Circular]';
		if (depth >= MAX_DEPTH) return '[Too deep]';
		const before = this.budget--;
		this.ancestors.add(value);
		let plain;
		try {
			plain = this.object(value, depth + 1, key);
		} catch (error) {
			plain = `[unreadable: ${messageOf(error)}]`; // a Proxy trap threw
		}
		this.ancestors.delete(value);
		this.copies.set(value, { plain, cost: before - this.budget });
		return plain;
	}

	primitive(value) {
		this.budget -= typeof value === 'string' ? 1 + (value.length >> 10) : 1;
		if (typeof value === 'bigint') return `${value}n`;
		if (typeof value === 'number' && !Number.isFinite(value)) return null;
		return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
	}

	object(value, depth, key) {
		const toJSON = value.toJSON;
		if (typeof toJSON !== 'function') return this.contents(value, depth);
		let json;
		try {
			json = toJSON.call(value, key);
		} catch (error) {
			return `[toJSON threw: ${messageOf(error)}]`;
		}
		// Its result is written as it is (its own toJSON is not called again,
		// as JSON.stringify does), its members as any value.
		if (json === value) return this.contents(value, depth);
		return json === null || typeof json !== 'object' ? this.primitive(json) : this.plain(json, depth, key);
	}

	contents(value, depth) {
		if (Array.isArray(value)) return this.list(value.length, (i) => value[i], depth);
		const tag = tagOf.call(value);
		const unbox = UNBOX[tag];
		if (unbox !== undefined) {
			try {
				return this.primitive(unbox.call(value));
			} catch {
				// A tag that lies: an ordinary object.
			}
		}
		const size = sizeOf[tag];
		if (size !== undefined) {
			try {
				const iterator = (tag === '[object Map]' ? mapEntries : setValues).call(value);
				return this.list(size.call(value), () => iterator.next().value, depth, tag === '[object Map]');
			} catch {
				// A tag that lies: an ordinary object.
			}
		}
		if (tag === '[object Error]') return `${value.name}: ${value.message}`;
		return this.fields(value, depth);
	}

	// The first items of a list of `length` while the budget lasts, then one
	// marker for the rest: never reads past it (a sparse array of length
	// 2^32 - 1 costs what 20,000 items cost).
	list(length, next, depth, pairs = false) {
		const out = [];
		for (let i = 0; i < length; i++) {
			if (this.budget <= 0) {
				out.push(`[Truncated: ${length - i} more items]`);
				break;
			}
			const item = next(i);
			out.push(
				pairs
					? [this.plain(item[0], depth, '0') ?? null, this.plain(item[1], depth, '1') ?? null]
					: (this.plain(item, depth, `${i}`) ?? null)
			);
		}
		return out;
	}

	fields(value, depth) {
		const out = {};
		const keys = Object.keys(value);
		for (let i = 0; i < keys.length; i++) {
			const key = keys[i];
			if (this.budget <= 0) {
				define(out, '[Truncated]', `${keys.length - i} more keys`);
				break;
			}
			let item;
			try {
				item = value[key];
			} catch (error) {
				item = `[getter threw: ${messageOf(error)}]`;
			}
			const plain = this.plain(item, depth, key);
			if (plain !== undefined) define(out, key, plain);
		}
		return out;
	}
}

// A key named __proto__ is a key: `out[key] =` would set the prototype.
function define(out, key, value) {
	if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
	else out[key] = value;
}

// The payload's fields a schema types `Date` (or `Date?`), by event name.
function dateFields(bus, name, cache) {
	let fields = cache.get(name);
	if (fields === undefined) {
		const schema = bus.getSchema(name);
		fields = schema ? Object.keys(schema.payload).filter((key) => /^\s*Date\s*\??\s*$/.test(schema.payload[key])) : [];
		cache.set(name, fields);
	}
	return fields;
}

/**
 * The payload with its schema's Date fields turned back from ISO strings
 * into Dates (in place): what JSON made of a payload (an export, the relay)
 * as it was emitted.
 * @template T
 * @param {Pick<import('../index.js').EventBus<any>, 'getSchema'>} bus
 * @param {string} name
 * @param {T} payload
 * @param {Map<string, string[]>} [cache]
 * @returns {T}
 */
export function reviveDates(bus, name, payload, cache = new Map()) {
	if (payload === null || typeof payload !== 'object') return payload;
	for (const key of dateFields(bus, name, cache)) {
		const value = payload[key];
		if (typeof value === 'string') {
			const date = new Date(value);
			if (!Number.isNaN(date.getTime())) payload[key] = date;
		}
	}
	return payload;
}

function formatDate(date) {
	return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

/**
 * One record as it is exported: the record with its timestamp as an ISO string.
 * @param {import('../index.js').EventRecord & { source?: import('./index.js').RecordSource, offset?: number | string }} record
 * @returns {import('./index.js').PlainRecord}
 */
export function plainRecord(record) {
	return {
		id: record.id,
		name: record.name,
		payload: toPlain(record.payload) ?? null,
		timestamp: formatDate(record.timestamp),
		status: record.status,
		handlerCount: record.handlerCount,
		durationMs: record.durationMs ?? null,
		errors: [...record.errors],
		issues: record.issues.map(({ path, expected, received }) => ({ path, expected, received })),
		...(record.source === undefined ? {} : { source: record.source }),
		...(record.offset === undefined ? {} : { offset: record.offset })
	};
}

/**
 * The exported document: `{ format, version, exportedAt, records }`.
 * @param {readonly import('../index.js').EventRecord[]} records
 * @returns {import('./index.js').HistoryDocument}
 */
export function historyDocument(records) {
	return { format: HISTORY_FORMAT, version: HISTORY_VERSION, exportedAt: new Date().toISOString(), records: records.map(plainRecord) };
}

/**
 * Reads an exported document back (or a bare array of records, as
 * `JSON.stringify(bus.getEventHistory())` gives) into records with Date
 * timestamps. Throws an Error that says what is wrong.
 * @param {string} text
 * @returns {import('./index.js').ReadRecord[]}
 */
export function readHistoryDocument(text) {
	let doc;
	try {
		doc = JSON.parse(text);
	} catch (error) {
		throw new Error(`not JSON (${error.message})`, { cause: error });
	}
	let list = doc;
	if (!Array.isArray(doc)) {
		if (doc === null || typeof doc !== 'object' || doc.format !== HISTORY_FORMAT) {
			throw new Error(`not a kaiwa-bus history export (expected "format": "${HISTORY_FORMAT}")`);
		}
		if (doc.version !== HISTORY_VERSION) throw new Error(`unsupported export version ${JSON.stringify(doc.version)}`);
		list = doc.records;
		if (!Array.isArray(list)) throw new Error('"records" must be an array');
	}
	const records = list.map(readRecord);
	// Ids are unique in a history: the panel selects a record by its id.
	const first = new Map(); // id -> index in the file
	for (const [i, r] of records.entries()) {
		if (first.has(r.id)) throw new Error(`record ${i + 1}: duplicate "id" ${r.id} (record ${first.get(r.id) + 1} has it)`);
		first.set(r.id, i);
	}
	return records.sort((a, b) => a.id - b.id);
}

const isText = (v) => typeof v === 'string';

function readRecord(r, i) {
	const where = `record ${i + 1}`;
	if (r === null || typeof r !== 'object') throw new Error(`${where} is not an object`);
	if (!Number.isFinite(r.id)) throw new Error(`${where}: "id" must be a number`);
	checkName(r.name, where);
	if (!STATUSES.includes(r.status)) throw new Error(`${where}: "status" must be one of ${STATUSES.join(', ')}`);
	const timestamp = new Date(r.timestamp);
	if (!isText(r.timestamp) || Number.isNaN(timestamp.getTime())) throw new Error(`${where}: "timestamp" must be an ISO date`);
	const errors = r.errors ?? [];
	const issues = r.issues ?? [];
	const source = r.source ?? 'local';
	if (!SOURCES.includes(source)) throw new Error(`${where}: "source" must be one of ${SOURCES.join(', ')}`);
	const offset = r.offset ?? undefined;
	if (offset !== undefined && !Number.isFinite(offset) && !isText(offset))
		throw new Error(`${where}: "offset" must be a number or a string`);
	const durationMs = r.durationMs ?? null;
	if (durationMs !== null && !Number.isFinite(durationMs)) throw new Error(`${where}: "durationMs" must be a number or null`);
	if (!Array.isArray(errors) || !errors.every(isText)) throw new Error(`${where}: "errors" must be an array of strings`);
	if (!Array.isArray(issues) || !issues.every((x) => x && isText(x.path) && isText(x.expected) && isText(x.received))) {
		throw new Error(`${where}: "issues" must be an array of { path, expected, received }`);
	}
	return {
		id: r.id,
		name: r.name,
		payload: r.payload ?? null,
		timestamp,
		status: r.status,
		handlerCount: Number(r.handlerCount) || 0,
		durationMs,
		errors,
		issues,
		source,
		...(offset === undefined ? {} : { offset })
	};
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The UTF-8 length of a string (a lone surrogate counts 3, as U+FFFD). */
function utf8Length(text) {
	let bytes = 0;
	for (let i = 0; i < text.length; i++) {
		const unit = text.charCodeAt(i);
		if (unit < 0x80) bytes += 1;
		else if (unit < 0x800) bytes += 2;
		else if (unit >= 0xd800 && unit < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
			bytes += 4; // a surrogate pair
			i++;
		} else bytes += 3;
	}
	return bytes;
}

// An imported name obeys the rules of a live one (js/core/checks.js requireName,
// and the bus's check_event_name): a non-empty, well-formed string of at
// most MAX_NAME_LEN UTF-8 bytes, without a control or invisible character.
function checkName(name, where) {
	if (!isText(name)) throw new Error(`${where}: "name" must be a string`);
	if (name === '') throw new Error(`${where}: "name" must not be empty`);
	const bytes = utf8Length(name);
	if (bytes > MAX_NAME_LEN) throw new Error(`${where}: "name" is ${bytes} bytes long; the limit is ${MAX_NAME_LEN} bytes`);
	if (LONE_SURROGATE.test(name)) throw new Error(`${where}: "name" contains a lone surrogate (it is not well-formed Unicode)`);
	const hidden = HIDDEN_IN_NAMES.exec(name);
	if (hidden) {
		const code = `U+${hidden[0].codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
		throw new Error(`${where}: "name" contains ${code}, a control or invisible character, which would make it look like another name`);
	}
}
