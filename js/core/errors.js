// The errors `emit` throws. Each is a real `Error` with a `name` and the
// structured detail a program needs; the message names the first problem.

import { MAX_ERROR_LEN } from './contract.js';

/** The payload does not match the event's schema. */
// The errors emit threw after making a record of the event (a refusal the
// history shows); PersistentEventBus stores those, and not the others.
export const recorded = new WeakSet();

export class ValidationError extends Error {
	/**
	 * @param {string} message
	 * @param {string} event
	 * @param {import('../index.js').ValidationIssue[]} issues
	 */
	constructor(message, event, issues) {
		super(message);
		this.name = /** @type {const} */ ('ValidationError');
		/** The event name. */
		this.event = event;
		/** Every mismatch: `{ path, expected, received }`. */
		this.issues = issues;
	}
}

/** Strict mode refuses an event without a schema, or with a bad name. */
export class UnknownEventError extends Error {
	/**
	 * @param {string} message
	 * @param {string} event
	 */
	constructor(message, event) {
		super(message);
		this.name = /** @type {const} */ ('UnknownEventError');
		this.event = event;
	}
}

/** Handlers emitted inside handlers too deep (see `MAX_EMIT_DEPTH`). */
export class EmitDepthError extends RangeError {
	/**
	 * @param {string} message
	 * @param {string} event
	 */
	constructor(message, event) {
		super(message);
		this.name = /** @type {const} */ ('EmitDepthError');
		this.event = event;
	}
}

// A short description of a value for error messages.
export function describe(value) {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'an array';
	const type = typeof value;
	if (type === 'string') return value === '' ? 'an empty string' : `the string ${JSON.stringify(value.slice(0, 40))}`;
	if (type === 'object') return 'an object';
	return type === 'undefined' ? 'undefined' : `a ${type}`;
}

// The message of anything thrown, without throwing again (a thrown Proxy
// can make every look at it throw).
export function messageOf(thrown) {
	try {
		if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
		return typeof thrown === 'string' ? thrown : String(thrown);
	} catch {
		try {
			return Object.prototype.toString.call(thrown);
		} catch {
			return '(a thrown value that cannot be described)';
		}
	}
}

// A handler error's message, cut before it crosses into wasm: the record
// keeps MAX_ERROR_LEN characters, and wasm memory never shrinks.
export function shortMessage(error) {
	const message = messageOf(error);
	return message.length > MAX_ERROR_LEN ? `${message.slice(0, MAX_ERROR_LEN)}…` : message;
}

// The error a refusal of the core (`{ kind, message, event, issues }`) is
// thrown as, marked as recorded.
export function refusalError({ kind, message, event, issues }) {
	const error =
		kind === 'validation'
			? new ValidationError(message, event, issues)
			: kind === 'unknown'
				? new UnknownEventError(message, event)
				: kind === 'depth'
					? new EmitDepthError(message, event)
					: new TypeError(`kaiwa-bus: ${message}`);
	recorded.add(error);
	return error;
}
