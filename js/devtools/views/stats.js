// The Statistics view: the bus's getPerformanceStats() by event name, or
// those of the records kept when they are all there is (an imported file, a
// disposed bus), and a store's storage (buses.js). A row shows its events
// in the Events view. Redrawn when shown, and at each frame while shown.

import { formatMs, h, setChildren, shownName } from '../dom.js';
import { statsOf } from '../records.js';

/** The Statistics view: `{ id, title, render(ctx) }`; see index.js for `ctx`. */
export const statsView = {
	id: 'stats',
	title: 'Statistics',
	render(ctx) {
		const body = h('tbody');
		const note = h('p', { class: 'note' });
		const column = (text, title) => h('th', { class: 'num', title }, text);
		const head = h(
			'tr',
			null,
			h('th', null, 'Event'),
			column('Count'),
			column('Timed', 'Dispatches timed: the durations are over these'),
			column('Average'),
			column('Min'),
			column('Max')
		);
		const el = h('div', { class: 'view stats' }, ctx.status.store, h('table', null, h('thead', null, head), body), note);
		body.addEventListener('click', (e) => {
			const tr = /** @type {HTMLElement} */ (e.target).closest('tr[data-name]');
			if (tr) ctx.showEvents(/** @type {HTMLElement} */ (tr).dataset.name);
		});
		const draw = () => {
			// A disposed bus's statistics are gone with it: those of the records kept.
			const kept = ctx.imported() !== null || ctx.bus() === null;
			const stats = kept ? null : ctx.read((bus) => bus.getPerformanceStats(), null);
			const rows = statsRows(stats ?? statsOf(ctx.records()));
			setChildren(body, rows);
			note.textContent = statsNote(rows.length, stats === null);
			ctx.status.renderStore(!kept);
		};
		return { el, shown: draw, frame: draw };
	}
};

/** The statistics table's rows, by event name, from getPerformanceStats()-shaped stats. */
export function statsRows(stats) {
	const rows = Object.entries(stats).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
	return rows.map(([name, s]) =>
		h(
			'tr',
			{ 'data-name': name, title: 'Show these events' },
			h('td', { class: 'name' }, shownName(name)),
			h('td', { class: 'num' }, String(s.count)),
			h('td', { class: 'num' }, String(s.timedCount)),
			h('td', { class: 'num' }, formatMs(s.averageDuration)),
			h('td', { class: 'num' }, formatMs(s.minDuration)),
			h('td', { class: 'num' }, formatMs(s.maxDuration))
		)
	);
}

/** The note under the statistics table. */
export function statsNote(rowCount, imported) {
	return rowCount
		? `Delivered and failed events${imported ? ' in the imported file' : ' since the bus started or its history was last cleared'}; ` +
				"rejected ones are never dispatched. Durations are over the timed dispatches: by default the bus times a sample (its 'timing' option)."
		: 'No event dispatched yet.';
}
