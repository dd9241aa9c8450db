// Object builders the Rust bindings import (src/wasm/convert.rs): one call
// builds a whole record, instead of one boundary crossing per property.

// `source` only for an event a transport handed in: records of this page's
// emits keep the shape the history format (kaiwa-bus/history v1) knows. The
// payload is kept by the JS layer (js/core/bus.js), which sets it.
export function makeRecord(id, name, timestamp, status, handlerCount, durationMs, errors, issues, source) {
	const record = {
		id,
		name,
		payload: undefined,
		timestamp: new Date(timestamp),
		status,
		handlerCount,
		durationMs: Number.isNaN(durationMs) ? null : durationMs,
		errors,
		issues
	};
	if (source !== undefined) record.source = source;
	return record;
}

// A bus error (src/wasm/mod.rs, js_error): a TypeError for a bad argument.
export function makeError(message, typeError) {
	return typeError ? new TypeError(message) : new Error(message);
}

export function makeIssue(path, expected, received) {
	return { path, expected, received };
}

// Durations are NaN when no dispatch of the event was timed.
export function makeStats(count, timedCount, averageDuration, minDuration, maxDuration) {
	const orNull = (x) => (Number.isNaN(x) ? null : x);
	return {
		count,
		timedCount,
		averageDuration: orNull(averageDuration),
		minDuration: orNull(minDuration),
		maxDuration: orNull(maxDuration)
	};
}

export function makeRefusal(kind, event, message, issues, record) {
	return { kind, event, message, issues, record };
}

export function makePlan(keys, modes) {
	return { keys, modes };
}

// The value of a data property, without running a getter or trap that could
// throw; undefined otherwise.
export function peekString(object, key) {
	try {
		const d = Object.getOwnPropertyDescriptor(object, key);
		return d && typeof d.value === 'string' ? d.value : undefined;
	} catch {
		return undefined;
	}
}

// `payload` has a null prototype and one own property per field, so a field
// named `__proto__` or `constructor` is kept as a field.
export function makeSchema(name, version, description, audience, keys, descriptors) {
	const payload = Object.create(null);
	keys.forEach((key, i) =>
		Object.defineProperty(payload, key, { value: descriptors[i], enumerable: true, writable: true, configurable: true })
	);
	return { name, version, description, audience, payload };
}
