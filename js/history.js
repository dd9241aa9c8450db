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

export const HISTORY_FORMAT = 'kaiwa-bus/history';
export const HISTORY_VERSION = 1;
export const STATUSES = ['delivered', 'failed', 'rejected'];

const MAX_DEPTH = 60; // nesting kept by toPlain; deeper values become '[Too deep]'

/**
 * A JSON-safe copy of any value, for export and for the free-text search:
 * Dates become ISO strings (as JSON.stringify does), BigInts strings,
 * Maps and Sets arrays, a cycle the string '[Circular]', and what JSON drops
 * (functions, symbols, undefined) is dropped the same way.
 */
export function toPlain(value, ancestors = []) {
	if (value === null || typeof value !== 'object') {
		if (typeof value === 'bigint') return `${value}n`;
		if (typeof value === 'number' && !Number.isFinite(value)) return null;
		return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
	}
	if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
	if (ancestors.includes(value)) return '[Circular]';
	if (ancestors.length >= MAX_DEPTH) return '[Too deep]';
	const inner = [...ancestors, value];
	if (Array.isArray(value) || value instanceof Set) {
		return Array.from(value, (item) => toPlain(item, inner) ?? null);
	}
	if (value instanceof Map) {
		return Array.from(value, ([k, v]) => [toPlain(k, inner) ?? null, toPlain(v, inner) ?? null]);
	}
	if (value instanceof Error) return `${value.name}: ${value.message}`;
	const out = {};
	for (const key of Object.keys(value)) {
		let item;
		try {
			item = value[key];
		} catch (error) {
			item = `[getter threw: ${error?.message ?? error}]`;
		}
		const plain = toPlain(item, inner);
		if (plain !== undefined) out[key] = plain;
	}
	return out;
}

function formatDate(date) {
	return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

/** One record as it is exported: the record with its timestamp as an ISO string. */
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
		issues: record.issues.map(({ path, expected, received }) => ({ path, expected, received }))
	};
}

/** The exported document: `{ format, version, exportedAt, records }`. */
export function historyDocument(records) {
	return { format: HISTORY_FORMAT, version: HISTORY_VERSION, exportedAt: new Date().toISOString(), records: records.map(plainRecord) };
}

/**
 * Reads an exported document back (or a bare array of records, as
 * `JSON.stringify(bus.getEventHistory())` gives) into records with Date
 * timestamps. Throws an Error that says what is wrong.
 */
export function readHistoryDocument(text) {
	let doc;
	try {
		doc = JSON.parse(text);
	} catch (error) {
		throw new Error(`not JSON (${error.message})`);
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
	return list.map(readRecord);
}

const isText = (v) => typeof v === 'string';

function readRecord(r, i) {
	const where = `record ${i + 1}`;
	if (r === null || typeof r !== 'object') throw new Error(`${where} is not an object`);
	if (!Number.isFinite(r.id)) throw new Error(`${where}: "id" must be a number`);
	if (!isText(r.name)) throw new Error(`${where}: "name" must be a string`);
	if (!STATUSES.includes(r.status)) throw new Error(`${where}: "status" must be one of ${STATUSES.join(', ')}`);
	const timestamp = new Date(r.timestamp);
	if (!isText(r.timestamp) || Number.isNaN(timestamp.getTime())) throw new Error(`${where}: "timestamp" must be an ISO date`);
	const errors = r.errors ?? [];
	const issues = r.issues ?? [];
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
		issues
	};
}
