// <kaiwa-devtools>, the element: its state (settings, the records shown,
// the filter, the selection, the marks), the live feed from the bus, and the
// toolbar, tabs and banner around the views (views/index.js: Events, with
// the list (list.js) and the detail pane (detail.js), Statistics, Emit,
// Replay, Compare). Its module header, js/devtools/index.js, says what the
// panel reads from the bus and what it costs.
//
// Its settings and remembered choices (open, dock, size) are prefs.js's
// Settings.
//
// Every read of the bus goes through #read: a bus disposed while the panel
// is open turns the panel to a "disposed" state (it shows what it had kept)
// instead of throwing from a click or a frame.

import { historyDocument, readHistoryDocument } from '../history/index.js';
import { PanelLinks, isDisposed } from './actions.js';
import { BusStatus } from './buses.js';
import { DOCKS, buildUi, download, fillMenus, renderChrome, renderMarks, showError, startResize } from './chrome.js';
import { detailNodes } from './detail.js';
import { h, setText } from './dom.js';
import { addShortcut, panelKey } from './keys.js';
import { EventList } from './list.js';
import { Settings } from './prefs.js';
import { byId, domainsOf, indexOfId } from './records.js';
import { Shown } from './shown.js';
import { adoptStyles } from './styles.js';
import { VIEWS } from './views/index.js';

const USER_SUGGESTIONS = 200; // userIds offered by the user filter, at most

// In Node (SSR) there is no HTMLElement: the class then extends a stand-in
// and is never registered.
/** @type {typeof HTMLElement} */
const Base = globalThis.HTMLElement ?? /** @type {any} */ (class {});

/**
 * `<kaiwa-devtools>`: give it a bus (`element.bus = bus`) and put it in the
 * page; mountDevtools() does both. See js/devtools/index.d.ts for the API.
 */
export class KaiwaDevtools extends Base {
	// Settings (configure) and remembered preferences (localStorage): prefs.js.
	#settings = new Settings();

	// State.
	#bus = null;
	#disposed = false; // the bus was disposed while shown
	#connected = false;
	#paused = false;
	#imported = null; // { fileName, records } while viewing an imported file
	#tab = VIEWS[0].id; // the Events view, the panel's home

	// The records shown (shown.js), and what the live feed has queued.
	#shown = new Shown();
	#queue = [];
	#reload = true; // re-read the records (the bus history, or the imported file) at the next frame
	#selectedId = null;
	#marked = new Set(); // ids of the records marked for Compare and Replay, in the order marked
	#schemaNames = []; // the bus's, for the filter menus

	// Live resources, held only while open and live.
	#unsubscribe = null;
	#frame = 0;
	#ticker = 0;
	#offShortcut = null;

	// DOM.
	#ui = null;
	#list = null; // the windowed event list (list.js)
	#status = new BusStatus(); // a relay's connection, a store's storage (buses.js)
	#views = new Map(); // id -> what a view's render() gave (views/index.js)
	#links = new PanelLinks(); // the panel's emits and replays (actions.js)

	// fn(bus), or `fallback` when there is no bus or it was disposed.
	#read = (fn, fallback) => {
		const bus = this.#bus;
		if (bus === null || this.#disposed) return fallback;
		try {
			return fn(bus);
		} catch (error) {
			if (!isDisposed(bus)) throw error;
			this.#onDisposed();
			return fallback;
		}
	};

	// What the views and the detail pane get (views/index.js); the Events
	// view's list and detail are added when the panel is built.
	#ctx = {
		list: null,
		detail: null,
		status: this.#status,
		records: () => this.#shown.records,
		showEvents: (name) => {
			this.#setFilter('name', name);
			this.#showTab(VIEWS[0].id);
		},
		bus: () => (this.#disposed ? null : this.#bus),
		read: this.#read,
		canAct: () => this.#bus !== null && !this.#disposed && this.#links.usable,
		links: this.#links,
		marked: (order) => {
			const records = [...this.#marked].map((id) => this.#shown.get(id)).filter(Boolean);
			return order === 'order' ? records : records.sort(byId);
		},
		imported: () => this.#imported,
		select: (id) => this.#select(id),
		prefill: (record) => {
			this.#showTab('emit');
			this.#views.get('emit').prefill(record);
		}
	};

	/** Applies options (see DevtoolsOptions); call before or after connecting. */
	configure(options = {}) {
		this.#settings.configure(options);
		if (this.#ui) this.#applyLayout();
		this.#sync();
	}

	/** The bus the panel shows. Setting it switches the panel to that bus. */
	get bus() {
		return this.#bus;
	}

	set bus(bus) {
		if (bus !== null && (typeof bus?.onRecord !== 'function' || typeof bus.getEventHistory !== 'function')) {
			throw new TypeError('kaiwa-bus devtools: bus must be a kaiwa-bus EventBus');
		}
		if (bus !== null && isDisposed(bus)) {
			throw new Error('kaiwa-bus devtools: this bus was disposed (bus.dispose()); give the panel a bus in use');
		}
		if (bus === this.#bus && !this.#disposed) return;
		this.#stopLive();
		this.#stopViews();
		this.#bus = bus;
		this.#disposed = false;
		this.#links.use(bus);
		this.#selectedId = null;
		this.#marked.clear();
		this.#reload = true;
		this.#sync();
	}

	/** Whether the panel is open (not collapsed to its button). */
	get isOpen() {
		return this.#settings.prefs.open;
	}

	open() {
		this.#setOpen(true);
	}

	close() {
		this.#setOpen(false);
	}

	toggle() {
		this.#setOpen(!this.#settings.prefs.open);
	}

	/**
	 * The page edge the panel is docked to: 'bottom', 'right' or 'left'.
	 * @returns {import('./index.js').DevtoolsDock}
	 */
	get dock() {
		return this.#settings.dock;
	}

	set dock(dock) {
		this.#settings.dock = dock;
		if (this.#ui) this.#applyLayout();
	}

	/** While paused the list stands still; resuming catches up from the history. */
	get paused() {
		return this.#paused;
	}

	set paused(paused) {
		this.#paused = Boolean(paused);
		this.#sync();
	}

	/** The history as the Export button saves it: JSON text, `{ format, version, exportedAt, records }`. */
	exportJSON() {
		const records = this.#imported ? this.#imported.records : this.#read((bus) => bus.getEventHistory(), this.#shown.records);
		return JSON.stringify(historyDocument(records), null, 2);
	}

	/**
	 * Shows an exported history read-only, as the Import button does. Throws if the text is not one.
	 * @param {string} text
	 * @param {string} [fileName]
	 */
	importJSON(text, fileName = 'imported history') {
		const records = readHistoryDocument(text);
		this.#imported = { fileName, records };
		this.#selectedId = null;
		this.#marked.clear();
		this.#reload = true;
		this.#sync();
	}

	connectedCallback() {
		this.#connected = true;
		if (!this.#ui) this.#build();
		this.#applyLayout();
		this.#offShortcut ??= addShortcut({ el: this, matches: (e) => this.#settings.shortcut?.(e) === true, run: () => this.toggle() });
		this.#sync();
	}

	disconnectedCallback() {
		this.#connected = false;
		this.#offShortcut?.();
		this.#offShortcut = null;
		this.#stopViews();
		this.#links.stop();
		this.#sync();
	}

	// --- State --------------------------------------------------------------

	#setOpen(open) {
		this.#settings.prefs.open = open;
		this.#settings.save();
		this.#sync();
	}

	/**
	 * Brings everything in line with the state: a listener on the bus only
	 * while connected, open, live and not paused; the clock, and the listener
	 * on a relay's connection (buses.js), only while open.
	 * Whatever changed the source of the records has set #reload.
	 */
	#sync() {
		if (!this.#ui) return;
		const open = this.#connected && this.#settings.prefs.open;
		const live = open && !this.#paused && !this.#imported && this.#bus !== null && !this.#disposed;
		this.#ui.root.classList.toggle('open', this.#settings.prefs.open);
		if (live && !this.#unsubscribe) {
			this.#unsubscribe = this.#read((bus) => bus.onRecord(this.#onRecord), null);
			this.#reload = true; // catch up with what happened while not listening
		} else if (!live && this.#unsubscribe) {
			this.#stopLive();
		}
		if (open && !this.#disposed) this.#status.follow(this.#bus);
		else this.#status.stop();
		if (open) {
			if (!this.#ticker) {
				this.#ticker = setInterval(this.#tick, 1000);
				this.#list.observe();
			}
			if (this.#reload) this.#schedule();
		} else {
			this.#sleep();
		}
		this.#renderChrome();
	}

	#stopLive() {
		this.#unsubscribe?.();
		this.#unsubscribe = null;
		this.#queue = [];
	}

	#stopViews() {
		for (const view of this.#views.values()) view.stop?.();
	}

	// The bus was disposed: the panel keeps what it shows, and does nothing more with the bus.
	#onDisposed() {
		if (this.#disposed) return;
		this.#disposed = true;
		this.#stopLive();
		this.#stopViews();
		this.#links.stop();
		this.#status.stop();
		this.#renderChrome();
		this.#views.get(this.#tab)?.shown?.();
	}

	// Closed: no listener (see #sync), no clock, no frame, no rows, no
	// records held. They are re-read on open.
	#sleep() {
		clearInterval(this.#ticker);
		this.#ticker = 0;
		this.#list.disconnect();
		if (this.#frame) cancelAnimationFrame(this.#frame);
		this.#frame = 0;
		this.#shown.set([]);
		this.#queue = [];
		this.#reload = true;
		this.#list.clear();
		this.#shown.matching = [];
	}

	// The live feed: queue, and draw at the next frame.
	#onRecord = (record, change) => {
		if (change === 'cleared') {
			this.#queue = [];
			this.#shown.set([]);
			this.#shown.rebuild = true;
		} else if (this.#queue.length >= this.#settings.values.maxRecords) {
			// A long burst, or a hidden tab with no frames: re-read instead of queueing.
			this.#queue = [];
			this.#reload = true;
		} else if (!this.#reload) {
			this.#queue.push(record);
		}
		this.#schedule();
	};

	#schedule() {
		if (!this.#frame && this.#connected && this.#settings.prefs.open) this.#frame = requestAnimationFrame(this.#flush);
	}

	#flush = () => {
		const shown = this.#shown;
		this.#frame = 0;
		if (this.#reload) this.#load();
		// The latest version of each record: an emit whose handler's promise
		// rejected is queued twice in one frame, 'added' then 'updated'.
		const latest = new Map();
		for (const record of this.#queue) latest.set(record.id, record);
		this.#queue = [];
		const added = [];
		for (const record of latest.values()) {
			if (!shown.replace(record)) added.push(record);
			else if (record.id === this.#selectedId) this.#renderDetail();
		}
		if (added.length) this.#list.keepInView(shown.append(added, this.#settings.values.maxRecords));
		if (shown.rebuild) this.#refilter();
		this.#renderRows();
		if (shown.menusDirty) this.#renderMenus();
		this.#renderFooter();
		this.#views.get(this.#tab)?.frame?.();
	};

	// Reads the records afresh: the imported file, or the bus history.
	#load() {
		this.#reload = false;
		this.#queue = [];
		this.#list.rememberScroll();
		const source = this.#imported ? this.#imported.records : this.#read((bus) => bus.getEventHistory(), null);
		this.#schemaNames = this.#read((bus) => bus.getSchemaNames(), this.#disposed ? this.#schemaNames : []);
		if (source === null && this.#disposed) return; // keeps what it showed
		this.#shown.set((source ?? []).slice(-this.#settings.values.maxRecords));
		this.#shown.rebuild = true;
	}

	#refilter() {
		this.#shown.refilter();
		if (this.#selectedId !== null && indexOfId(this.#shown.records, this.#selectedId) < 0) this.#selectedId = null;
		for (const id of this.#marked) if (indexOfId(this.#shown.records, id) < 0) this.#marked.delete(id);
		this.#renderDetail();
		this.#renderMarks();
	}

	// --- Rendering ----------------------------------------------------------

	#build() {
		this.#list = new EventList({
			onSelect: (id) => this.#select(id),
			onMark: (id) => this.#toggleMark(id),
			onKey: (e) => this.#onListKey(e),
			onChange: () => this.#schedule()
		});
		this.#ctx.list = this.#list.el;
		this.#ctx.detail = h('div', { class: 'detail', tabindex: '-1', role: 'region', 'aria-label': 'Selected event' });
		const views = VIEWS.map((view) => {
			const built = view.render(this.#ctx);
			this.#views.set(view.id, built);
			return { id: view.id, title: view.title, el: built.el };
		});
		const parts = { list: this.#ctx.list, detail: this.#ctx.detail, connection: this.#status.connection };
		const ui = buildUi(
			parts,
			{
				showTab: (tab) => this.#showTab(tab),
				setFilter: (key, value) => this.#setFilter(key, value),
				pause: () => (this.paused = !this.#paused),
				clear: () => this.#clear(),
				download: () => this.#download(),
				readFile: () => this.#readFile(),
				dock: (side) => (this.dock = side),
				close: () => this.close(),
				open: () => this.open(),
				leaveImport: () => this.#leaveImport(),
				startResize: (e) => this.#startResize(e)
			},
			views
		);
		const shadow = adoptStyles(this.attachShadow({ mode: 'open' }));
		shadow.append(ui.root);
		shadow.addEventListener('keydown', this.#onPanelKey);
		this.#ui = ui;
		this.#renderDetail();
		this.#renderMarks();
	}

	#applyLayout() {
		const { root, dock } = this.#ui;
		const side = this.#settings.dock;
		for (const d of DOCKS) root.classList.toggle(`dock-${d}`, d === side);
		dock.value = side;
		root.style.setProperty('--size', `${this.#settings.size()}px`);
		this.setAttribute('dock', side);
	}

	// Toolbar and banner state (cheap; runs on every state change).
	#renderChrome() {
		if (this.#settings.prefs.open) this.setAttribute('open', '');
		else this.removeAttribute('open');
		renderChrome(this.#ui, {
			paused: this.#paused,
			imported: this.#imported,
			disposed: this.#disposed,
			hasBus: this.#bus !== null,
			kept: this.#shown.records.length,
			tab: this.#tab,
			shortcut: this.#settings.values.shortcut
		});
		this.#renderFooter();
	}

	#renderFooter() {
		const ui = this.#ui;
		const total = this.#shown.records.length;
		const shown = this.#shown.matching.length;
		setText(ui.footerCount, `${total} event${total === 1 ? '' : 's'} kept · ${shown} match${shown === 1 ? '' : 'es'}`);
		setText(
			ui.footerState,
			this.#imported ? 'imported' : this.#disposed ? 'disposed' : this.#paused ? 'paused' : this.#bus ? 'live' : 'no bus'
		);
	}

	#renderRows() {
		this.#list.render(this.#shown.matching, this.#selectedId, this.#shown.records.length, this.#marked);
	}

	#renderMarks() {
		renderMarks(this.#ui.marks, this.#marked.size, { showTab: (tab) => this.#showTab(tab), unmark: () => this.#unmarkAll() });
	}

	#toggleMark(id) {
		if (!this.#marked.delete(id)) this.#marked.add(id);
		this.#renderRows();
		this.#renderMarks();
	}

	#unmarkAll() {
		this.#marked.clear();
		this.#renderRows();
		this.#renderMarks();
	}

	// Relative times of the visible rows, once a second while open; and
	// whether the bus was disposed meanwhile.
	#tick = () => {
		if (!globalThis.document?.hidden) this.#list.tick();
		if (this.#bus !== null && !this.#disposed && isDisposed(this.#bus)) this.#onDisposed();
	};

	// The filter menus (event names with a schema or kept, their domains, users
	// kept) and the Source column, shown while a record kept is not local.
	#renderMenus() {
		const shown = this.#shown;
		shown.menusDirty = false;
		// The records' names and the schemas': as many as the records kept, plus the registry.
		const names = [...new Set([...this.#schemaNames, ...shown.names.keys()])].sort();
		fillMenus(this.#ui, names, domainsOf(names), shown.users.sorted(USER_SUGGESTIONS));
		this.#ui.root.classList.toggle(
			'with-sources',
			Array.from(shown.sources.keys()).some((s) => s !== 'local')
		);
	}

	#setFilter(key, value) {
		this.#shown.setFilter(key, value);
		const ui = this.#ui;
		if (key === 'name' && ui.name.value !== value) ui.name.value = value;
		this.#schedule();
	}

	#showTab(tab) {
		this.#tab = tab;
		for (const [id, el] of Object.entries(this.#ui.views)) el.hidden = id !== tab;
		this.#views.get(tab)?.shown?.();
		this.#renderChrome();
	}

	// --- The selected event -------------------------------------------------

	#select(id) {
		this.#selectedId = id;
		this.#renderRows();
		this.#renderDetail();
	}

	// Up and down arrows move the selection, scrolling it into view; Enter
	// opens it (the detail pane takes the focus); Space marks it.
	#onListKey(e) {
		if (e.key === 'Enter' && this.#selectedId !== null) {
			e.preventDefault();
			this.#ui.detail.focus();
		} else if (e.key === ' ' && this.#selectedId !== null) {
			e.preventDefault();
			this.#toggleMark(this.#selectedId);
		} else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
			e.preventDefault();
			const next = this.#list.step(this.#shown.matching, this.#selectedId, e.key);
			if (next !== null) this.#select(next);
		}
	}

	#renderDetail() {
		const at = this.#selectedId === null ? -1 : indexOfId(this.#shown.records, this.#selectedId);
		this.#ui.detail.replaceChildren(...detailNodes(at < 0 ? null : this.#shown.records[at], this.#ctx));
	}

	// --- Export, import -----------------------------------------------------

	#download() {
		const stamp = new Date().toISOString().replace(/[:.]/g, '-');
		download(this.#ui.root, this.exportJSON(), `kaiwa-bus-history-${stamp}.json`);
	}

	async #readFile() {
		const { file } = this.#ui;
		const chosen = file.files?.[0];
		file.value = '';
		if (!chosen) return;
		try {
			this.importJSON(await chosen.text(), chosen.name);
		} catch (error) {
			showError(this.#ui, `Could not import ${chosen.name}: ${error.message}`);
		}
	}

	#leaveImport() {
		this.#imported = null;
		this.#selectedId = null;
		this.#marked.clear();
		this.#reload = true;
		this.#sync();
	}

	// Clear empties the bus history (the panel shows the bus; it keeps no
	// history of its own). Re-read even when paused, so the list empties.
	#clear() {
		this.#read((bus) => bus.clearHistory());
		this.#selectedId = null;
		this.#reload = true;
		this.#schedule();
	}

	// --- Keyboard and resizing ----------------------------------------------

	#onPanelKey = (e) =>
		panelKey(e, this.#ui, {
			tab: this.#tab,
			home: VIEWS[0].id,
			showTab: (tab) => this.#showTab(tab),
			close: () => this.close()
		});

	#startResize(e) {
		const settings = this.#settings;
		const side = settings.dock;
		const { resizer, root } = this.#ui;
		const setSize = (size) => {
			settings.resize(side, size);
			root.style.setProperty('--size', `${settings.size()}px`);
		};
		startResize(e, side, resizer, setSize, () => settings.save());
	}
}
