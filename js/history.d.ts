// Types of `kaiwa-bus/history`: the history record format (docs/history-format.md).

import type { EventRecord, Status, ValidationIssue } from './index.js';

export declare const HISTORY_FORMAT: 'kaiwa-bus/history';
export declare const HISTORY_VERSION: 1;
export declare const STATUSES: readonly Status[];

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
}

/** The document: `{ format, version, exportedAt, records }`. */
export interface HistoryDocument {
	format: 'kaiwa-bus/history';
	version: 1;
	/** ISO 8601. */
	exportedAt: string;
	records: PlainRecord[];
}

/** A JSON-safe copy of any value (Dates as ISO strings, cycles as '[Circular]'...); never throws. */
export declare function toPlain(value: unknown): unknown;
/** One record, JSON-safe. */
export declare function plainRecord(record: EventRecord): PlainRecord;
/** The document for these records, oldest first. */
export declare function historyDocument(records: readonly EventRecord[]): HistoryDocument;
/**
 * Reads a document (or a bare JSON array of records) back into records with
 * Date timestamps, sorted by id. Throws an Error naming the record and field at fault.
 */
export declare function readHistoryDocument(text: string): EventRecord[];
