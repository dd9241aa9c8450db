// The emit view's form: one editor per field of an event's schema, by its
// descriptor (src/schema/descriptor.rs has the notation):
//   string, number, boolean   a text field, a number field, a checkbox
//   Date                      a date-time field (local time, to the ms) and Now
//   'a' | 'b'                 a select of the literals
//   string[]                  a list of text fields, Add and Remove
//   object, any               a JSON editor
//   a trailing ?              an Include checkbox: unticked, the field is left out
// The form only collects values; whether they are acceptable is the bus's
// to say (bus.validate, in emit.js), never a copy of its rules here.

import { h } from '../dom.js';

/** A descriptor's kind, literals and whether it is optional: `{ kind, literals, optional }`. */
export function parseDescriptor(text) {
	let type = String(text).trim();
	const optional = type.endsWith('?');
	if (optional) type = type.slice(0, -1).trim();
	if (/^['"]/.test(type)) {
		const literals = [...type.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2]);
		return { kind: 'literal', literals: [...new Set(literals)], optional };
	}
	const kind = type === 'Record<string, any>' ? 'object' : type;
	return { kind, literals: [], optional };
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** A Date as a datetime-local value, local time to the millisecond ('' for an invalid one). */
export function localDateTime(date) {
	if (Number.isNaN(date.getTime())) return '';
	return (
		`${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
		`T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
	);
}

const isDate = (v) => Object.prototype.toString.call(v) === '[object Date]';

/** `value` as JSON text for an editor ('' for undefined), Dates as ISO strings. */
export function jsonText(value, space) {
	if (value === undefined) return '';
	try {
		return JSON.stringify(value, null, space) ?? '';
	} catch (error) {
		return `"[not JSON: ${error?.message ?? error}]"`;
	}
}

// Each editor: { input (the control a label names), el, read() -> { ok, present, value, error },
// write(value) -> whether the editor can show it }. `changed()` is the form's callback.
const EDITORS = {
	string(id, changed) {
		const input = h('input', { id, type: 'text', oninput: changed });
		return {
			input,
			el: input,
			read: () => ({ present: true, value: input.value }),
			write: (v) => typeof v === 'string' && ((input.value = v), true)
		};
	},
	number(id, changed) {
		const input = h('input', { id, type: 'number', step: 'any', oninput: changed });
		return {
			input,
			el: input,
			// Empty: left out, and the bus says what it expected.
			read: () => (input.value === '' ? { present: false } : { present: true, value: input.valueAsNumber }),
			write: (v) => typeof v === 'number' && Number.isFinite(v) && ((input.value = String(v)), true)
		};
	},
	boolean(id, changed) {
		const input = h('input', { id, type: 'checkbox', onchange: changed });
		return {
			input,
			el: input,
			read: () => ({ present: true, value: input.checked }),
			write: (v) => typeof v === 'boolean' && ((input.checked = v), true)
		};
	},
	Date(id, changed) {
		const input = h('input', { id, type: 'datetime-local', step: '0.001', oninput: changed });
		const now = h(
			'button',
			{ type: 'button', title: 'The current time', onclick: () => ((input.value = localDateTime(new Date())), changed()) },
			'Now'
		);
		const write = (v) => {
			const date = isDate(v) ? v : typeof v === 'string' ? new Date(v) : null;
			if (date === null || Number.isNaN(date.getTime())) return false;
			input.value = localDateTime(date);
			return true;
		};
		write(new Date());
		return {
			input,
			el: h('span', { class: 'with-button' }, input, now),
			read: () => (input.value === '' ? { present: false } : { present: true, value: new Date(input.value) }),
			write
		};
	},
	literal(id, changed, { literals }) {
		const input = h(
			'select',
			{ id, onchange: changed },
			literals.map((l) => h('option', { value: l }, JSON.stringify(l)))
		);
		let other = null; // an option for a prefilled value outside the union (a rejected record's)
		return {
			input,
			el: input,
			read: () => ({ present: true, value: input.value }),
			write(v) {
				if (typeof v !== 'string') return false;
				other?.remove();
				other = null;
				if (!literals.includes(v)) {
					other = h('option', { value: v }, `${JSON.stringify(v)} (not in the union)`);
					input.append(other);
				}
				input.value = v;
				return true;
			}
		};
	},
	'string[]'(id, changed, { name }) {
		const items = h('ol', { class: 'items' });
		const add = (text = '') => {
			const n = items.children.length + 1;
			const item = h('input', { type: 'text', 'aria-label': `${name} item ${n}`, oninput: changed, value: text });
			const li = h(
				'li',
				null,
				item,
				h('button', { type: 'button', 'aria-label': `Remove ${name} item ${n}`, onclick: () => (li.remove(), changed()) }, '−')
			);
			items.append(li);
			return item;
		};
		const input = h('button', { id, type: 'button', onclick: () => (add().focus(), changed()) }, 'Add item');
		return {
			input,
			group: true, // several controls: the label names the group
			el: h('span', { class: 'list-editor' }, items, input),
			read: () => ({ present: true, value: Array.from(items.querySelectorAll('input'), (i) => i.value) }),
			write(v) {
				if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return false;
				items.replaceChildren();
				for (const s of v) add(s);
				return true;
			}
		};
	},
	object(id, changed, { kind }) {
		const input = h('textarea', { id, rows: 3, spellcheck: 'false', oninput: changed }, kind === 'object' ? '{}' : '');
		return {
			input,
			el: input,
			read() {
				if (input.value.trim() === '') return { present: false };
				try {
					return { present: true, value: JSON.parse(input.value) };
				} catch (error) {
					return { present: false, error: `not JSON (${error.message})` };
				}
			},
			write: (v) => ((input.value = jsonText(v, 2)), true)
		};
	}
};
EDITORS.any = EDITORS.object;

let forms = 0; // ids unique within the shadow root

/**
 * The form of `schema` (`{ payload: { field: descriptor } }`); `changed()`
 * after each edit. `read()` gives `{ payload, errors }` (errors: fields the
 * form cannot turn into a value, such as JSON that does not parse),
 * `write(payload)` fills it.
 */
export class PayloadForm {
	constructor(schema, changed) {
		const prefix = `kd-f${++forms}`;
		this.fields = Object.entries(schema.payload).map(([name, descriptor], i) => {
			const type = parseDescriptor(descriptor);
			const make = EDITORS[type.kind] ?? EDITORS.any;
			const id = `${prefix}-${i}`;
			const editor = make(id, () => this.#edited(field), { ...type, name });
			const include = type.optional
				? h('input', {
						type: 'checkbox',
						class: 'include',
						title: `Include ${name}`,
						'aria-label': `Include ${name}`,
						onchange: () => this.#include(field)
					})
				: null;
			const note = h('span', { class: 'note', hidden: true });
			const field = { name, type, editor, include, note, raw: undefined, hasRaw: false };
			field.row = h(
				'div',
				{ class: 'field', 'data-field': name, 'data-kind': type.kind },
				include ?? h('span', { class: 'include' }),
				h('label', { id: `${id}-label`, for: editor.group ? null : id }, name, h('span', { class: 'type' }, ` ${descriptor}`)),
				editor.group ? h('span', { role: 'group', 'aria-labelledby': `${id}-label` }, editor.el) : editor.el,
				note
			);
			if (include) this.#include(field, false);
			return field;
		});
		this.changed = changed;
		this.extra = {}; // keys of a prefilled payload that the schema does not have: kept as they are
		this.el = h(
			'div',
			{ class: 'form' },
			this.fields.map((f) => f.row)
		);
	}

	#edited(field) {
		field.hasRaw = false; // the editor's value replaces what it could not show
		field.note.hidden = true;
		if (field.include && !field.include.checked) {
			field.include.checked = true;
			this.#include(field, false);
		}
		this.changed();
	}

	#include(field, notify = true) {
		field.row.toggleAttribute('data-left-out', !field.include.checked);
		if (notify) this.changed();
	}

	read() {
		const payload = { ...this.extra };
		const errors = [];
		for (const field of this.fields) {
			if (field.include && !field.include.checked) continue;
			if (field.hasRaw) {
				payload[field.name] = field.raw;
				continue;
			}
			const { present, value, error } = field.editor.read();
			if (error) errors.push({ path: field.name, message: error });
			if (present) payload[field.name] = value;
		}
		return { payload, errors };
	}

	/** Fills the form from a payload; a value an editor cannot show is kept as it is, and said so. */
	write(payload) {
		const source = payload !== null && typeof payload === 'object' ? payload : {};
		const known = new Set(this.fields.map((f) => f.name));
		this.extra = Object.fromEntries(Object.entries(source).filter(([key]) => !known.has(key)));
		for (const field of this.fields) {
			const present = Object.hasOwn(source, field.name) && source[field.name] !== undefined;
			if (field.include) {
				field.include.checked = present;
				this.#include(field, false);
			}
			field.hasRaw = present && !field.editor.write(source[field.name]);
			field.raw = field.hasRaw ? source[field.name] : undefined;
			field.note.hidden = !field.hasRaw;
			field.note.textContent = field.hasRaw ? `kept as ${jsonText(field.raw).slice(0, 80)}: edit it in the JSON` : '';
		}
	}
}
