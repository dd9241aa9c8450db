// The Compare view: the last two records marked in the Events list, side
// by side, field by field (nested fields by their path, as the bus names
// them in its issues: `address.city`, `tags[1]`), each row marked by a sign
// as well as a colour: = same, ≠ changed, + only in the second, − only in
// the first. Payloads are compared as the export writes them (toPlain).

import { toPlain } from '../../history/index.js';
import { STATUS_ICONS, formatDate, h, setChildren, shownName } from '../dom.js';

const MAX_ROWS = 2000; // fields compared at most
const PREVIEW = 300; // characters of a value shown in a cell

const SIGNS = {
	same: ['=', 'same'],
	changed: ['≠', 'changed'],
	added: ['+', 'only in the second'],
	removed: ['−', 'only in the first']
};

/** The Compare view: `{ id, title, render(ctx) }`; see index.js for `ctx`. */
export const compareView = {
	id: 'compare',
	title: 'Compare',
	render(ctx) {
		return new CompareView(ctx);
	}
};

const isBranch = (v) => v !== null && typeof v === 'object';

/** Every leaf of a JSON-safe value by its path: Map(path -> JSON text). */
export function leaves(value, path = '', out = new Map()) {
	if (out.size >= MAX_ROWS) return out;
	if (isBranch(value) && Object.keys(value).length > 0) {
		for (const [key, item] of Object.entries(value)) {
			const at = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
			leaves(item, at, out);
		}
	} else {
		out.set(path || '(payload)', JSON.stringify(value) ?? 'undefined');
	}
	return out;
}

/** The rows of a comparison: `{ path, kind, left, right }`, in the order of the first, then what only the second has. */
export function diffRows(a, b) {
	const left = leaves(toPlain(a));
	const right = leaves(toPlain(b));
	const rows = [];
	for (const [path, text] of left) {
		const other = right.get(path);
		rows.push({ path, kind: other === undefined ? 'removed' : other === text ? 'same' : 'changed', left: text, right: other });
	}
	for (const [path, text] of right) if (!left.has(path)) rows.push({ path, kind: 'added', left: undefined, right: text });
	return rows;
}

const cut = (text) =>
	text === undefined ? '' : text.length > PREVIEW ? `${text.slice(0, PREVIEW)}… (${text.length.toLocaleString('en')} characters)` : text;

class CompareView {
	#ctx;

	constructor(ctx) {
		this.#ctx = ctx;
		this.onlyDiff = h('input', { type: 'checkbox', id: 'kd-compare-only', onchange: () => this.shown() });
		this.body = h('div', { class: 'compare-body' });
		this.el = h(
			'div',
			{ class: 'view compare', role: 'tabpanel', 'aria-label': 'Compare two records' },
			h('p', { class: 'buttons' }, this.onlyDiff, h('label', { for: 'kd-compare-only' }, 'differences only')),
			this.body
		);
	}

	shown() {
		const marked = this.#ctx.marked('order');
		if (marked.length < 2) {
			setChildren(this.body, [
				h(
					'p',
					{ class: 'note' },
					`Mark two records in the Events list (Ctrl+click, or Space on the selected row) to compare them; ${marked.length} marked.`
				)
			]);
			return;
		}
		const [a, b] = marked.slice(-2);
		const rows = [
			{ path: '(event)', kind: a.name === b.name ? 'same' : 'changed', left: shownName(a.name), right: shownName(b.name) },
			{
				path: '(status)',
				kind: a.status === b.status ? 'same' : 'changed',
				left: `${STATUS_ICONS[a.status]} ${a.status}`,
				right: `${STATUS_ICONS[b.status]} ${b.status}`
			},
			...diffRows(a.payload, b.payload)
		];
		const changed = rows.filter((r) => r.kind !== 'same').length;
		const shown = this.onlyDiff.checked ? rows.filter((r) => r.kind !== 'same') : rows;
		const head = (r) => `#${r.id} ${shownName(r.name)} (${formatDate(r.timestamp)})`;
		setChildren(this.body, [
			h(
				'p',
				{ class: 'note', role: 'status' },
				changed === 0 ? 'No differences.' : `${changed} difference${changed === 1 ? '' : 's'} in ${rows.length} fields.`
			),
			h(
				'table',
				{ class: 'diff' },
				h(
					'thead',
					null,
					h(
						'tr',
						null,
						h('th', { class: 'sign' }, h('span', { class: 'sr-only' }, 'Difference')),
						h('th', null, 'Field'),
						h('th', null, head(a)),
						h('th', null, head(b))
					)
				),
				h(
					'tbody',
					null,
					shown.map((r) => {
						const [sign, label] = SIGNS[r.kind];
						return h(
							'tr',
							{ 'data-diff': r.kind, 'data-path': r.path },
							h(
								'td',
								{ class: 'sign', title: label },
								h('span', { 'aria-hidden': 'true' }, sign),
								h('span', { class: 'sr-only' }, label)
							),
							h('td', { class: 'path' }, r.path),
							h('td', { class: 'left' }, cut(r.left)),
							h('td', { class: 'right' }, cut(r.right))
						);
					})
				)
			)
		]);
	}
}
