// What every Event Store shares: the shape of a stored event, its checks,
// the filters a store reads by, and StoreError. The stores themselves are
// MemoryEventStore (js/store/memory.js) and IndexedDbEventStore
// (js/store/indexeddb.js); `kaiwa-bus/store` (js/store/index.js) exports them.
//
// A stored event is one history record (see EventRecord in index.d.ts, and
// the `kaiwa-bus/history` format, whose statuses and sources it shares) plus
// what a store needs to find it again:
//   { v, eid, seq, id, name, payload, timestamp, source, status,
//     handlerCount, durationMs, errors, issues, userId, offset }
// `v` is the format version (STORED_EVENT_VERSION). `eid` is unique across
// tabs and sessions, so an event offered twice (by two tabs sharing a store,
// or a retried batch) is stored once. `seq` is given by the store and
// increases in the order events were appended. `userId` is the payload's
// string `userId`, copied out so that a store can index it.

import { SOURCES, STATUSES } from '../history/index.js';

/** The version of a stored event's shape; a record of another version is skipped when read. */
export const STORED_EVENT_VERSION = 1;

/**
 * A store error with a `kind` a caller can act on:
 * 'unavailable' (no IndexedDB, or it failed to open), 'blocked' (another tab
 * holds an older version open), 'quota' (storage is full), 'closed', or
 * 'failed' (any other failure). `cause` holds the browser's own error.
 */
export class StoreError extends Error {
	/**
	 * @param {'unavailable' | 'blocked' | 'quota' | 'closed' | 'failed'} kind
	 * @param {string} message
	 * @param {unknown} [cause]
	 */
	constructor(kind, message, cause) {
		super(`kaiwa-bus store: ${message}`, cause === undefined ? undefined : { cause });
		this.name = /** @type {const} */ ('StoreError');
		this.kind = kind;
	}
}

/**
 * Whether an event name matches a subscription pattern: exact, `prefix.*` or `*`.
 * @param {string} pattern
 * @param {string} name
 * @returns {boolean}
 */
export function matchesPattern(pattern, name) {
	if (pattern === '*' || pattern === name) return true;
	return pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1));
}

function userIdOf(payload) {
	try {
		const id = payload !== null && typeof payload === 'object' ? payload.userId : undefined;
		return typeof id === 'string' ? id : null;
	} catch {
		// A payload whose getter throws has no user we can tell.
		return null;
	}
}

let sessionPrefix = null;
let eidCount = 0;
function newEid() {
	if (typeof globalThis.crypto?.randomUUID === 'function') return globalThis.crypto.randomUUID();
	sessionPrefix ??= `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
	return `${sessionPrefix}-${++eidCount}`;
}

/**
 * A stored event from what a caller hands a store: a history record, or the
 * seed's bare `{ name, payload }`. Throws a TypeError that names the field
 * at fault; the input is not changed. The store gives it its `seq`.
 * @returns {Omit<import('./index.js').StoredEvent, 'seq'>}
 */
export function toStoredEvent(input) {
	if (input === null || typeof input !== 'object') {
		throw new TypeError(`kaiwa-bus store: an event must be an object, got ${input === null ? 'null' : typeof input}`);
	}
	const { name, payload = null, timestamp = new Date(), source = 'local', status = 'delivered' } = input;
	if (typeof name !== 'string' || name === '') throw new TypeError('kaiwa-bus store: an event needs a non-empty string "name"');
	const time = timestamp instanceof Date ? timestamp : new Date(timestamp);
	if (Number.isNaN(time.getTime())) throw new TypeError(`kaiwa-bus store: ${name}: "timestamp" is not a valid date`);
	if (!SOURCES.includes(source)) throw new TypeError(`kaiwa-bus store: ${name}: "source" must be one of ${SOURCES.join(', ')}`);
	if (!STATUSES.includes(status)) throw new TypeError(`kaiwa-bus store: ${name}: "status" must be one of ${STATUSES.join(', ')}`);
	return {
		v: STORED_EVENT_VERSION,
		eid: typeof input.eid === 'string' && input.eid !== '' ? input.eid : newEid(),
		id: Number.isFinite(input.id) ? input.id : null,
		name,
		payload,
		timestamp: time,
		source,
		status,
		handlerCount: Number.isFinite(input.handlerCount) ? input.handlerCount : 0,
		durationMs: Number.isFinite(input.durationMs) ? input.durationMs : null,
		errors: Array.isArray(input.errors) ? input.errors.map(String) : [],
		issues: Array.isArray(input.issues) ? input.issues.map(({ path, expected, received }) => ({ path, expected, received })) : [],
		userId: userIdOf(payload),
		offset: typeof input.offset === 'string' ? input.offset : null
	};
}

/**
 * Whether a value read back from storage is a stored event this version can
 * use. Anything else (another version's record, a corrupted or hand-edited
 * one) is skipped and counted by the store, never handed on.
 */
export function isStoredEvent(value) {
	return (
		value !== null &&
		typeof value === 'object' &&
		value.v === STORED_EVENT_VERSION &&
		typeof value.eid === 'string' &&
		typeof value.name === 'string' &&
		value.timestamp instanceof Date &&
		!Number.isNaN(value.timestamp.getTime()) &&
		SOURCES.includes(value.source) &&
		STATUSES.includes(value.status) &&
		Array.isArray(value.errors) &&
		Array.isArray(value.issues)
	);
}

/**
 * Checks a read filter and returns a predicate over stored events.
 * Filter fields, all optional: `name` (exact), `pattern` ('auth.*', '*'),
 * `userId`, `since` and `until` (Dates or ms, inclusive), `afterSeq`
 * (events appended after that seq), `eid`.
 * @param {import('./index.js').StoreFilter} [filter]
 */
export function compileFilter(filter = {}) {
	if (filter === null || typeof filter !== 'object') throw new TypeError('kaiwa-bus store: a filter must be an object');
	const { name, pattern, userId, eid, afterSeq } = filter;
	const since = filter.since === undefined ? -Infinity : +filter.since;
	const until = filter.until === undefined ? Infinity : +filter.until;
	if (Number.isNaN(since) || Number.isNaN(until))
		throw new TypeError('kaiwa-bus store: filter.since and filter.until must be Dates or numbers');
	return (event) =>
		(name === undefined || event.name === name) &&
		(pattern === undefined || matchesPattern(pattern, event.name)) &&
		(userId === undefined || event.userId === userId) &&
		(eid === undefined || event.eid === eid) &&
		(afterSeq === undefined || event.seq > afterSeq) &&
		event.timestamp.getTime() >= since &&
		event.timestamp.getTime() <= until;
}

/** The `limit` of a read: a whole number from 1 up, or Infinity. */
export function readLimit(filter = {}) {
	const { limit = Infinity } = filter;
	if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1)) {
		throw new RangeError(`kaiwa-bus store: filter.limit must be a whole number from 1 up, got ${String(limit)}`);
	}
	return limit;
}

/**
 * Checks `retain = { maxEvents, maxAgeMs }`; each is optional.
 * @param {import('./index.js').Retention} [retain]
 */
export function readRetention(retain = {}) {
	if (retain === null || typeof retain !== 'object') throw new TypeError('kaiwa-bus store: retain must be an object');
	const { maxEvents = Infinity, maxAgeMs = Infinity } = retain;
	for (const [key, value] of Object.entries({ maxEvents, maxAgeMs })) {
		if (value !== Infinity && (!Number.isInteger(value) || value < 0)) {
			throw new RangeError(`kaiwa-bus store: retain.${key} must be a whole number from 0 up, got ${String(value)}`);
		}
	}
	return { maxEvents, maxAgeMs };
}
