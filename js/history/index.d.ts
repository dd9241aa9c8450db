// Types of `kaiwa-bus/history`: the history record format (docs/history-format.md).

import type { EventBus, EventRecord, Status, ValidationIssue } from '../index.js';

export declare const HISTORY_FORMAT: 'kaiwa-bus/history';
export declare const HISTORY_VERSION: 1;
export declare const STATUSES: readonly Status[];

/** Where a record's event came from; a record without one is 'local'. 'devtools': emitted from the panel; 'replay': replayed by it. */
export type RecordSource = 'local' | 'tab' | 'remote' | 'restored' | 'devtools' | 'replay';
export declare const SOURCES: readonly RecordSource[];
/** The event a relay bus records (source 'remote') when a resume was not honoured: a gap. */
export declare const GAP_EVENT: 'kaiwa.relay.gap';
/** Its schema: `{ epoch: 'string', offset: 'string', lostAfter: 'string?' }`. */
export declare const GAP_SCHEMA: {
	readonly name: 'kaiwa.relay.gap';
	readonly version: '1.0.0';
	readonly description: string;
	readonly payload: { readonly epoch: 'string'; readonly offset: 'string'; readonly lostAfter: 'string?' };
};

/** One record as the format writes it: JSON-safe, its timestamp an ISO string. */
export interface PlainRecord {
	id: number;
	name: string;
	/** The payload made JSON-safe by toPlain. */
	payload: unknown;
	/** ISO 8601. */
	timestamp: string;
	status: Status;
	handlerCount: number;
	durationMs: number | null;
	errors: string[];
	issues: ValidationIssue[];
	/** Written when the record has one; read as 'local' when absent. */
	source?: RecordSource;
	/** The position of the event in the transport or store it came from, when it has one. */
	offset?: number | string;
}

/** A record as readHistoryDocument gives it back: a history record with its source. */
export type ReadRecord = EventRecord & { source: RecordSource; offset?: number | string };

/** The document: `{ format, version, exportedAt, records }`. */
export interface HistoryDocument {
	format: 'kaiwa-bus/history';
	version: 1;
	/** ISO 8601. */
	exportedAt: string;
	records: PlainRecord[];
}

/**
 * A JSON-safe copy of any value (Dates as ISO strings, cycles as '[Circular]',
 * what a trap or getter refuses as '[unreadable: …]'). Never throws; walks each
 * object once and writes a bounded amount ('[Repeated]', '[Truncated]' past it).
 */
export declare function toPlain(value: unknown): unknown;
/** One record, JSON-safe. */
export declare function plainRecord(record: EventRecord & { source?: RecordSource; offset?: number | string }): PlainRecord;
/** The document for these records, oldest first. */
export declare function historyDocument(records: readonly EventRecord[]): HistoryDocument;
/**
 * Reads a document (or a bare JSON array of records) back into records with
 * Date timestamps, sorted by id. Throws an Error naming the record and field at fault.
 */
export declare function readHistoryDocument(text: string): ReadRecord[];
/**
 * The payload with its schema's Date fields (by the event's schema on `bus`)
 * turned from ISO strings back into Dates, in place. `cache` keeps each
 * event's Date fields between calls.
 */
export declare function reviveDates<T>(bus: Pick<EventBus<any>, 'getSchema'>, name: string, payload: T, cache?: Map<string, string[]>): T;
