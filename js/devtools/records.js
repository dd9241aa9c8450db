// What the panel computes from records: the filter predicate and its search
// text, the domain menu's prefixes, the statistics of an imported file, and
// lookups by id. Pure functions over records; no DOM.

import { GAP_EVENT, toPlain } from '../history/index.js';

export const byId = (a, b) => a.id - b.id;

/** The index of the record with this id in a list sorted by id, or -1. */
export function indexOfId(records, id) {
	let lo = 0;
	let hi = records.length - 1;
	while (lo <= hi) {
		const mid = (lo + hi) >> 1;
		const at = records[mid].id;
		if (at === id) return mid;
		if (at < id) lo = mid + 1;
		else hi = mid - 1;
	}
	return -1;
}

// The domain menu offers prefixes up to this many levels ('a.b.c.d.*'):
// a name of 511 dots gives 4 entries, not 511.
const MENU_DEPTH = 4;

/** The domain patterns of a name, shortest first, at most `depth` of them: 'auth.*', 'auth.user.*'. */
export function prefixesOf(name, depth = Infinity) {
	const out = [];
	for (let dot = name.indexOf('.'); dot >= 0 && out.length < depth; dot = name.indexOf('.', dot + 1)) out.push(`${name.slice(0, dot)}.*`);
	return out;
}

/** The entries of the domain filter for these event names, sorted. */
export function domainsOf(names) {
	const out = new Set();
	for (const name of names) {
		for (const prefix of prefixesOf(name, MENU_DEPTH)) out.add(prefix);
	}
	return [...out].sort();
}

/**
 * Counts of keys (event names, userIds) among the records the panel keeps,
 * so that its menus offer what the records hold and nothing they dropped.
 * A Map: keys are untrusted strings ('__proto__' is a key like any other).
 */
export class Tally {
	#counts = new Map();

	/** Counts one more; true if the key is new. */
	add(key) {
		const n = this.#counts.get(key) ?? 0;
		this.#counts.set(key, n + 1);
		return n === 0;
	}

	/** Counts one less; true if that was the last. */
	remove(key) {
		const n = this.#counts.get(key);
		if (n === undefined) return false;
		if (n > 1) {
			this.#counts.set(key, n - 1);
			return false;
		}
		this.#counts.delete(key);
		return true;
	}

	clear() {
		this.#counts.clear();
	}

	keys() {
		return this.#counts.keys();
	}

	/** The keys in order, at most `limit` of them. */
	sorted(limit) {
		return [...this.#counts.keys()].sort().slice(0, limit);
	}
}

/**
 * The statistics of a list of records, shaped as getPerformanceStats() gives
 * them for a live bus: dispatches counted, durations over the timed ones.
 */
export function statsOf(records) {
	const out = Object.create(null); // keyed by untrusted names: no prototype to write into
	for (const r of records) {
		if (r.status === 'rejected') continue; // never dispatched
		const s = (out[r.name] ??= { count: 0, timedCount: 0, averageDuration: null, minDuration: null, maxDuration: null, total: 0 });
		s.count++;
		if (r.durationMs === null) continue;
		s.timedCount++;
		s.total += r.durationMs;
		s.minDuration = Math.min(s.minDuration ?? Infinity, r.durationMs);
		s.maxDuration = Math.max(s.maxDuration ?? -Infinity, r.durationMs);
		s.averageDuration = s.total / s.timedCount;
	}
	return out;
}

/** The payload's `userId`, or undefined (a throwing getter counts as none). */
export function userIdOf(payload) {
	try {
		return payload !== null && typeof payload === 'object' && 'userId' in payload ? payload.userId : undefined;
	} catch {
		return undefined;
	}
}

/** The rule of bus.getEventFlow(userId): the payload's own `userId` equals it. */
function hasUser(payload, userId) {
	return userIdOf(payload) === userId;
}

const searchText = new WeakMap(); // record -> its lower-cased searchable text, built on first search

function textOf(record) {
	let text = searchText.get(record);
	if (text === undefined) {
		const parts = [record.name, JSON.stringify(toPlain(record.payload)) ?? '', ...record.errors];
		for (const issue of record.issues) parts.push(issue.path, issue.expected, issue.received);
		text = parts.join('\n').toLowerCase();
		searchText.set(record, text);
	}
	return text;
}

/** Forgets a record's search text (the record was replaced). */
export function forgetText(record) {
	searchText.delete(record);
}

/** Where a record's event came from: 'local' unless it says otherwise. */
export const sourceOf = (record) => record.source ?? 'local';

/** Whether a record is a relay bus's gap (events were missed before it): a marker row. */
export const isGap = (record) => record.name === GAP_EVENT && sourceOf(record) === 'remote';

/** A predicate for `{ domain: 'auth.*' | '', name, text, user, source }`; empty fields match everything. */
export function compileFilter({ domain, name, text, user, source }) {
	const prefix = domain ? domain.slice(0, -1) : ''; // 'auth.*' -> 'auth.'
	const needle = text.trim().toLowerCase();
	const userId = user.trim();
	return (record) =>
		(!prefix || record.name.startsWith(prefix)) &&
		(!name || record.name === name) &&
		(!source || sourceOf(record) === source) &&
		(!userId || hasUser(record.payload, userId)) &&
		(!needle || textOf(record).includes(needle));
}
