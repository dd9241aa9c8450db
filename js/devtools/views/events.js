// The Events view: the list of records (list.js) and the detail pane of the
// selected one (detail.js). The element owns both, since its filters, marks
// and keys work on them; the view only places them. It is the panel's home:
// the first tab, where `/` and Escape go back to.

import { h } from '../dom.js';

/** The Events view: `{ id, title, render(ctx) }`; see index.js for `ctx`. */
export const eventsView = {
	id: 'events',
	title: 'Events',
	render(ctx) {
		return { el: h('div', { class: 'view events' }, ctx.list, ctx.detail) };
	}
};
