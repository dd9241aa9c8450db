// Argument checks of the public API, and the console calls of the bus:
// each bad argument gets an Error that names the method and the problem,
// before anything is copied into wasm memory.

import { describe } from './errors.js';
import { DEFAULT_HISTORY_LIMIT, MAX_DESCRIPTION_LEN, MAX_DESCRIPTOR_LEN, MAX_FIELDS, MAX_NAME_LEN, MAX_VERSION_LEN } from './contract.js';

export const MAX_HISTORY_LIMIT = 0xffffffff;

// A console call that cannot break the bus, even if the console is patched.
export function report(method, ...args) {
	try {
		console[method](...args);
	} catch {
		// Nothing left to tell.
	}
}

export function quote(name) {
	return JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
}

export function requireName(method, name, what = 'name') {
	if (typeof name !== 'string') {
		throw new TypeError(`kaiwa-bus: ${method}(): the ${what} must be a string, got ${describe(name)}`);
	}
	requireLength(method, name, what, MAX_NAME_LEN, TypeError);
	requireWellFormed(method, name, what);
}

// Checked in JS, before a string is copied into wasm memory (which never
// shrinks). A UTF-16 length over the limit is over it in UTF-8 bytes too;
// Rust checks the exact byte length again.
export function requireLength(method, text, what, limit, Kind = RangeError) {
	if (text.length > limit) {
		throw new Kind(`kaiwa-bus: ${method}(): the ${what} is ${text.length} characters long; the limit is ${limit} bytes`);
	}
}

// String.prototype.isWellFormed is missing before Node 20 (engines: >=18).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed =
	typeof String.prototype.isWellFormed === 'function' ? (text) => text.isWellFormed() : (text) => !LONE_SURROGATE.test(text);

// Rust strings are UTF-8: a lone UTF-16 surrogate would cross the boundary
// as U+FFFD, so two different JS names could become one event.
export function requireWellFormed(method, text, what) {
	if (!isWellFormed(text)) {
		throw new TypeError(`kaiwa-bus: ${method}(): the ${what} ${quote(text)} contains a lone surrogate (it is not well-formed Unicode)`);
	}
}

export function requireFunction(method, name, fn, what = 'handler') {
	if (typeof fn !== 'function') {
		throw new TypeError(`kaiwa-bus: ${method}(${quote(name)}, ${what}): the ${what} must be a function, got ${describe(fn)}`);
	}
}

export function readOptions(options) {
	if (options === undefined) options = {};
	if (options === null || typeof options !== 'object') {
		throw new TypeError(`kaiwa-bus: new EventBus(options): options must be an object, got ${describe(options)}`);
	}
	const { mode = 'development', historyLimit = DEFAULT_HISTORY_LIMIT, catalog = true, timing = 'sampled', events } = options;
	if (mode !== 'development' && mode !== 'strict') {
		throw new TypeError(`kaiwa-bus: options.mode must be 'development' or 'strict', got ${describe(mode)}`);
	}
	if (!Number.isInteger(historyLimit) || historyLimit < 0 || historyLimit > MAX_HISTORY_LIMIT) {
		throw new RangeError(`kaiwa-bus: options.historyLimit must be a whole number from 0 up, got ${describe(historyLimit)}`);
	}
	if (typeof catalog !== 'boolean') {
		throw new TypeError(`kaiwa-bus: options.catalog must be a boolean, got ${describe(catalog)}`);
	}
	if (timing !== 'sampled' && timing !== 'every') {
		throw new TypeError(`kaiwa-bus: options.timing must be 'sampled' or 'every', got ${describe(timing)}`);
	}
	return { strict: mode === 'strict', historyLimit, catalog, timing, events };
}

// A schema in the seed's EventSchema shape, checked field by field before
// anything crosses: `{ name, version, description, audience, keys, types }`
// (Rust checks the audience's value, and that a 'group' event has a groupId).
export function readSchema(schema) {
	if (schema === null || typeof schema !== 'object') {
		throw new TypeError(
			`kaiwa-bus: registerSchema(schema): schema must be an object { name, version, description, payload }, got ${describe(schema)}`
		);
	}
	const { name, version, description = '', audience = 'user', payload } = schema;
	requireName('registerSchema', name, 'schema name');
	if (typeof version !== 'string') {
		throw new TypeError(`kaiwa-bus: schema ${quote(name)}: version must be a string such as '1.0.0', got ${describe(version)}`);
	}
	if (typeof description !== 'string') {
		throw new TypeError(`kaiwa-bus: schema ${quote(name)}: description must be a string, got ${describe(description)}`);
	}
	if (typeof audience !== 'string') {
		throw new TypeError(`kaiwa-bus: schema ${quote(name)}: audience must be 'user', 'all' or 'group', got ${describe(audience)}`);
	}
	if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
		throw new TypeError(`kaiwa-bus: schema ${quote(name)}: payload must be an object of field descriptors, got ${describe(payload)}`);
	}
	requireLength('registerSchema', version, 'schema version', MAX_VERSION_LEN);
	requireLength('registerSchema', description, 'schema description', MAX_DESCRIPTION_LEN);
	requireLength('registerSchema', audience, 'schema audience', MAX_VERSION_LEN);
	requireWellFormed('registerSchema', version, 'schema version');
	requireWellFormed('registerSchema', description, 'schema description');
	const keys = Object.keys(payload);
	if (keys.length > MAX_FIELDS) {
		throw new RangeError(`kaiwa-bus: schema ${quote(name)}: ${keys.length} fields; the limit is ${MAX_FIELDS}`);
	}
	const types = keys.map((key) => {
		const text = payload[key];
		if (typeof text !== 'string') {
			throw new TypeError(
				`kaiwa-bus: schema ${quote(name)}: field ${key}: the descriptor must be a string such as 'string' or 'Date?', got ${describe(text)}`
			);
		}
		requireLength('registerSchema', key, 'field key', MAX_NAME_LEN);
		requireLength('registerSchema', text, `descriptor of field ${quote(key)}`, MAX_DESCRIPTOR_LEN);
		requireWellFormed('registerSchema', key, 'field key');
		requireWellFormed('registerSchema', text, `descriptor of field ${quote(key)}`);
		return text;
	});
	return { name, version, description, audience, keys, types };
}

const MAX_SOURCE_LEN = 64;
const LOCAL = 'local';

// A transport's `source`, checked: see EventBus.attach().
export function requireTransport(transport) {
	if (transport === null || typeof transport !== 'object' || typeof transport.attach !== 'function') {
		throw new TypeError(`kaiwa-bus: attach(transport): a transport is an object { source, attach(link) }, got ${describe(transport)}`);
	}
	const { source } = transport;
	if (typeof source !== 'string' || source === '' || source === LOCAL || source.length > MAX_SOURCE_LEN) {
		throw new TypeError(
			`kaiwa-bus: attach(transport): transport.source names where its events come from ('tab', 'remote', 'restored'…): ` +
				`a non-empty string other than 'local', at most ${MAX_SOURCE_LEN} characters, got ${describe(source)}`
		);
	}
	requireWellFormed('attach', source, 'transport source');
	return source;
}
