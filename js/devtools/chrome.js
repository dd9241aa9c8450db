// The panel's fixed DOM: the launcher button, the toolbar (a tab per view,
// filters, actions), the import banner and the footer, around the views
// (views/), with the relay's connection (buses.js) in the header. Built
// once per element; what the controls do is the element's (`on`).
// Dragging the inner edge to resize is here too (startResize).

import { SOURCES } from '../history/index.js';
import { h, setChildren, shownName } from './dom.js';

export const DOCKS = ['bottom', 'right', 'left'];

/**
 * Builds the panel around `views` (`{ id, title, el }` of views/index.js, in
 * tab order, the first shown), `list` and `detail` (the Events view's list
 * and detail pane, which the keys move between) and `connection` (a relay's
 * status), and returns its parts by name; `ui.root` goes into the shadow root.
 */
export function buildUi({ list, detail, connection }, on, views) {
	const ui = {};
	const tabButton = (tab, text) =>
		h(
			'button',
			{ role: 'tab', id: `kd-tab-${tab}`, 'aria-controls': `kd-view-${tab}`, 'data-tab': tab, onclick: () => on.showTab(tab) },
			text
		);
	const filter = (key, el) => {
		el.dataset.filter = key;
		el.addEventListener('input', () => on.setFilter(key, el.value));
		return el;
	};
	const action = (name, text, onclick, title) => h('button', { 'data-action': name, title, onclick }, text);

	ui.domain = filter('domain', h('select', { 'aria-label': 'Filter by domain' }));
	ui.name = filter('name', h('select', { 'aria-label': 'Filter by event name' }));
	ui.text = filter('text', h('input', { type: 'search', placeholder: 'Search payloads…', 'aria-label': 'Free-text search' }));
	ui.users = h('datalist', { id: 'kd-users' });
	ui.source = filter(
		'source',
		h(
			'select',
			{ class: 'source', 'aria-label': 'Filter by source' },
			h('option', { value: '' }, 'all sources'),
			SOURCES.map((s) => h('option', { value: s }, s))
		)
	);
	ui.user = filter(
		'user',
		h('input', { class: 'user', placeholder: 'userId', list: 'kd-users', 'aria-label': 'Filter by user (getEventFlow)' })
	);
	ui.pause = action('pause', 'Pause', on.pause, 'Stop following the bus; Resume catches up');
	ui.clear = action('clear', 'Clear', on.clear, "Clear the bus's history and statistics (bus.clearHistory())");
	ui.exportButton = action('export', 'Export', on.download, 'Save the history as JSON');
	ui.file = h('input', {
		type: 'file',
		'data-file': 'import',
		accept: 'application/json,.json',
		class: 'sr-only',
		tabindex: '-1',
		'aria-hidden': 'true'
	});
	ui.file.addEventListener('change', on.readFile);
	ui.importButton = action('import', 'Import', () => ui.file.click(), 'Open an exported history, read-only');
	ui.dock = h(
		'select',
		{ 'data-action': 'dock', 'aria-label': 'Dock to', onchange: () => on.dock(ui.dock.value) },
		DOCKS.map((d) => h('option', { value: d }, `dock ${d}`))
	);
	ui.collapse = action('collapse', '✕', on.close, 'Collapse the panel');
	ui.launcher = h('button', { class: 'launcher', part: 'launcher', onclick: on.open }, '⚡ kaiwa-bus');

	ui.bannerText = h('span');
	ui.bannerButton = action('live', 'Back to live', on.leaveImport);
	ui.banner = h('div', { class: 'banner', role: 'status', hidden: true }, ui.bannerText, ui.bannerButton);

	ui.list = list;
	ui.detail = detail;
	ui.footerCount = h('span', { role: 'status' });
	ui.footerState = h('span');
	ui.marks = h('span', { class: 'marks', hidden: true });
	ui.resizer = h('div', { class: 'resizer', 'aria-hidden': 'true' });
	ui.resizer.addEventListener('pointerdown', on.startResize);
	ui.tabs = h(
		'div',
		{ class: 'tabs', role: 'tablist', 'aria-label': 'Views' },
		views.map((v) => tabButton(v.id, v.title))
	);
	ui.views = {};
	for (const [i, { id, el }] of views.entries()) {
		ui.views[id] = el;
		el.id = `kd-view-${id}`;
		el.setAttribute('role', 'tabpanel');
		el.setAttribute('aria-labelledby', `kd-tab-${id}`);
		el.hidden = i > 0;
	}

	ui.panel = h(
		'section',
		{ class: 'panel', part: 'panel', 'aria-label': 'kaiwa-bus devtools' },
		ui.resizer,
		h(
			'header',
			{ class: 'toolbar' },
			h('span', { class: 'title' }, 'kaiwa-bus'),
			connection,
			ui.tabs,
			h('span', { class: 'filters' }, ui.domain, ui.name, ui.source, ui.text, ui.user, ui.users),
			h('span', { class: 'actions' }, ui.pause, ui.clear, ui.exportButton, ui.importButton, ui.dock, ui.collapse)
		),
		ui.banner,
		h('div', { class: 'body' }, Object.values(ui.views)),
		h('footer', { class: 'footer' }, ui.footerCount, ui.footerState, ui.marks)
	);
	ui.root = h('div', { class: 'root' }, ui.launcher, ui.panel, ui.file);
	return ui;
}

/**
 * Fills the filter menus: event names (`names`, sorted), their domains, and
 * the userIds to suggest. A menu is rebuilt only when its entries changed;
 * names are shown with their invisible characters made visible.
 */
export function fillMenus(ui, names, domains, users) {
	// `all` labels the '' entry of a <select>.
	const fill = (el, values, all) => {
		const current = el.value;
		const wanted = all ? ['', ...values] : values;
		const have = Array.from(el.options, (o) => o.value);
		if (have.length === wanted.length && have.every((v, i) => v === wanted[i])) return;
		setChildren(
			el,
			wanted.map((v) => (all ? h('option', { value: v }, v ? shownName(v) : all) : h('option', { value: v })))
		);
		if (all) el.value = wanted.includes(current) ? current : '';
	};
	fill(ui.domain, domains, 'all domains');
	fill(ui.name, names, 'all events');
	fill(ui.users, users);
}

/** The footer's marks: how many records are marked, and what to do with them. */
/**
 * The toolbar's, banner's and tabs' state: `{ paused, imported, disposed,
 * hasBus, kept (records), tab, shortcut }` (cheap; runs on every change).
 */
export function renderChrome(ui, state) {
	const { paused, imported, disposed } = state;
	const importing = imported !== null;
	ui.pause.textContent = paused ? 'Resume' : 'Pause';
	ui.pause.setAttribute('aria-pressed', String(paused));
	ui.pause.disabled = importing || disposed;
	ui.clear.disabled = importing || !state.hasBus || disposed;
	ui.banner.hidden = !importing && !disposed;
	ui.banner.classList.remove('error');
	ui.banner.classList.toggle('disposed', disposed && !importing);
	ui.bannerButton.hidden = !importing;
	if (importing) {
		ui.bannerText.textContent = `Viewing ${imported.fileName} (${imported.records.length} events), read-only.`;
	} else if (disposed) {
		ui.bannerText.textContent = `This bus was disposed (bus.dispose()): the panel shows the ${state.kept} events it had kept, and can no longer emit or replay.`;
	}
	for (const button of ui.tabs.children) {
		const selected = button.dataset.tab === state.tab;
		button.setAttribute('aria-selected', String(selected));
		button.tabIndex = selected ? 0 : -1; // one stop in the tab order; arrows move between tabs
	}
	ui.launcher.title = `Open kaiwa-bus devtools${state.shortcut ? ` (${state.shortcut})` : ''}`;
}

/** An error in the banner (a file that could not be imported). */
export function showError(ui, message) {
	ui.banner.hidden = false;
	ui.banner.classList.add('error');
	ui.bannerText.textContent = message;
	ui.bannerButton.hidden = true;
}

export function renderMarks(marks, n, on) {
	marks.hidden = n === 0;
	if (n === 0) return marks.replaceChildren();
	setChildren(marks, [
		`${n} marked`,
		h('button', { type: 'button', 'data-action': 'compare-marked', disabled: n < 2, onclick: () => on.showTab('compare') }, 'Compare'),
		h('button', { type: 'button', 'data-action': 'replay-marked-tab', onclick: () => on.showTab('replay') }, 'Replay'),
		h('button', { type: 'button', 'data-action': 'unmark', onclick: on.unmark }, 'Unmark all')
	]);
}

/** Saves `text` as a JSON file called `fileName` (a link clicked in `root`). */
export function download(root, text, fileName) {
	const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
	const link = h('a', { href: url, download: fileName, hidden: true });
	root.append(link);
	link.click();
	link.remove();
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Follows a drag of the resizer from `e` (pointerdown): `setSize(px)` as it
 * moves, `done()` when it ends.
 */
export function startResize(e, side, resizer, setSize, done) {
	e.preventDefault();
	resizer.setPointerCapture(e.pointerId);
	const move = (m) => {
		const size =
			side === 'bottom' ? globalThis.innerHeight - m.clientY : side === 'right' ? globalThis.innerWidth - m.clientX : m.clientX;
		setSize(size);
	};
	const end = () => {
		resizer.removeEventListener('pointermove', move);
		resizer.removeEventListener('pointerup', end);
		resizer.removeEventListener('pointercancel', end);
		done();
	};
	resizer.addEventListener('pointermove', move);
	resizer.addEventListener('pointerup', end);
	resizer.addEventListener('pointercancel', end);
}
