// <kaiwa-devtools>, the element: its state (settings, the records shown,
// the filter, the selection), the live feed from the bus, and the toolbar,
// tabs and banner around the list (list.js) and the detail pane
// (detail.js). Its module header, js/devtools.js, says what the panel reads
// from the bus and what it costs.

import { historyDocument, readHistoryDocument } from '../history.js';
import { BusStatus } from './buses.js';
import { DOCKS, buildUi, startResize } from './chrome.js';
import { detailNodes, statsNote, statsRows } from './detail.js';
import { h, setChildren, setText } from './dom.js';
import { EventList } from './list.js';
import { loadPrefs, parseShortcut, savePrefs } from './prefs.js';
import { Tally, byId, compileFilter, domainsOf, forgetText, indexOfId, sourceOf, statsOf, userIdOf } from './records.js';
import { adoptStyles } from './styles.js';

const DEFAULT_SIZE = { bottom: 320, right: 600, left: 600 };
const MIN_SIZE = 120;
const USER_SUGGESTIONS = 200; // userIds offered by the user filter, at most

const DEFAULTS = {
	open: true,
	dock: 'bottom',
	size: undefined,
	maxRecords: 1000,
	shortcut: 'Alt+Shift+K',
	storageKey: 'kaiwa-bus:devtools'
};

// In Node (SSR) there is no HTMLElement: the class then extends a stand-in
// and is never registered.
/** @type {typeof HTMLElement} */
const Base = globalThis.HTMLElement ?? /** @type {any} */ (class {});

/**
 * `<kaiwa-devtools>`: give it a bus (`element.bus = bus`) and put it in the
 * page; mountDevtools() does both. See js/devtools.d.ts for the API.
 */
export class KaiwaDevtools extends Base {
	// Settings (configure) and remembered preferences (localStorage).
	#settings = { ...DEFAULTS };
	#prefs = { open: DEFAULTS.open, dock: DEFAULTS.dock, size: {} };
	#shortcut = parseShortcut(DEFAULTS.shortcut);

	// State.
	#bus = null;
	#connected = false;
	#paused = false;
	#imported = null; // { fileName, records } while viewing an imported file
	#tab = 'events';
	#filter = { domain: '', name: '', text: '', user: '', source: '' };
	#matches = compileFilter(this.#filter);

	// The records shown, oldest first, and what the live feed has queued.
	#records = [];
	#matching = []; // the records that pass the filter, oldest first
	#queue = [];
	#rebuild = false; // re-filter the list at the next frame
	#reload = true; // re-read the records (the bus history, or the imported file) at the next frame
	#selectedId = null;
	#schemaNames = []; // the bus's, for the filter menus
	#names = new Tally(); // event names of the records kept, for the filter menus
	#users = new Tally(); // userIds of the records kept, for the user filter's suggestions
	#sources = new Tally(); // sources of the records kept: the Source column shows when one is not 'local'
	#menusDirty = true;

	// Live resources, held only while open and live.
	#unsubscribe = null;
	#frame = 0;
	#ticker = 0;

	// DOM.
	#ui = null;
	#list = null; // the windowed event list (list.js)
	#status = new BusStatus(); // a relay's connection, a store's storage (buses.js)

	/** Applies options (see DevtoolsOptions); call before or after connecting. */
	configure(options = {}) {
		if (options === null || typeof options !== 'object') throw new TypeError('kaiwa-bus devtools: options must be an object');
		const s = { ...this.#settings, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
		if (!DOCKS.includes(s.dock)) throw new TypeError(`kaiwa-bus devtools: dock must be one of ${DOCKS.join(', ')}, got ${JSON.stringify(s.dock)}`);
		if (!Number.isInteger(s.maxRecords) || s.maxRecords < 1) throw new RangeError('kaiwa-bus devtools: maxRecords must be a whole number from 1 up');
		this.#shortcut = parseShortcut(s.shortcut);
		this.#settings = s;
		// Remembered choices win over the defaults given here.
		const saved = loadPrefs(s.storageKey);
		this.#prefs = {
			open: typeof saved.open === 'boolean' ? saved.open : s.open,
			dock: DOCKS.includes(saved.dock) ? saved.dock : s.dock,
			size: { ...(saved.size && typeof saved.size === 'object' ? saved.size : {}) }
		};
		if (Number.isFinite(s.size) && !Number.isFinite(this.#prefs.size[this.#prefs.dock])) this.#prefs.size[this.#prefs.dock] = s.size;
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
		if (bus === this.#bus) return;
		this.#stopLive();
		this.#bus = bus;
		this.#selectedId = null;
		this.#reload = true;
		this.#sync();
	}

	/** Whether the panel is open (not collapsed to its button). */
	get isOpen() {
		return this.#prefs.open;
	}

	open() {
		this.#setOpen(true);
	}

	close() {
		this.#setOpen(false);
	}

	toggle() {
		this.#setOpen(!this.#prefs.open);
	}

	/** The page edge the panel is docked to: 'bottom', 'right' or 'left'. */
	get dock() {
		return this.#prefs.dock;
	}

	set dock(dock) {
		if (!DOCKS.includes(dock)) throw new TypeError(`kaiwa-bus devtools: dock must be one of ${DOCKS.join(', ')}`);
		this.#prefs.dock = dock;
		this.#savePrefs();
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
		const records = this.#imported ? this.#imported.records : (this.#bus?.getEventHistory() ?? []);
		return JSON.stringify(historyDocument(records), null, 2);
	}

	/** Shows an exported history read-only, as the Import button does. Throws if the text is not one. */
	importJSON(text, fileName = 'imported history') {
		const records = readHistoryDocument(text);
		this.#imported = { fileName, records };
		this.#selectedId = null;
		this.#reload = true;
		this.#sync();
	}

	connectedCallback() {
		this.#connected = true;
		if (!this.#ui) this.#build();
		this.#applyLayout();
		globalThis.addEventListener('keydown', this.#onKey);
		this.#sync();
	}

	disconnectedCallback() {
		this.#connected = false;
		globalThis.removeEventListener('keydown', this.#onKey);
		this.#sync();
	}

	// --- State --------------------------------------------------------------

	#setOpen(open) {
		this.#prefs.open = open;
		this.#savePrefs();
		this.#sync();
	}

	#savePrefs() {
		savePrefs(this.#settings.storageKey, this.#prefs);
	}

	/**
	 * Brings everything in line with the state: a listener on the bus only
	 * while connected, open, live and not paused; the clock, and the listener
	 * on a relay's connection (buses.js), only while open.
	 * Whatever changed the source of the records has set #reload.
	 */
	#sync() {
		if (!this.#ui) return;
		const open = this.#connected && this.#prefs.open;
		const live = open && !this.#paused && !this.#imported && this.#bus !== null;
		this.#ui.root.classList.toggle('open', this.#prefs.open);
		if (live && !this.#unsubscribe) {
			this.#unsubscribe = this.#bus.onRecord(this.#onRecord);
			this.#reload = true; // catch up with what happened while not listening
		} else if (!live && this.#unsubscribe) {
			this.#stopLive();
		}
		if (open) this.#status.follow(this.#bus);
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

	// Closed: no listener (see #sync), no clock, no frame, no rows, no
	// records held. They are re-read on open.
	#sleep() {
		clearInterval(this.#ticker);
		this.#ticker = 0;
		this.#list.disconnect();
		if (this.#frame) cancelAnimationFrame(this.#frame);
		this.#frame = 0;
		this.#setRecords([]);
		this.#queue = [];
		this.#reload = true;
		this.#list.clear();
		this.#matching = [];
	}

	// The live feed: queue, and draw at the next frame.
	#onRecord = (record, change) => {
		if (change === 'cleared') {
			this.#queue = [];
			this.#setRecords([]);
			this.#rebuild = true;
		} else if (this.#queue.length >= this.#settings.maxRecords) {
			// A long burst, or a hidden tab with no frames: re-read instead of queueing.
			this.#queue = [];
			this.#reload = true;
		} else if (!this.#reload) {
			this.#queue.push(record);
		}
		this.#schedule();
	};

	#schedule() {
		if (!this.#frame && this.#connected && this.#prefs.open) this.#frame = requestAnimationFrame(this.#flush);
	}

	#flush = () => {
		this.#frame = 0;
		if (this.#reload) this.#load();
		// The latest version of each record: an emit whose handler's promise
		// rejected is queued twice in one frame, 'added' then 'updated'.
		const latest = new Map();
		for (const record of this.#queue) latest.set(record.id, record);
		this.#queue = [];
		const added = [];
		for (const record of latest.values()) {
			const at = indexOfId(this.#records, record.id);
			if (at >= 0) this.#replace(at, record);
			else added.push(record);
		}
		if (added.length) this.#append(added);
		if (this.#rebuild) this.#refilter();
		this.#renderRows();
		if (this.#menusDirty) this.#renderMenus();
		this.#renderFooter();
		if (this.#tab === 'stats') this.#renderStats();
	};

	// Reads the records afresh: the imported file, or the bus history.
	#load() {
		this.#reload = false;
		this.#queue = [];
		this.#list.rememberScroll();
		const source = this.#imported ? this.#imported.records : (this.#bus?.getEventHistory() ?? []);
		this.#schemaNames = this.#bus?.getSchemaNames() ?? [];
		this.#setRecords(source.slice(-this.#settings.maxRecords));
		this.#rebuild = true;
	}

	#setRecords(records) {
		this.#records = records;
		this.#names.clear();
		this.#users.clear();
		this.#sources.clear();
		for (const record of records) this.#count(record, 1);
		this.#menusDirty = true;
	}

	// Counts a record's name, userId and source in (1) or out (-1) of the filter menus.
	#count(record, delta) {
		const change = (tally, key) => {
			if (delta > 0 ? tally.add(key) : tally.remove(key)) this.#menusDirty = true;
		};
		change(this.#names, record.name);
		change(this.#sources, sourceOf(record));
		const userId = userIdOf(record.payload);
		if (typeof userId === 'string') change(this.#users, userId);
	}

	// A record 'updated': a handler's promise rejected after the emit.
	#replace(at, record) {
		forgetText(this.#records[at]);
		this.#records[at] = record;
		const m = indexOfId(this.#matching, record.id);
		if ((m >= 0) !== this.#matches(record)) this.#rebuild = true; // its new error may change what matches
		else if (m >= 0) this.#matching[m] = record;
		if (record.id === this.#selectedId) this.#renderDetail();
	}

	// New records: keep them in id order, drop the oldest beyond maxRecords.
	#append(added) {
		// A handler's nested emit is announced before the emit that caused it.
		added.sort(byId);
		const records = this.#records;
		const inOrder = records.length === 0 || added[0].id > records.at(-1).id;
		for (const record of added) {
			records.push(record);
			this.#count(record, 1);
		}
		if (!inOrder) {
			records.sort(byId);
			this.#rebuild = true;
		}
		const excess = records.length - this.#settings.maxRecords;
		if (excess > 0) {
			for (const dropped of records.splice(0, excess)) this.#count(dropped, -1);
			const oldest = records[0].id;
			let cut = 0;
			while (cut < this.#matching.length && this.#matching[cut].id < oldest) cut++;
			this.#matching.splice(0, cut);
		}
		if (this.#rebuild) return;
		let fresh = 0;
		for (const record of added) {
			if (record.id >= records[0].id && this.#matches(record)) {
				this.#matching.push(record);
				fresh++;
			}
		}
		this.#list.keepInView(fresh);
	}

	#refilter() {
		this.#rebuild = false;
		this.#matching = this.#records.filter(this.#matches);
		if (this.#selectedId !== null && indexOfId(this.#records, this.#selectedId) < 0) this.#selectedId = null;
		this.#renderDetail();
	}

	// --- Rendering ----------------------------------------------------------

	#build() {
		this.#list = new EventList({
			onSelect: (id) => this.#select(id),
			onKey: (e) => this.#onListKey(e),
			onChange: () => this.#schedule()
		});
		const ui = buildUi(this.#list.el, {
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
		}, this.#status);
		adoptStyles(this.attachShadow({ mode: 'open' })).append(ui.root);
		this.#ui = ui;
		this.#renderDetail();
	}

	#applyLayout() {
		const { root, dock } = this.#ui;
		const side = this.#prefs.dock;
		for (const d of DOCKS) root.classList.toggle(`dock-${d}`, d === side);
		dock.value = side;
		root.style.setProperty('--size', `${this.#size()}px`);
		this.setAttribute('dock', side);
	}

	#size() {
		const side = this.#prefs.dock;
		const wanted = this.#prefs.size[side] ?? DEFAULT_SIZE[side];
		const room = side === 'bottom' ? globalThis.innerHeight : globalThis.innerWidth;
		return Math.round(Math.max(MIN_SIZE, Math.min(wanted, (room || Infinity) * 0.9)));
	}

	// Toolbar and banner state (cheap; runs on every state change).
	#renderChrome() {
		const ui = this.#ui;
		const importing = this.#imported !== null;
		if (this.#prefs.open) this.setAttribute('open', '');
		else this.removeAttribute('open');
		ui.pause.textContent = this.#paused ? 'Resume' : 'Pause';
		ui.pause.setAttribute('aria-pressed', String(this.#paused));
		ui.pause.disabled = importing;
		ui.clear.disabled = importing || !this.#bus;
		ui.banner.hidden = !importing;
		ui.banner.classList.remove('error');
		ui.bannerButton.hidden = !importing;
		if (importing) {
			ui.bannerText.textContent = `Viewing ${this.#imported.fileName} (${this.#imported.records.length} events), read-only.`;
		}
		for (const button of ui.tabs.children) button.setAttribute('aria-selected', String(button.dataset.tab === this.#tab));
		ui.launcher.title = `Open kaiwa-bus devtools${this.#settings.shortcut ? ` (${this.#settings.shortcut})` : ''}`;
		this.#renderFooter();
	}

	#renderFooter() {
		const ui = this.#ui;
		const total = this.#records.length;
		const shown = this.#matching.length;
		setText(ui.footerCount, `${total} event${total === 1 ? '' : 's'} kept · ${shown} match${shown === 1 ? '' : 'es'}`);
		setText(ui.footerState, this.#imported ? 'imported' : this.#paused ? 'paused' : this.#bus ? 'live' : 'no bus');
	}

	#renderRows() {
		this.#list.render(this.#matching, this.#selectedId, this.#records.length);
	}

	// Relative times of the visible rows, once a second while open.
	#tick = () => {
		if (!globalThis.document?.hidden) this.#list.tick();
	};

	// The filter menus (event names with a schema or kept, their domains, users
	// kept) and the Source column, shown while a record kept is not local.
	#renderMenus() {
		this.#menusDirty = false;
		const ui = this.#ui;
		// The records' names and the schemas': as many as the records kept, plus the registry.
		const names = [...new Set([...this.#schemaNames, ...this.#names.keys()])].sort();
		// Rebuilt only when changed; `all` labels the '' entry of a <select>.
		const fill = (el, values, all) => {
			const current = el.value;
			const wanted = all ? ['', ...values] : values;
			const have = Array.from(el.options, (o) => o.value);
			if (have.length === wanted.length && have.every((v, i) => v === wanted[i])) return;
			setChildren(
				el,
				wanted.map((v) => (all ? h('option', { value: v }, v || all) : h('option', { value: v })))
			);
			if (all) el.value = wanted.includes(current) ? current : '';
		};
		fill(ui.domain, domainsOf(names), 'all domains');
		fill(ui.name, names, 'all events');
		fill(ui.users, this.#users.sorted(USER_SUGGESTIONS));
		ui.root.classList.toggle('with-sources', Array.from(this.#sources.keys()).some((s) => s !== 'local'));
	}

	#setFilter(key, value) {
		this.#filter = { ...this.#filter, [key]: value };
		const ui = this.#ui;
		if (key === 'name' && ui.name.value !== value) ui.name.value = value;
		this.#matches = compileFilter(this.#filter);
		this.#rebuild = true;
		this.#schedule();
	}

	#showTab(tab) {
		this.#tab = tab;
		this.#ui.events.hidden = tab !== 'events';
		this.#ui.stats.hidden = tab !== 'stats';
		if (tab === 'stats') this.#renderStats();
		this.#renderChrome();
	}

	#renderStats() {
		const ui = this.#ui;
		const stats = this.#imported ? statsOf(this.#imported.records) : (this.#bus?.getPerformanceStats() ?? {});
		const rows = statsRows(stats);
		setChildren(ui.statsBody, rows);
		ui.statsNote.textContent = statsNote(rows.length, this.#imported !== null);
		this.#status.renderStore(this.#imported === null);
	}

	// --- The selected event -------------------------------------------------

	#select(id) {
		this.#selectedId = id;
		this.#renderRows();
		this.#renderDetail();
	}

	// Up and down arrows move the selection, scrolling it into view.
	#onListKey(e) {
		if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
		e.preventDefault();
		const next = this.#list.step(this.#matching, this.#selectedId, e.key);
		if (next !== null) this.#select(next);
	}

	#renderDetail() {
		const at = this.#selectedId === null ? -1 : indexOfId(this.#records, this.#selectedId);
		this.#ui.detail.replaceChildren(...detailNodes(at < 0 ? null : this.#records[at], this.#bus));
	}

	// --- Export, import -----------------------------------------------------

	#download() {
		const blob = new Blob([this.exportJSON()], { type: 'application/json' });
		const url = URL.createObjectURL(blob);
		const stamp = new Date().toISOString().replace(/[:.]/g, '-');
		const link = h('a', { href: url, download: `kaiwa-bus-history-${stamp}.json`, hidden: true });
		this.#ui.root.append(link);
		link.click();
		link.remove();
		setTimeout(() => URL.revokeObjectURL(url), 10_000);
	}

	async #readFile() {
		const { file } = this.#ui;
		const chosen = file.files?.[0];
		file.value = '';
		if (!chosen) return;
		try {
			this.importJSON(await chosen.text(), chosen.name);
		} catch (error) {
			this.#showError(`Could not import ${chosen.name}: ${error.message}`);
		}
	}

	#showError(message) {
		const ui = this.#ui;
		ui.banner.hidden = false;
		ui.banner.classList.add('error');
		ui.bannerText.textContent = message;
		ui.bannerButton.hidden = true;
	}

	#leaveImport() {
		this.#imported = null;
		this.#selectedId = null;
		this.#reload = true;
		this.#sync();
	}

	// Clear empties the bus history (the panel shows the bus; it keeps no
	// history of its own). Re-read even when paused, so the list empties.
	#clear() {
		this.#bus?.clearHistory();
		this.#selectedId = null;
		this.#reload = true;
		this.#schedule();
	}

	// --- Keyboard and resizing ----------------------------------------------

	#onKey = (e) => {
		if (this.#shortcut?.(e)) {
			e.preventDefault();
			this.toggle();
		}
	};

	#startResize(e) {
		const side = this.#prefs.dock;
		const { resizer, root } = this.#ui;
		const setSize = (size) => {
			this.#prefs.size[side] = Math.max(MIN_SIZE, Math.round(size));
			root.style.setProperty('--size', `${this.#size()}px`);
		};
		startResize(e, side, resizer, setSize, () => this.#savePrefs());
	}
}

