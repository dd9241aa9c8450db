// The Replay view: records from an exported history (a bug report's), the
// imported file, or the records marked in the Events list, replayed into
// the live bus in order: at the recorded pace, faster, or one step at a time,
// with a cursor, Pause and Stop. Each is validated again by the bus and
// recorded with source 'replay'; it goes to the local bus only, never to a
// relay, another tab or a store, unless "also publish" is ticked
// (actions.js). A relay bus's gap markers are not events and are skipped.

import { messageOf } from '../../core/errors.js';
import { plainRecord, readHistoryDocument } from '../../history/index.js';
import { revived } from '../actions.js';
import { formatClock, h, setChildren, setText, shownName } from '../dom.js';
import { isGap } from '../records.js';

export const SPEEDS = [
	['1', 'recorded pace'],
	['2', '2× faster'],
	['10', '10× faster'],
	['Infinity', 'no waiting']
];
const SHOWN_BEFORE = 20; // entries of the list drawn above the cursor
const SHOWN_AFTER = 200; // and below it
const NO_WAIT_BATCH = 100; // events replayed per task with 'no waiting'

let views = 0;

/** The Replay view: `{ id, title, render(ctx) }`; see index.js for `ctx`. */
export const replayView = {
	id: 'replay',
	title: 'Replay',
	render(ctx) {
		return new ReplayView(ctx);
	}
};

class ReplayView {
	#ctx;
	#entries = []; // { id, name, time, payload (JSON-safe), outcome }
	#origin = '';
	#cursor = 0; // the next entry to replay
	#playing = false;
	#timer = 0;
	#done = { replayed: 0, refused: 0 };

	constructor(ctx) {
		this.#ctx = ctx;
		const id = `kd-replay${++views}`;
		const button = (action, text, onclick, title) => h('button', { type: 'button', 'data-action': action, title, onclick }, text);
		this.file = h('input', {
			type: 'file',
			'data-file': 'replay',
			accept: 'application/json,.json',
			class: 'sr-only',
			tabindex: '-1',
			'aria-hidden': 'true',
			onchange: () => this.#readFile()
		});
		this.useMarked = button(
			'replay-marked',
			'Marked records',
			() => this.#load(this.#ctx.marked(), 'the marked records'),
			'The records marked in the Events list (Ctrl+click or Space)'
		);
		this.useImported = button(
			'replay-imported',
			'Imported file',
			() => this.#load(this.#ctx.imported().records, this.#ctx.imported().fileName),
			'The file opened with Import'
		);
		this.open = button('replay-open', 'Open an export…', () => this.file.click(), 'A history exported with Export (a bug report, say)');
		this.play = button('replay-play', 'Play', () => (this.#playing ? this.pause() : this.#play()));
		this.step = button('replay-step', 'Step', () => this.#step(), 'Replay the next event now');
		this.stopButton = button('replay-stop', 'Stop', () => this.#rewind(), 'Stop, and put the cursor back at the start');
		this.speed = h(
			'select',
			{ id: `${id}-speed`, 'data-action': 'replay-speed', onchange: () => this.#reschedule() },
			SPEEDS.map(([v, text]) => h('option', { value: v }, text))
		);
		this.publish = h('input', { id: `${id}-publish`, type: 'checkbox', 'data-action': 'replay-publish' });
		this.publishLabel = h('label', { for: this.publish.id }, 'also publish');
		this.status = h('p', { class: 'replay-status', role: 'status' });
		this.list = h('ol', { class: 'replay-list', 'aria-label': 'Events to replay' });
		this.el = h(
			'div',
			{ class: 'view replay', role: 'tabpanel', 'aria-label': 'Replay events' },
			h('p', { class: 'buttons' }, h('span', { class: 'note' }, 'Replay:'), this.useMarked, this.useImported, this.open, this.file),
			h(
				'p',
				{ class: 'buttons' },
				this.play,
				this.step,
				this.stopButton,
				h('label', { for: this.speed.id }, 'pace'),
				this.speed,
				h('span', { class: 'publish' }, this.publish, this.publishLabel)
			),
			this.status,
			this.list
		);
		this.#render();
	}

	shown() {
		this.#render();
	}

	/** The panel left the bus or the page: the replay pauses. */
	stop() {
		this.pause();
	}

	pause() {
		clearTimeout(this.#timer);
		this.#timer = 0;
		this.#playing = false;
		this.#render();
	}

	async #readFile() {
		const chosen = this.file.files?.[0];
		this.file.value = '';
		if (!chosen) return;
		try {
			this.#load(readHistoryDocument(await chosen.text()), chosen.name);
		} catch (error) {
			setText(this.status, `Could not open ${chosen.name}: ${messageOf(error)}`);
		}
	}

	// The records become entries of JSON-safe payloads, as an export has them:
	// a live record and an exported one replay alike.
	#load(records, origin) {
		this.pause();
		this.#entries = records
			.filter((r) => !isGap(r))
			.map((r) => {
				const plain = plainRecord(r);
				return { id: r.id, name: r.name, time: r.timestamp.getTime(), payload: plain.payload, outcome: '' };
			});
		this.#origin = origin;
		this.#rewind();
	}

	#rewind() {
		this.pause();
		this.#cursor = 0;
		this.#done = { replayed: 0, refused: 0 };
		for (const entry of this.#entries) entry.outcome = '';
		this.#render();
	}

	#play() {
		if (this.#cursor >= this.#entries.length) this.#rewind();
		this.#playing = true;
		this.#step();
	}

	// Replays the entry under the cursor, then waits for the next one's turn.
	#step() {
		clearTimeout(this.#timer);
		this.#timer = 0;
		const noWait = this.speed.value === 'Infinity';
		for (let n = 0; this.#cursor < this.#entries.length; n++) {
			this.#replay(this.#entries[this.#cursor++]);
			if (!this.#playing || !noWait || n >= NO_WAIT_BATCH) break;
		}
		if (this.#cursor >= this.#entries.length) this.#playing = false;
		this.#reschedule();
	}

	#reschedule() {
		clearTimeout(this.#timer);
		this.#timer = 0;
		if (this.#playing && this.#cursor < this.#entries.length) this.#timer = setTimeout(() => this.#step(), this.#wait());
		this.#render();
	}

	// Until the next entry, at the chosen pace: the recorded gap divided by the speed.
	#wait() {
		const next = this.#entries[this.#cursor];
		const last = this.#entries[this.#cursor - 1];
		const speed = Number(this.speed.value);
		if (!last || !Number.isFinite(speed)) return 0;
		return Math.max(0, (next.time - last.time) / speed);
	}

	#replay(entry) {
		const bus = this.#ctx.bus();
		if (!bus || !this.#ctx.canAct()) {
			entry.outcome = '⊘ no bus to replay into';
			this.pause();
			return;
		}
		// A fresh copy each time: a handler may change what it is given.
		const payload = revived(bus, entry.name, entry.payload === undefined ? undefined : structuredClone(entry.payload));
		const publish = this.publish.checked && this.#ctx.links.wraps;
		let outcome;
		try {
			outcome = this.#ctx.links.replay(entry.name, payload, publish);
		} catch (error) {
			outcome = { record: null, error, sent: undefined };
		}
		const { record, error, sent } = outcome;
		const id = record ? ` as #${record.id}` : '';
		if (error) {
			this.#done.refused++;
			entry.outcome = `⊘ refused${id}: ${messageOf(error)}`;
		} else {
			this.#done.replayed++;
			entry.outcome = `${record?.status === 'failed' ? '✗ failed' : '✓ replayed'}${id}${publish ? ', published' : ''}`;
		}
		if (sent && typeof sent.then === 'function' && !error) {
			sent.then(undefined, (refusal) => {
				entry.outcome += `; the relay refused it: ${messageOf(refusal)}`;
				this.#render();
			});
		}
	}

	#render() {
		const entries = this.#entries;
		const imported = this.#ctx.imported();
		const marked = this.#ctx.marked().length;
		this.useMarked.disabled = marked === 0;
		this.useMarked.textContent = `Marked records (${marked})`;
		this.useImported.hidden = !imported;
		if (imported) this.useImported.textContent = `Imported file (${imported.records.length})`;
		const wraps = this.#ctx.links.wraps;
		this.publish.disabled = !wraps;
		this.publishLabel.title = wraps
			? "Replay through the bus's own emit: to the relay, the other tabs or the store, as the app's emits go"
			: 'This bus is a plain EventBus: replayed events reach its handlers only';
		const empty = entries.length === 0;
		this.play.disabled = this.step.disabled = empty || this.#cursor >= entries.length;
		if (!empty && this.#cursor >= entries.length) this.play.disabled = false; // Play again from the start
		this.play.textContent = this.#playing ? 'Pause' : 'Play';
		this.play.setAttribute('aria-pressed', String(this.#playing));
		this.stopButton.disabled = empty || (this.#cursor === 0 && !this.#playing);
		const { replayed, refused } = this.#done;
		const where =
			this.#cursor >= entries.length
				? 'done'
				: this.#playing
					? `playing, next in ${(this.#wait() / 1000).toFixed(1)} s`
					: this.#cursor === 0
						? 'ready'
						: 'paused';
		setText(
			this.status,
			empty
				? 'Nothing to replay: open an export, or mark records in the Events list (Ctrl+click or Space).'
				: `${entries.length} events from ${this.#origin}: ${this.#cursor} of ${entries.length} replayed (${replayed} accepted, ${refused} refused), ${where}. ` +
						(this.publish.checked && wraps ? 'Published through the bus.' : 'Not published: the local bus only.')
		);
		const from = Math.max(0, this.#cursor - SHOWN_BEFORE);
		const to = Math.min(entries.length, this.#cursor + SHOWN_AFTER);
		const items = [];
		if (from > 0) items.push(h('li', { class: 'more' }, `… ${from} before`));
		for (let i = from; i < to; i++) {
			const entry = entries[i];
			const current = i === this.#cursor;
			items.push(
				h(
					'li',
					{ 'data-index': i, 'aria-current': current ? 'step' : null, 'data-done': entry.outcome ? '' : null },
					h('span', { class: 'cursor', 'aria-hidden': 'true' }, current ? '▶' : ''),
					h('span', { class: 'time' }, formatClock(new Date(entry.time))),
					h('span', { class: 'name' }, shownName(entry.name)),
					h('span', { class: 'outcome' }, entry.outcome || (current ? 'next' : ''))
				)
			);
		}
		if (to < entries.length) items.push(h('li', { class: 'more' }, `… ${entries.length - to} more`));
		setChildren(this.list, items);
	}
}
