// The windowed event list: a header, then a spacer as tall as every
// matching row, in which a small pool of row elements covers the visible
// part and is refilled in place. A redraw costs the same for 1 new event or
// 10,000, and reads no layout (the view is kept by scroll and resize
// events), so it forces no reflow of the page.
//
// Restored records (a PersistentEventBus's, from earlier sessions) are set
// apart: dimmed, and the newest of them, under this session's, carries a
// separator line (data-boundary). A relay bus's gap record (events were
// missed before it) is a marker row (data-gap) that says so.
//
// For screen readers it is a grid: its row count is aria-rowcount (every
// matching record, not only the rows drawn), each row has its
// aria-rowindex, and the selected row is the grid's active descendant.
// Rows marked (Ctrl+click, or Space; for Compare and Replay) carry a ◆ in
// their first cell and data-marked.

import { STATUS_ICONS, durationNote, formatAgo, formatClock, formatDate, formatMs, h, setText, shownName } from './dom.js';
import { indexOfId, isGap, sourceOf } from './records.js';

export const ROW_HEIGHT = 22; // px, every row of the event list (see .list in styles.js)
const OVERSCAN = 4; // rows drawn beyond the visible ones

export class EventList {
	/** `onSelect(id)` when a row is clicked, `onMark(id)` when Ctrl- or Cmd-clicked; `onChange()` when the view scrolled or resized. */
	constructor({ onSelect, onMark, onKey, onChange }) {
		this.pool = []; // { el, cells..., record } rows, reused: only the visible part of the list exists
		this.view = { top: 0, height: 0 }; // the list's scroll position and height, kept by events
		this.scrollShift = 0; // px to scroll down at the next redraw, to keep older rows in view under new ones
		this.window = h('div', { class: 'window', role: 'rowgroup' });
		this.spacer = h('div', { class: 'spacer' }, this.window);
		this.empty = h('p', { class: 'empty' }, 'No events yet.');
		const column = (text, cls) => h('span', { role: 'columnheader', class: cls }, text);
		this.el = h(
			'div',
			{ class: 'list', role: 'grid', tabindex: '0', 'aria-label': 'Events, newest first', 'aria-rowcount': '1', onkeydown: onKey },
			h(
				'div',
				{ class: 'row head', role: 'row', 'aria-rowindex': '1' },
				h('span', { role: 'columnheader', class: 'mark', title: 'Marked (Ctrl+click or Space): Compare and Replay use them' }, '◆'),
				column('Time'),
				column('Age', 'ago'),
				column('Event'),
				column('Source', 'source'),
				column('Status'),
				column('Handlers', 'num'),
				column('Duration', 'num')
			),
			this.spacer,
			this.empty
		);
		this.el.addEventListener('click', (e) => {
			const row = e.target.closest('.row[data-id]');
			if (row && (e.ctrlKey || e.metaKey)) onMark(Number(row.dataset.id));
			else if (row) onSelect(Number(row.dataset.id));
		});
		this.el.addEventListener(
			'scroll',
			() => {
				this.view.top = this.el.scrollTop;
				onChange();
			},
			{ passive: true }
		);
		this.resizes = new ResizeObserver(([entry]) => {
			this.view.height = entry.contentRect.height;
			onChange();
		});
	}

	/** Follows the list's size (only while the panel is open). */
	observe() {
		this.resizes.observe(this.el);
	}

	disconnect() {
		this.resizes.disconnect();
	}

	/** Reads the scroll position (a hidden list forgets it). */
	rememberScroll() {
		this.view.top = this.el.scrollTop;
	}

	/** `fresh` rows arrived on top: when scrolled down to older events, keep them where they are. */
	keepInView(fresh) {
		if (this.view.top > 0) this.scrollShift += fresh * ROW_HEIGHT;
	}

	// Each pooled row shows one record and is placed with a transform: a new
	// event fills one row and moves the others, whose text is not touched.
	render(matching, selectedId, total, marked) {
		const { el, spacer, empty } = this;
		const n = matching.length;
		spacer.style.height = `${n * ROW_HEIGHT}px`;
		el.setAttribute('aria-rowcount', String(n + 1));
		if (this.scrollShift) {
			el.scrollTop = this.view.top + this.scrollShift;
			this.view.top = el.scrollTop;
			this.scrollShift = 0;
		}
		const first = Math.max(0, Math.min(Math.floor(this.view.top / ROW_HEIGHT), n - 1));
		const count = Math.max(0, Math.min(n - first, Math.ceil(this.view.height / ROW_HEIGHT) + OVERSCAN));
		const wanted = new Map(); // record -> rows from the top
		for (let i = 0; i < count; i++) wanted.set(matching[n - 1 - first - i], first + i); // newest first
		const free = [];
		// The newest restored record under a record of this session: the separator goes above it.
		const boundary = (fromTop) =>
			fromTop > 0 && sourceOf(matching[n - 1 - fromTop]) === 'restored' && sourceOf(matching[n - fromTop]) !== 'restored';
		for (const row of this.pool) {
			if (row.record !== null && wanted.has(row.record)) {
				this.#place(row, wanted.get(row.record), selectedId, boundary(wanted.get(row.record)), marked);
				wanted.delete(row.record);
			} else {
				free.push(row);
			}
		}
		for (const [record, fromTop] of wanted) {
			const row = free.pop() ?? this.#newRow();
			this.#fill(row, record);
			this.#place(row, fromTop, selectedId, boundary(fromTop), marked);
		}
		for (const row of free) {
			row.el.hidden = true;
			row.record = null;
		}
		const active = this.pool.find((row) => row.selected && row.record !== null);
		if (active) el.setAttribute('aria-activedescendant', active.el.id);
		else el.removeAttribute('aria-activedescendant');
		empty.hidden = n > 0;
		setText(empty, total ? 'No events match the filters.' : 'No events yet.');
	}

	#newRow() {
		const cell = (cls) => h('span', { role: 'gridcell', class: cls });
		const row = {
			mark: cell('mark'),
			clock: cell('time'),
			ago: cell('ago'),
			name: cell('name'),
			source: cell('source'),
			status: cell('status'),
			handlers: cell('num handlers'),
			duration: cell('num duration'),
			record: null,
			top: -1,
			selected: null,
			marked: null,
			boundary: false,
			time: 0
		};
		row.el = h(
			'div',
			{ class: 'row', role: 'row', id: `kd-row-${this.pool.length}` },
			row.mark,
			row.clock,
			row.ago,
			row.name,
			row.source,
			row.status,
			row.handlers,
			row.duration
		);
		this.pool.push(row);
		this.window.append(row.el);
		return row;
	}

	#place(row, fromTop, selectedId, boundary, marked) {
		row.el.hidden = false;
		if (row.boundary !== boundary) {
			row.boundary = boundary;
			row.el.toggleAttribute('data-boundary', boundary);
			if (boundary) row.el.title = 'Restored from storage: this and the rows below are from earlier sessions';
			else row.el.removeAttribute('title');
		}
		if (row.top !== fromTop) {
			row.top = fromTop;
			row.el.style.transform = `translateY(${fromTop * ROW_HEIGHT}px)`;
			row.el.setAttribute('aria-rowindex', String(fromTop + 2));
		}
		const selected = row.record.id === selectedId;
		if (row.selected !== selected) {
			row.selected = selected;
			row.el.setAttribute('aria-selected', String(selected));
		}
		const isMarked = marked.has(row.record.id);
		if (row.marked !== isMarked) {
			row.marked = isMarked;
			row.el.toggleAttribute('data-marked', isMarked);
			row.mark.textContent = isMarked ? '◆' : '';
			if (isMarked) row.mark.setAttribute('aria-label', 'marked');
			else row.mark.removeAttribute('aria-label');
		}
	}

	// Writes a record into a pooled row: text only, never HTML.
	#fill(row, record) {
		row.record = record;
		row.time = record.timestamp.getTime();
		const { el } = row;
		el.dataset.id = String(record.id);
		el.dataset.status = record.status;
		row.clock.textContent = formatClock(record.timestamp);
		row.clock.title = formatDate(record.timestamp);
		row.ago.textContent = formatAgo(Date.now() - row.time);
		const gap = isGap(record);
		el.toggleAttribute('data-gap', gap);
		const name = shownName(record.name);
		row.name.textContent = gap ? '⚠ gap: events missed' : name;
		row.name.title = gap
			? `${record.name}: the relay could not resume where this bus left off; events published meanwhile were missed`
			: name === record.name
				? name
				: `${name}: this name holds invisible or look-alike characters`;
		row.name.toggleAttribute('data-lookalike', name !== record.name);
		const source = sourceOf(record);
		if (el.dataset.source !== source) {
			el.dataset.source = source; // mostly 'local' row after row: written only when it changes
			row.source.textContent = source;
		}
		row.status.className = `status status-${record.status}`;
		row.status.textContent = `${STATUS_ICONS[record.status]} ${record.status}`;
		row.handlers.textContent = String(record.handlerCount);
		row.duration.textContent = formatMs(record.durationMs);
		const note = durationNote(record);
		if (note) row.duration.title = note;
		else row.duration.removeAttribute('title');
	}

	/** The rows let go of their records (the panel closed). */
	clear() {
		for (const row of this.pool) {
			row.el.hidden = true;
			row.record = null;
		}
	}

	/** Refreshes the relative times of the visible rows. */
	tick() {
		const now = Date.now();
		for (const row of this.pool) {
			if (row.record) setText(row.ago, formatAgo(now - row.time));
		}
	}

	/**
	 * Up and down arrows: the id of the record to select next (or null), its
	 * row scrolled into view.
	 */
	step(matching, selectedId, key) {
		if (!matching.length) return null;
		const at = indexOfId(matching, selectedId);
		// The list is newest first: down is an older record, a lower index.
		const next = at < 0 ? matching.length - 1 : key === 'ArrowDown' ? at - 1 : at + 1;
		if (next < 0 || next >= matching.length) return null;
		const fromTop = matching.length - 1 - next;
		const visible = this.view.height - ROW_HEIGHT - 1; // under the sticky header and its border
		if (fromTop * ROW_HEIGHT < this.view.top) this.el.scrollTop = fromTop * ROW_HEIGHT;
		else if ((fromTop + 1) * ROW_HEIGHT > this.view.top + visible) this.el.scrollTop = (fromTop + 1) * ROW_HEIGHT - visible;
		this.view.top = this.el.scrollTop;
		return matching[next].id;
	}
}
