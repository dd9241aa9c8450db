// The Emit view: pick an event (any with a schema; any name in development
// mode), fill the form built from its schema (form.js) or the raw JSON, kept
// in step, see the issues the bus would raise as you type (bus.validate, the
// bus's own validation, which records nothing), and Emit through the bus the
// panel is mounted on (actions.js): the record says source 'devtools', and a
// relay bus's answer, or refusal, is shown when it comes.

import { messageOf } from '../../core/errors.js';
import { revived } from '../actions.js';
import { emitCode } from '../code.js';
import { copyText, h, setChildren, setText, shownName } from '../dom.js';
import { PayloadForm, jsonText } from './form.js';

let views = 0;

/** The Emit view: `{ id, title, render(ctx) }`; see index.js for `ctx`. */
export const emitView = {
	id: 'emit',
	title: 'Emit',
	render(ctx) {
		return new EmitView(ctx);
	}
};

class EmitView {
	#ctx;
	#schema = null; // the picked event's, or null (a free name)
	#form = null;
	#payload = {};
	#errors = []; // what the form or the JSON could not read
	#sending = 0; // which emit the status line is about

	constructor(ctx) {
		this.#ctx = ctx;
		const id = `kd-emit${++views}`;
		this.names = h('datalist', { id: `${id}-names` });
		this.name = h('input', {
			id: `${id}-name`,
			list: `${id}-names`,
			autocomplete: 'off',
			spellcheck: 'false',
			placeholder: 'auth.user.login',
			oninput: () => this.#pick()
		});
		this.fields = h('div', { class: 'fields' });
		this.json = h('textarea', { id: `${id}-json`, class: 'json', rows: 14, spellcheck: 'false', oninput: () => this.#fromJson() });
		this.issues = h('ul', { class: 'issues-live', 'aria-label': 'Issues the bus would raise' });
		this.verdict = h('p', { class: 'verdict', role: 'status' });
		this.emitButton = h('button', { type: 'button', 'data-action': 'emit', onclick: () => this.#emit() }, 'Emit');
		this.copyButton = h('button', { type: 'button', 'data-action': 'copy-emit', onclick: () => this.#copy() }, 'Copy as code');
		this.result = h('p', { class: 'result', role: 'status', 'aria-live': 'polite' });
		this.el = h(
			'div',
			{ class: 'view emit', role: 'tabpanel', 'aria-label': 'Emit an event' },
			h(
				'div',
				{ class: 'emit-form' },
				h('p', { class: 'pick' }, h('label', { for: this.name.id }, 'Event'), this.name, this.names),
				this.fields,
				h('p', { class: 'buttons' }, this.emitButton, this.copyButton),
				this.result
			),
			h(
				'div',
				{ class: 'emit-side' },
				h('label', { for: this.json.id }, 'Payload as JSON (Dates as ISO strings)'),
				this.json,
				h('h4', null, 'Issues'),
				this.verdict,
				this.issues
			)
		);
		this.#pick();
	}

	/** The view is shown: offer the bus's event names again. */
	shown() {
		const names = this.#ctx.read((bus) => bus.getSchemaNames(), []);
		setChildren(
			this.names,
			names.map((name) => h('option', { value: name }))
		);
		this.#check();
	}

	/** "Edit and emit again": the record's name and payload in the form. */
	prefill(record) {
		this.name.value = record.name;
		this.#pick(true);
		this.#setPayload(revived(this.#ctx.bus(), record.name, record.payload), true);
	}

	#pick(keep = false) {
		const name = this.name.value;
		const schema = name ? (this.#ctx.read((bus) => bus.getSchema(name), undefined) ?? null) : null;
		if (schema === this.#schema && schema !== null) return;
		this.#schema = schema;
		this.#form = schema ? new PayloadForm(schema, () => this.#fromForm()) : null;
		setChildren(
			this.fields,
			this.#form
				? [
						h(
							'p',
							{ class: 'note' },
							`${shownName(schema.name)} v${schema.version}${schema.description ? ` — ${schema.description}` : ''}`
						),
						this.#form.el
					]
				: [
						h(
							'p',
							{ class: 'note' },
							name ? 'No schema: write the payload as JSON.' : 'Pick an event: one with a schema gets a form.'
						)
					]
		);
		if (keep) return;
		if (this.#form) this.#fromForm();
		else this.#fromJson();
	}

	// The form changed: the payload is what it reads; the JSON follows.
	#fromForm() {
		const { payload, errors } = this.#form.read();
		this.#payload = payload;
		this.#errors = errors;
		this.json.value = jsonText(payload, 2);
		this.#check();
	}

	// The JSON changed: the form follows, unless it does not parse.
	#fromJson() {
		const text = this.json.value.trim();
		let payload;
		try {
			payload = text === '' ? undefined : JSON.parse(text);
		} catch (error) {
			this.#errors = [{ path: '(JSON)', message: `not JSON (${error.message})` }];
			this.#check();
			return;
		}
		this.#setPayload(revived(this.#ctx.bus(), this.name.value, payload), false);
	}

	#setPayload(payload, writeJson) {
		this.#payload = payload;
		this.#errors = [];
		if (this.#form) {
			this.#form.write(payload);
			this.#errors = this.#form.read().errors;
		}
		if (writeJson) this.json.value = jsonText(payload, 2);
		this.#check();
	}

	// What the bus says of the payload now: bus.validate, which records nothing.
	#check() {
		const name = this.name.value;
		const local = this.#errors.map((e) => h('li', { 'data-path': e.path }, `${e.path}: ${e.message}`));
		let verdict;
		let issues = [];
		if (!name) verdict = 'No event picked.';
		else {
			try {
				const result = this.#ctx.read((bus) => bus.validate(name, this.#payload), null);
				if (result === null) verdict = 'No bus.';
				else {
					issues = result.issues;
					const mode = this.#ctx.read((bus) => bus.mode, 'development');
					if (!result.known)
						verdict = result.ok
							? 'No schema: the bus delivers it as it is (development mode).'
							: `No schema: the bus refuses it (${mode} mode).`;
					else
						verdict = result.ok
							? '✓ The bus accepts this payload.'
							: `⊘ The bus would refuse it: ${issues.length} issue${issues.length === 1 ? '' : 's'}.`;
				}
			} catch (error) {
				verdict = `⊘ ${messageOf(error)}`;
			}
		}
		setText(this.verdict, verdict);
		setChildren(this.issues, [
			...local,
			...issues.map((i) =>
				h('li', { 'data-path': i.path }, `${i.path || '(payload)'}: expected ${i.expected}, received ${i.received}`)
			)
		]);
		this.emitButton.disabled = !name || this.#errors.length > 0 || !this.#ctx.canAct();
	}

	#emit() {
		const name = this.name.value;
		const payload = this.#payload;
		const attempt = ++this.#sending;
		let outcome;
		try {
			outcome = this.#ctx.links.emit(name, payload);
		} catch (error) {
			outcome = { record: null, error, sent: undefined };
		}
		const { record, error, sent } = outcome;
		const id = record ? `#${record.id} ` : '';
		if (error) setText(this.result, `⊘ ${id}refused: ${messageOf(error)}`);
		else if (record?.status === 'failed') setText(this.result, `✗ ${id}failed: ${record.errors.join('; ')}`);
		else setText(this.result, `✓ ${id}delivered to ${record?.handlerCount ?? 0} handler${record?.handlerCount === 1 ? '' : 's'}`);
		this.#ctx.select(record?.id ?? null);
		if (sent && typeof sent.then === 'function' && !error) {
			this.result.textContent += '; sending…';
			sent.then(
				(answer) =>
					attempt === this.#sending &&
					setText(
						this.result,
						answer?.offset === undefined
							? `✓ ${id}done`
							: `✓ ${id}delivered here; stored by the relay at offset ${answer.offset}`
					),
				(refusal) =>
					attempt === this.#sending &&
					setText(
						this.result,
						`⊘ ${id}delivered here, but refused by the relay${refusal?.kind ? ` (${refusal.kind})` : ''}: ${messageOf(refusal)}`
					)
			);
		}
		this.#check();
	}

	async #copy() {
		setText(this.result, await copyText(emitCode(this.name.value, this.#payload), 'the emit line'));
	}
}
