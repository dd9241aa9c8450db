// The payload tree of the detail pane: leaves as coloured text, objects,
// arrays, Maps and Sets as <details> whose children are built when first
// opened, at most TREE_CHILDREN_SHOWN per branch. A long string shows its
// start, its length and a Copy button (the whole of an 8 MB string in the
// page would take seconds to lay out).

import { messageOf } from '../core/errors.js';
import { copyText, formatDate, h, setText } from './dom.js';

const TREE_CHILDREN_SHOWN = 200; // per object or array in the payload tree
const TREE_MAX_DEPTH = 60;
const LONG_STRING = 2000; // characters: longer strings show a preview
const PREVIEW = 500; // characters of it

function longString(label, value) {
	const status = h('span', { class: 'copied', role: 'status' });
	const copy = h(
		'button',
		{ type: 'button', 'data-action': 'copy-string', onclick: async () => setText(status, await copyText(value, 'the string')) },
		'Copy'
	);
	return h(
		'div',
		{ class: 'leaf long' },
		label,
		h('span', { class: 'v-string' }, `${JSON.stringify(value.slice(0, PREVIEW)).slice(0, -1)}…"`),
		h('span', { class: 'preview' }, ` ${value.length.toLocaleString('en')} characters `),
		copy,
		status
	);
}

function typeLabel(value) {
	if (Array.isArray(value)) return `Array(${value.length})`;
	if (value instanceof Map) return `Map(${value.size})`;
	if (value instanceof Set) return `Set(${value.size})`;
	const ctor = Object.getPrototypeOf(value)?.constructor?.name;
	const keys = Object.keys(value).length;
	return `${ctor && ctor !== 'Object' ? `${ctor} ` : ''}{${keys} ${keys === 1 ? 'key' : 'keys'}}`;
}

function leafOf(value) {
	switch (typeof value) {
		case 'string':
			return ['string', JSON.stringify(value)];
		case 'number':
		case 'boolean':
			return [typeof value, String(value)];
		case 'bigint':
			return ['number', `${value}n`];
		case 'undefined':
			return ['null', 'undefined'];
		case 'symbol':
			return ['other', value.toString()];
		case 'function':
			return ['other', `ƒ ${value.name || 'anonymous'}()`];
		default:
			if (value === null) return ['null', 'null'];
			if (value instanceof Date) return ['date', `Date ${formatDate(value)}`];
			return null;
	}
}

/** @returns {Array<[string, () => unknown]>} */
function entriesOf(value) {
	if (value instanceof Map) return Array.from(value, ([k, v]) => [String(k), () => v]);
	if (value instanceof Set) return Array.from(value, (v, i) => [String(i), () => v]);
	return Object.keys(value).map((key) => [key, () => value[key]]);
}

/** The tree of `value` under `key` (null for the root, which starts open). */
export function treeNode(key, value, depth = 0, ancestors = []) {
	const label = key === null ? [] : [h('span', { class: 'key' }, key), ': '];
	const leaf = (kind, text) => h('div', { class: 'leaf' }, label, h('span', { class: `v-${kind}` }, text));
	if (typeof value === 'string' && value.length > LONG_STRING) return longString(label, value);
	let preview;
	try {
		const known = leafOf(value);
		if (known) return leaf(...known);
		if (ancestors.includes(value)) return leaf('other', '[Circular]');
		preview = typeLabel(value);
	} catch (error) {
		return leaf('other', `[unreadable: ${messageOf(error)}]`); // a Proxy trap threw
	}
	const details = h('details', { class: 'branch' }, h('summary', null, label, h('span', { class: 'preview' }, preview)));
	const build = () => {
		let entries;
		try {
			entries = entriesOf(value);
		} catch (error) {
			details.append(h('div', { class: 'leaf v-other' }, `[unreadable: ${messageOf(error)}]`));
			return;
		}
		const inner = [...ancestors, value];
		for (const [childKey, read] of entries.slice(0, TREE_CHILDREN_SHOWN)) {
			let child;
			try {
				child = read();
			} catch (error) {
				child = `[getter threw: ${messageOf(error)}]`;
			}
			details.append(depth >= TREE_MAX_DEPTH ? h('div', { class: 'leaf' }, '…') : treeNode(childKey, child, depth + 1, inner));
		}
		if (entries.length > TREE_CHILDREN_SHOWN)
			details.append(h('div', { class: 'leaf more' }, `… ${entries.length - TREE_CHILDREN_SHOWN} more`));
	};
	if (depth < 1) {
		details.open = true;
		build();
	} else {
		details.addEventListener('toggle', build, { once: true });
	}
	return details;
}
