// Copy as code: the `bus.emit('name', { … })` line that makes a record's
// event again, Dates as `new Date('…')`, Maps and Sets as their
// constructors. Written from the payload itself, with the bounds of the
// export (js/history/index.js toPlain): cycles, depth and size are cut the same way.

const MAX_DEPTH = 60;
const BUDGET = 20_000; // values written at most; past it, '[Truncated]'
const ONE_LINE = 100; // characters: longer objects and arrays are written one entry per line

/** A JS string literal in single quotes. */
export function quote(text) {
	return `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const tag = (v) => Object.prototype.toString.call(v);

class Writer {
	budget = BUDGET;
	ancestors = new Set();

	value(v, indent) {
		if (--this.budget < 0) return "'[Truncated]'";
		switch (typeof v) {
			case 'string':
				return quote(v);
			case 'number':
				return Object.is(v, -0) ? '-0' : String(v);
			case 'boolean':
				return String(v);
			case 'bigint':
				return `${v}n`;
			case 'undefined':
				return 'undefined';
			case 'function':
			case 'symbol':
				return 'undefined'; // what JSON and the export drop
			default:
				if (v === null) return 'null';
				return this.object(v, indent);
		}
	}

	object(v, indent) {
		if (this.ancestors.has(v)) return "'[Circular]'";
		if (this.ancestors.size >= MAX_DEPTH) return "'[Too deep]'";
		this.ancestors.add(v);
		try {
			if (tag(v) === '[object Date]') return `new Date(${Number.isNaN(v.getTime()) ? 'NaN' : quote(v.toISOString())})`;
			const inner = `${indent}\t`;
			if (Array.isArray(v))
				return this.list(
					'[',
					']',
					Array.from(v, (item) => this.value(item, inner)),
					indent
				);
			if (v instanceof Map)
				return `new Map(${this.list(
					'[',
					']',
					Array.from(v, ([k, item]) => `[${this.value(k, inner)}, ${this.value(item, inner)}]`),
					indent
				)})`;
			if (v instanceof Set)
				return `new Set(${this.list(
					'[',
					']',
					Array.from(v, (item) => this.value(item, inner)),
					indent
				)})`;
			const entries = [];
			for (const key of Object.keys(v)) {
				let item;
				try {
					item = v[key];
				} catch (error) {
					item = `[getter threw: ${error?.message ?? error}]`;
				}
				if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
				entries.push(`${IDENTIFIER.test(key) ? key : quote(key)}: ${this.value(item, inner)}`);
			}
			return this.list('{ ', ' }', entries, indent, '{}');
		} catch (error) {
			return quote(`[unreadable: ${error?.message ?? error}]`); // a Proxy trap threw
		} finally {
			this.ancestors.delete(v);
		}
	}

	list(open, close, items, indent, empty = `${open.trim()}${close.trim()}`) {
		if (items.length === 0) return empty;
		const line = `${open}${items.join(', ')}${close}`;
		if (line.length <= ONE_LINE && !line.includes('\n')) return line;
		return `${open.trim()}\n${items.map((item) => `${indent}\t${item}`).join(',\n')}\n${indent}${close.trim()}`;
	}
}

/** `bus.emit('name', payload);` for this name and payload. */
export function emitCode(name, payload) {
	const args = payload === undefined ? quote(name) : `${quote(name)}, ${new Writer().value(payload, '')}`;
	return `bus.emit(${args});`;
}
