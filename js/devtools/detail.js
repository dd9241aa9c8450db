// The detail pane of the selected record (times, validation issues, errors,
// the payload tree, its schema and who listens to it now) and the
// statistics table. Each function returns fresh nodes for the element to
// put in place.

import { revived } from './actions.js';
import { emitCode } from './code.js';
import { STATUS_ICONS, copyText, durationNote, formatAgo, formatDate, formatMs, h, setText, shownName } from './dom.js';
import { prefixesOf, sourceOf } from './records.js';
import { treeNode } from './tree.js';

/**
 * The detail pane's content for record `r` (null: nothing selected). `ctx`
 * is the views' (views/index.js), plus `prefill(record)`: Edit and emit again.
 */
export function detailNodes(r, ctx) {
	if (r === null)
		return [
			h('p', { class: 'placeholder' }, 'Select an event to see its payload, schema and errors (Enter opens it, Escape comes back).')
		];
	const status = h('span', { class: 'copied', role: 'status' });
	const copy = async () => setText(status, await copyText(emitCode(r.name, revived(ctx.bus(), r.name, r.payload)), 'the emit line'));
	const shown = shownName(r.name);
	const sections = [
		h(
			'h3',
			null,
			h('span', { class: 'name' }, shown),
			h('span', { class: `status status-${r.status}` }, `${STATUS_ICONS[r.status]} ${r.status}`),
			h('span', { class: 'placeholder' }, `#${r.id}`)
		),
		shown === r.name ? null : h('p', { class: 'warning' }, '⚠ This name holds invisible or look-alike characters, shown as ⟨U+…⟩.'),
		h(
			'p',
			{ class: 'buttons' },
			h(
				'button',
				{ type: 'button', 'data-action': 'prefill', disabled: !ctx.canAct(), onclick: () => ctx.prefill(r) },
				'Edit and emit again'
			),
			h('button', { type: 'button', 'data-action': 'copy-code', onclick: copy }, 'Copy as code'),
			status
		),
		h(
			'dl',
			null,
			h('dt', null, 'Time'),
			h('dd', null, `${formatDate(r.timestamp)} (${formatAgo(Date.now() - r.timestamp.getTime())})`),
			h('dt', null, 'Source'),
			h('dd', { class: 'source' }, r.offset === undefined ? sourceOf(r) : `${sourceOf(r)} (offset ${r.offset})`),
			h('dt', null, 'Handlers'),
			h('dd', null, `${r.handlerCount} called`),
			h('dt', null, 'Duration'),
			h('dd', null, r.durationMs === null ? durationNote(r) : formatMs(r.durationMs))
		)
	];
	if (r.issues.length) {
		sections.push(
			h('h4', null, 'Validation issues'),
			h(
				'table',
				{ class: 'issues' },
				h('thead', null, h('tr', null, h('th', null, 'Field'), h('th', null, 'Expected'), h('th', null, 'Received'))),
				h(
					'tbody',
					null,
					r.issues.map((i) =>
						h('tr', null, h('td', null, i.path || '(payload)'), h('td', null, i.expected), h('td', null, i.received))
					)
				)
			)
		);
	}
	if (r.errors.length) {
		sections.push(
			h('h4', null, r.status === 'rejected' ? 'Refused' : 'Handler errors'),
			h(
				'ul',
				{ class: 'errors' },
				r.errors.map((e) => h('li', null, e))
			)
		);
	}
	sections.push(h('h4', null, 'Payload'), h('div', { class: 'tree payload' }, treeNode(null, r.payload)));
	sections.push(...schemaSection(r.name, ctx));
	return sections.filter(Boolean);
}

function schemaSection(name, ctx) {
	const bus = ctx.bus();
	const schema = ctx.read((b) => b.getSchema(name), undefined);
	const out = [h('h4', null, 'Schema')];
	if (!schema) {
		out.push(h('p', { class: 'placeholder' }, ctx.bus() ? 'No schema registered: an unknown event.' : 'No bus (or it was disposed).'));
	} else {
		out.push(
			h('p', { class: 'schema-head' }, `${schema.name} v${schema.version}`, schema.description ? ` — ${schema.description}` : ''),
			h(
				'table',
				{ class: 'schema' },
				h('thead', null, h('tr', null, h('th', null, 'Field'), h('th', null, 'Type'))),
				h(
					'tbody',
					null,
					Object.entries(schema.payload).map(([field, type]) => h('tr', null, h('td', null, field), h('td', null, type)))
				)
			)
		);
	}
	if (bus) {
		// Every pattern that would receive this event: the name, each domain, '*'.
		const patterns = [name, ...prefixesOf(name).reverse(), '*'];
		const counts = ctx.read((b) => patterns.map((p) => b.getHandlerCount(p)), null);
		if (counts) {
			out.push(
				h('h4', null, 'Subscribed now'),
				h(
					'dl',
					{ class: 'subscribers' },
					patterns.flatMap((p, i) => [h('dt', null, shownName(p)), h('dd', null, String(counts[i]))])
				)
			);
		}
	}
	return out;
}
