// The devtools panel: <kaiwa-devtools>, a framework-free custom element with
// its own shadow DOM and styles, and mountDevtools(bus, options), the
// one-line way to put it on a page. Shipped as the `kaiwa-bus/devtools`
// entry point.
//
// It reads the bus only through its public API, so it works with any
// EventBus and proves that API is enough for a debugger:
//   onRecord                the live feed of history records
//   getEventHistory         the records already kept, on open and resume
//   getPerformanceStats     the statistics table
//   getHandlerCount         who listens to the selected event now
//   getSchema, getSchemaNames   the selected event's schema, the name filter
//   clearHistory            the Clear button
//
// ## Cost
// Collapsed (closed), the panel has no listener on the bus, no timer and no
// frame callback: an emit costs what it costs without the panel. Open, each
// record is queued by the onRecord listener and the list is redrawn at most
// once per animation frame. The list is windowed: a small pool of row
// elements covers the visible part and is refilled in place, so a redraw
// costs the same for 1 new event or 10,000. The panel keeps at most
// `maxRecords` records (default 1000, the bus's default history).
//
// ## Safety
// Event data reaches the DOM only as text (Text nodes, textContent, and
// attribute values): this file never assigns innerHTML, so a payload such as
// `<img src=x onerror=alert(1)>` is shown as those characters.
//
// ## Import in Node
// Importing this module does not touch the DOM. The element class extends
// HTMLElement only where one exists, and the element is registered by
// defineDevtools() or mountDevtools(), which are for browsers.

const TAG = 'kaiwa-devtools';
const EXPORT_FORMAT = 'kaiwa-bus/history';
const EXPORT_VERSION = 1;
const STATUSES = ['delivered', 'failed', 'rejected'];
const STATUS_ICONS = { delivered: '✓', failed: '✗', rejected: '⊘' };
const DOCKS = ['bottom', 'right', 'left'];
const DEFAULT_SIZE = { bottom: 320, right: 600, left: 600 };
const MIN_SIZE = 120;
const ROW_HEIGHT = 22; // px, every row of the event list (see .list in STYLES)
const OVERSCAN = 4; // rows drawn beyond the visible ones
const TREE_CHILDREN_SHOWN = 200; // per object or array in the payload tree
const TREE_MAX_DEPTH = 60;

const DEFAULTS = {
	open: true,
	dock: 'bottom',
	size: undefined,
	maxRecords: 1000,
	shortcut: 'Alt+Shift+K',
	storageKey: 'kaiwa-bus:devtools'
};

// ---------------------------------------------------------------------------
// Small helpers: DOM building, formatting, plain values.

/**
 * Creates an element. `attrs` keys starting with `on` add listeners, `class`
 * sets the class, anything else is an attribute (skipped when null or
 * false). Children are nodes or strings; strings become Text nodes, so they
 * can never be parsed as HTML.
 */
function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [key, value] of Object.entries(attrs)) {
			if (value == null || value === false) continue;
			if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
			else if (key === 'class') el.className = value;
			else el.setAttribute(key, value === true ? '' : String(value));
		}
	}
	for (const child of children.flat()) {
		if (child != null && child !== false) el.append(child);
	}
	return el;
}

/** Sets an element's text, only if it changed (an unchanged write still costs a relayout). */
function setText(el, text) {
	if (el.textContent !== text) el.textContent = text;
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** `14:03:07.123`, local time. */
function formatClock(date) {
	return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** `just now`, `12 s ago`, `3 min ago`, `2 h ago`. */
function formatAgo(ms) {
	if (ms < 1000) return 'just now';
	if (ms < 60_000) return `${Math.floor(ms / 1000)} s ago`;
	if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
	return `${Math.floor(ms / 3_600_000)} h ago`;
}

/** A duration, or '—' for null (the bus did not time that emit, or refused it). */
function formatMs(ms) {
	if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
	return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

/** Why a record has no duration, or null when it has one. */
function durationNote(record) {
	if (record.status === 'rejected') return 'not dispatched';
	if (record.durationMs === null) return "not timed (the bus times a sample of emits; new EventBus({ timing: 'every' }) times them all)";
	return null;
}

function formatDate(date) {
	return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

/** The names a list of event names implies for the domain filter: 'auth.*', 'auth.user.*'. */
function domainsOf(names) {
	const out = new Set();
	for (const name of names) {
		const parts = name.split('.');
		for (let i = 1; i < parts.length; i++) out.add(`${parts.slice(0, i).join('.')}.*`);
	}
	return [...out].sort();
}

const byId = (a, b) => a.id - b.id;

/** The index of the record with this id in a list sorted by id, or -1. */
function indexOfId(records, id) {
	let lo = 0;
	let hi = records.length - 1;
	while (lo <= hi) {
		const mid = (lo + hi) >> 1;
		const at = records[mid].id;
		if (at === id) return mid;
		if (at < id) lo = mid + 1;
		else hi = mid - 1;
	}
	return -1;
}

/**
 * A JSON-safe copy of any value, for export and for the free-text search:
 * Dates become ISO strings (as JSON.stringify does), BigInts strings,
 * Maps and Sets arrays, a cycle the string '[Circular]', and what JSON drops
 * (functions, symbols, undefined) is dropped the same way.
 */
function toPlain(value, ancestors = []) {
	if (value === null || typeof value !== 'object') {
		if (typeof value === 'bigint') return `${value}n`;
		if (typeof value === 'number' && !Number.isFinite(value)) return null;
		return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
	}
	if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
	if (ancestors.includes(value)) return '[Circular]';
	if (ancestors.length >= TREE_MAX_DEPTH) return '[Too deep]';
	const inner = [...ancestors, value];
	if (Array.isArray(value) || value instanceof Set) {
		return Array.from(value, (item) => toPlain(item, inner) ?? null);
	}
	if (value instanceof Map) {
		return Array.from(value, ([k, v]) => [toPlain(k, inner) ?? null, toPlain(v, inner) ?? null]);
	}
	if (value instanceof Error) return `${value.name}: ${value.message}`;
	const out = {};
	for (const key of Object.keys(value)) {
		let item;
		try {
			item = value[key];
		} catch (error) {
			item = `[getter threw: ${error?.message ?? error}]`;
		}
		const plain = toPlain(item, inner);
		if (plain !== undefined) out[key] = plain;
	}
	return out;
}

// ---------------------------------------------------------------------------
// Export and import of the history.

/** One record as it is exported: the record with its timestamp as an ISO string. */
function plainRecord(record) {
	return {
		id: record.id,
		name: record.name,
		payload: toPlain(record.payload) ?? null,
		timestamp: formatDate(record.timestamp),
		status: record.status,
		handlerCount: record.handlerCount,
		durationMs: record.durationMs ?? null,
		errors: [...record.errors],
		issues: record.issues.map(({ path, expected, received }) => ({ path, expected, received }))
	};
}

/** The exported document: `{ format, version, exportedAt, records }`. */
function historyDocument(records) {
	return { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: new Date().toISOString(), records: records.map(plainRecord) };
}

/**
 * Reads an exported document back (or a bare array of records, as
 * `JSON.stringify(bus.getEventHistory())` gives) into records with Date
 * timestamps. Throws an Error that says what is wrong.
 */
function readHistoryDocument(text) {
	let doc;
	try {
		doc = JSON.parse(text);
	} catch (error) {
		throw new Error(`not JSON (${error.message})`);
	}
	let list = doc;
	if (!Array.isArray(doc)) {
		if (doc === null || typeof doc !== 'object' || doc.format !== EXPORT_FORMAT) {
			throw new Error(`not a kaiwa-bus history export (expected "format": "${EXPORT_FORMAT}")`);
		}
		if (doc.version !== EXPORT_VERSION) throw new Error(`unsupported export version ${JSON.stringify(doc.version)}`);
		list = doc.records;
		if (!Array.isArray(list)) throw new Error('"records" must be an array');
	}
	const isText = (v) => typeof v === 'string';
	return list.map((r, i) => {
		const where = `record ${i + 1}`;
		if (r === null || typeof r !== 'object') throw new Error(`${where} is not an object`);
		if (!Number.isFinite(r.id)) throw new Error(`${where}: "id" must be a number`);
		if (!isText(r.name)) throw new Error(`${where}: "name" must be a string`);
		if (!STATUSES.includes(r.status)) throw new Error(`${where}: "status" must be one of ${STATUSES.join(', ')}`);
		const timestamp = new Date(r.timestamp);
		if (!isText(r.timestamp) || Number.isNaN(timestamp.getTime())) throw new Error(`${where}: "timestamp" must be an ISO date`);
		const errors = r.errors ?? [];
		const issues = r.issues ?? [];
		const durationMs = r.durationMs ?? null;
		if (durationMs !== null && !Number.isFinite(durationMs)) throw new Error(`${where}: "durationMs" must be a number or null`);
		if (!Array.isArray(errors) || !errors.every(isText)) throw new Error(`${where}: "errors" must be an array of strings`);
		if (!Array.isArray(issues) || !issues.every((x) => x && isText(x.path) && isText(x.expected) && isText(x.received))) {
			throw new Error(`${where}: "issues" must be an array of { path, expected, received }`);
		}
		return {
			id: r.id,
			name: r.name,
			payload: r.payload ?? null,
			timestamp,
			status: r.status,
			handlerCount: Number(r.handlerCount) || 0,
			durationMs,
			errors,
			issues
		};
	});
}

/**
 * The statistics of a list of records, shaped as getPerformanceStats() gives
 * them for a live bus: dispatches counted, durations over the timed ones.
 */
function statsOf(records) {
	const out = {};
	for (const r of records) {
		if (r.status === 'rejected') continue; // never dispatched
		const s = (out[r.name] ??= { count: 0, timedCount: 0, averageDuration: null, minDuration: null, maxDuration: null, total: 0 });
		s.count++;
		if (r.durationMs === null) continue;
		s.timedCount++;
		s.total += r.durationMs;
		s.minDuration = Math.min(s.minDuration ?? Infinity, r.durationMs);
		s.maxDuration = Math.max(s.maxDuration ?? -Infinity, r.durationMs);
		s.averageDuration = s.total / s.timedCount;
	}
	return out;
}

// ---------------------------------------------------------------------------
// Filters.

/** The payload's `userId`, or undefined (a throwing getter counts as none). */
function userIdOf(payload) {
	try {
		return payload !== null && typeof payload === 'object' && 'userId' in payload ? payload.userId : undefined;
	} catch {
		return undefined;
	}
}

/** The rule of bus.getEventFlow(userId): the payload's own `userId` equals it. */
function hasUser(payload, userId) {
	return userIdOf(payload) === userId;
}

const searchText = new WeakMap(); // record -> its lower-cased searchable text, built on first search

function textOf(record) {
	let text = searchText.get(record);
	if (text === undefined) {
		const parts = [record.name, JSON.stringify(toPlain(record.payload)) ?? '', ...record.errors];
		for (const issue of record.issues) parts.push(issue.path, issue.expected, issue.received);
		text = parts.join('\n').toLowerCase();
		searchText.set(record, text);
	}
	return text;
}

/** A predicate for `{ domain: 'auth.*' | '', name, text, user }`; empty fields match everything. */
function compileFilter({ domain, name, text, user }) {
	const prefix = domain ? domain.slice(0, -1) : ''; // 'auth.*' -> 'auth.'
	const needle = text.trim().toLowerCase();
	const userId = user.trim();
	return (record) =>
		(!prefix || record.name.startsWith(prefix)) &&
		(!name || record.name === name) &&
		(!userId || hasUser(record.payload, userId)) &&
		(!needle || textOf(record).includes(needle));
}

// ---------------------------------------------------------------------------
// The payload tree: objects and arrays are <details>, built when first opened.

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

function entriesOf(value) {
	if (value instanceof Map) return Array.from(value, ([k, v]) => [String(k), () => v]);
	if (value instanceof Set) return Array.from(value, (v, i) => [String(i), () => v]);
	return Object.keys(value).map((key) => [key, () => value[key]]);
}

function treeNode(key, value, depth, ancestors) {
	const label = key === null ? [] : [h('span', { class: 'key' }, key), ': '];
	const leaf = leafOf(value);
	if (leaf) return h('div', { class: 'leaf' }, label, h('span', { class: `v-${leaf[0]}` }, leaf[1]));
	if (ancestors.includes(value)) return h('div', { class: 'leaf' }, label, h('span', { class: 'v-other' }, '[Circular]'));
	const details = h('details', { class: 'branch' }, h('summary', null, label, h('span', { class: 'preview' }, typeLabel(value))));
	const build = () => {
		const entries = entriesOf(value);
		const inner = [...ancestors, value];
		for (const [childKey, read] of entries.slice(0, TREE_CHILDREN_SHOWN)) {
			let child;
			try {
				child = read();
			} catch (error) {
				child = `[getter threw: ${error?.message ?? error}]`;
			}
			details.append(depth >= TREE_MAX_DEPTH ? h('div', { class: 'leaf' }, '…') : treeNode(childKey, child, depth + 1, inner));
		}
		if (entries.length > TREE_CHILDREN_SHOWN) details.append(h('div', { class: 'leaf more' }, `… ${entries.length - TREE_CHILDREN_SHOWN} more`));
	};
	if (depth < 1) {
		details.open = true;
		build();
	} else {
		details.addEventListener('toggle', build, { once: true });
	}
	return details;
}

// ---------------------------------------------------------------------------
// Preferences in localStorage, and the keyboard shortcut.

function loadPrefs(key) {
	if (!key) return {};
	try {
		const prefs = JSON.parse(globalThis.localStorage?.getItem(key) ?? '{}');
		return prefs !== null && typeof prefs === 'object' ? prefs : {};
	} catch {
		return {}; // storage disabled, or not ours
	}
}

function savePrefs(key, prefs) {
	if (!key) return;
	try {
		globalThis.localStorage?.setItem(key, JSON.stringify(prefs));
	} catch {
		// Storage full or disabled: the panel works, it just won't remember.
	}
}

/** 'Alt+Shift+K' -> a matcher of keydown events, or null for false/''. */
function parseShortcut(text) {
	if (!text) return null;
	const parts = String(text).split('+').map((p) => p.trim().toLowerCase());
	const key = parts.pop();
	const mods = { ctrl: false, alt: false, shift: false, meta: false };
	for (const p of parts) {
		if (!(p in mods)) throw new TypeError(`kaiwa-bus devtools: unknown modifier ${JSON.stringify(p)} in shortcut ${JSON.stringify(text)}`);
		mods[p] = true;
	}
	// Letters and digits match by physical key, so Alt+Shift+K works on a Mac too.
	const code = /^[a-z]$/.test(key) ? `Key${key.toUpperCase()}` : /^[0-9]$/.test(key) ? `Digit${key}` : null;
	return (e) =>
		e.ctrlKey === mods.ctrl &&
		e.altKey === mods.alt &&
		e.shiftKey === mods.shift &&
		e.metaKey === mods.meta &&
		(code ? e.code === code : e.key.toLowerCase() === key);
}

// ---------------------------------------------------------------------------
// Styles.

const STYLES = `
:host { all: initial; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.root {
	--bg: #0f1419; --bg2: #171d24; --bg3: #1f2730; --line: #2d3742; --fg: #d7dde4; --dim: #8a96a3;
	--accent: #6cb6ff; --ok: #3fb950; --fail: #ff6b61; --reject: #e3b341;
	font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace;
	color: var(--fg);
}
button, select, input { font: inherit; color: inherit; }
button {
	background: var(--bg3); border: 1px solid var(--line); border-radius: 4px; padding: 2px 8px; cursor: pointer;
}
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: 0.45; cursor: default; }
button[aria-pressed='true'] { background: #3a2f12; border-color: var(--reject); }
select, input { background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 2px 6px; min-width: 0; }
select { max-width: 12em; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }

.launcher {
	position: fixed; right: 12px; bottom: 12px; z-index: 2147483000;
	background: var(--bg); color: var(--fg); border: 1px solid var(--accent); border-radius: 16px; padding: 6px 12px;
	box-shadow: 0 2px 10px rgb(0 0 0 / 0.35);
}
.panel {
	position: fixed; z-index: 2147483000; display: flex; flex-direction: column; background: var(--bg);
	box-shadow: 0 0 16px rgb(0 0 0 / 0.4);
}
.open .launcher, .root:not(.open) .panel { display: none; }
.dock-bottom .panel { left: 0; right: 0; bottom: 0; height: var(--size); border-top: 1px solid var(--line); }
.dock-right .panel { top: 0; right: 0; bottom: 0; width: var(--size); border-left: 1px solid var(--line); }
.dock-left .panel { top: 0; left: 0; bottom: 0; width: var(--size); border-right: 1px solid var(--line); }
.resizer { position: absolute; z-index: 1; }
.dock-bottom .resizer { top: -3px; left: 0; right: 0; height: 6px; cursor: ns-resize; }
.dock-right .resizer { left: -3px; top: 0; bottom: 0; width: 6px; cursor: ew-resize; }
.dock-left .resizer { right: -3px; top: 0; bottom: 0; width: 6px; cursor: ew-resize; }

.toolbar { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; padding: 6px 8px; background: var(--bg2); border-bottom: 1px solid var(--line); }
.title { font-weight: bold; color: var(--accent); margin-right: 4px; }
.tabs { display: flex; gap: 2px; }
.tabs button[aria-selected='true'] { background: var(--accent); color: #0b1016; border-color: var(--accent); }
.filters, .actions { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.filters input[type='search'] { width: 11em; }
.filters input.user { width: 8em; }
.actions { margin-left: auto; }
.banner { padding: 4px 8px; background: #13263a; border-bottom: 1px solid var(--line); display: flex; gap: 8px; align-items: center; }
.banner.error { background: #3a1515; }

.body { flex: 1; min-height: 0; display: flex; }
.view { flex: 1; min-width: 0; min-height: 0; }
.events { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); }
.dock-right .events, .dock-left .events { grid-template-columns: minmax(0, 1fr); grid-template-rows: minmax(0, 1fr) minmax(0, 1fr); }
.list { overflow: auto; border-right: 1px solid var(--line); outline: none; contain: strict; }
.dock-right .list, .dock-left .list { border-right: 0; border-bottom: 1px solid var(--line); }
.detail, .stats { overflow: auto; padding: 8px 10px; }

table { border-collapse: collapse; width: 100%; }
th { position: sticky; top: 0; background: var(--bg2); color: var(--dim); font-weight: normal; text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); }
td { padding: 2px 6px; border-bottom: 1px solid var(--bg3); vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
/* The event list is windowed (see #renderRows): every row is ROW_HEIGHT
   (22px) tall, and contained, so refilling one lays out that row only. */
.list .row { display: grid; grid-template-columns: 9em 6.5em minmax(0, 1fr) 8.5em 6em 7em; height: 22px; align-items: center; }
/* Side docks are narrow: no Age column there (the detail shows it). */
.dock-right .list .row, .dock-left .list .row { grid-template-columns: 9em minmax(0, 1fr) 8.5em 6em 7em; }
.dock-right .list .ago, .dock-left .list .ago { display: none; }
.list .row > * { padding: 0 6px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.list .head { position: sticky; top: 0; z-index: 1; background: var(--bg2); color: var(--dim); border-bottom: 1px solid var(--line); box-sizing: content-box; }
.spacer { position: relative; }
.window { position: absolute; top: 0; left: 0; right: 0; }
.window .row { position: absolute; top: 0; left: 0; right: 0; border-bottom: 1px solid var(--bg3); cursor: pointer; contain: strict; }
.window .row:hover { background: var(--bg2); }
.window .row[aria-selected='true'] { background: #19324d; }
.row[data-status='failed'] { box-shadow: inset 3px 0 var(--fail); }
.row[data-status='rejected'] { box-shadow: inset 3px 0 var(--reject); }
.num { text-align: right; }
.ago { color: var(--dim); font-size: 11px; }
.name { word-break: break-all; }
.status { white-space: nowrap; font-weight: bold; }
.status-delivered { color: var(--ok); }
.status-failed { color: var(--fail); }
.status-rejected { color: var(--reject); }
.empty, .note { color: var(--dim); padding: 8px; margin: 0; }

.detail h3 { margin: 0 0 6px; font-size: 13px; display: flex; gap: 8px; flex-wrap: wrap; align-items: baseline; }
.detail h4 { margin: 12px 0 4px; font-size: 12px; color: var(--dim); text-transform: uppercase; letter-spacing: 0.04em; }
.detail dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0; }
.detail dt { color: var(--dim); }
.detail dd { margin: 0; word-break: break-all; }
.detail ul { margin: 0; padding-left: 18px; }
.detail li { white-space: pre-wrap; word-break: break-word; color: var(--fail); }
.issues td { color: var(--reject); }
.placeholder { color: var(--dim); }

.tree { white-space: pre-wrap; word-break: break-word; }
.tree details > :not(summary) { margin-left: 16px; }
.tree summary { cursor: pointer; }
.key { color: #d2a8ff; }
.preview { color: var(--dim); }
.v-string { color: #a5d6ff; }
.v-number { color: #79c0ff; }
.v-boolean { color: #ff7b72; }
.v-null, .v-other { color: var(--dim); }
.v-date { color: #7ee787; }

.stats tbody tr { cursor: pointer; }
.stats tbody tr:hover { background: var(--bg2); }
.footer { padding: 3px 8px; color: var(--dim); background: var(--bg2); border-top: 1px solid var(--line); display: flex; gap: 12px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;

// ---------------------------------------------------------------------------
// The element.

// In Node (SSR) there is no HTMLElement: the class then extends a stand-in
// and is never registered.
const Base = globalThis.HTMLElement ?? class {};

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
	#filter = { domain: '', name: '', text: '', user: '' };
	#matches = compileFilter(this.#filter);

	// The records shown, oldest first, and what the live feed has queued.
	#records = [];
	#matching = []; // the records that pass the filter, oldest first
	#queue = [];
	#rebuild = false; // re-filter the list at the next frame
	#reload = true; // re-read the records (the bus history, or the imported file) at the next frame
	#selectedId = null;
	#names = new Set(); // event names seen or with a schema, for the filter menus
	#users = new Set(); // userIds seen, for the user filter's suggestions
	#menusDirty = true;

	// Live resources, held only while open and live.
	#unsubscribe = null;
	#frame = 0;
	#ticker = 0;

	// DOM.
	#ui = null;
	#pool = []; // { el, cells..., record } rows, reused: only the visible part of the list exists
	#view = { top: 0, height: 0 }; // the list's scroll position and height, kept by events so a redraw never reads layout
	#scrollShift = 0; // px to scroll down at the next redraw, to keep older rows in view under new ones

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
		this.#names.clear();
		this.#users.clear();
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
	 * while connected, open, live and not paused; the clock only while open.
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
		if (open) {
			if (!this.#ticker) {
				this.#ticker = setInterval(this.#tick, 1000);
				this.#ui.resizes.observe(this.#ui.list);
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
		this.#ui.resizes.disconnect();
		if (this.#frame) cancelAnimationFrame(this.#frame);
		this.#frame = 0;
		this.#records = [];
		this.#queue = [];
		this.#reload = true;
		this.#clearRows();
	}

	// The live feed: queue, and draw at the next frame.
	#onRecord = (record, change) => {
		if (change === 'cleared') {
			this.#queue = [];
			this.#records = [];
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
		this.#view.top = this.#ui.list.scrollTop; // a hidden list forgets its scroll position
		const source = this.#imported ? this.#imported.records : (this.#bus?.getEventHistory() ?? []);
		this.#records = source.slice(-this.#settings.maxRecords);
		for (const name of this.#bus?.getSchemaNames() ?? []) this.#names.add(name);
		for (const record of this.#records) this.#learn(record);
		this.#rebuild = true;
	}

	// Notes a record's name and userId for the filter menus.
	#learn(record) {
		if (!this.#names.has(record.name)) {
			this.#names.add(record.name);
			this.#menusDirty = true;
		}
		const userId = userIdOf(record.payload);
		if (typeof userId === 'string' && !this.#users.has(userId)) {
			this.#users.add(userId);
			this.#menusDirty = true;
		}
	}

	// A record 'updated': a handler's promise rejected after the emit.
	#replace(at, record) {
		searchText.delete(this.#records[at]);
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
			this.#learn(record);
		}
		if (!inOrder) {
			records.sort(byId);
			this.#rebuild = true;
		}
		const excess = records.length - this.#settings.maxRecords;
		if (excess > 0) {
			records.splice(0, excess);
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
		// Scrolled down to older events: keep them where they are.
		if (this.#view.top > 0) this.#scrollShift += fresh * ROW_HEIGHT;
	}

	#refilter() {
		this.#rebuild = false;
		this.#matching = this.#records.filter(this.#matches);
		if (this.#selectedId !== null && indexOfId(this.#records, this.#selectedId) < 0) this.#selectedId = null;
		this.#renderDetail();
	}

	// --- Rendering ----------------------------------------------------------

	#build() {
		const shadow = this.attachShadow({ mode: 'open' });
		const ui = {};
		const tabButton = (tab, text) =>
			h('button', { role: 'tab', 'data-tab': tab, onclick: () => this.#showTab(tab) }, text);
		const filter = (key, el) => {
			el.dataset.filter = key;
			el.addEventListener('input', () => this.#setFilter(key, el.value));
			return el;
		};
		const action = (name, text, onclick, title) => h('button', { 'data-action': name, title, onclick }, text);

		ui.domain = filter('domain', h('select', { 'aria-label': 'Filter by domain' }));
		ui.name = filter('name', h('select', { 'aria-label': 'Filter by event name' }));
		ui.text = filter('text', h('input', { type: 'search', placeholder: 'Search payloads…', 'aria-label': 'Free-text search' }));
		ui.users = h('datalist', { id: 'kd-users' });
		ui.user = filter('user', h('input', { class: 'user', placeholder: 'userId', list: 'kd-users', 'aria-label': 'Filter by user (getEventFlow)' }));
		ui.pause = action('pause', 'Pause', () => (this.paused = !this.#paused), 'Stop following the bus; Resume catches up');
		ui.clear = action('clear', 'Clear', () => this.#clear(), "Clear the bus's history and statistics (bus.clearHistory())");
		ui.exportButton = action('export', 'Export', () => this.#download(), 'Save the history as JSON');
		ui.file = h('input', { type: 'file', accept: 'application/json,.json', class: 'sr-only', tabindex: '-1', 'aria-hidden': 'true' });
		ui.file.addEventListener('change', () => this.#readFile());
		ui.importButton = action('import', 'Import', () => ui.file.click(), 'Open an exported history, read-only');
		ui.dock = h(
			'select',
			{ 'data-action': 'dock', 'aria-label': 'Dock to', onchange: () => (this.dock = ui.dock.value) },
			DOCKS.map((d) => h('option', { value: d }, `dock ${d}`))
		);
		ui.collapse = action('collapse', '✕', () => this.close(), 'Collapse the panel');
		ui.launcher = h('button', { class: 'launcher', part: 'launcher', onclick: () => this.open() }, '⚡ kaiwa-bus');

		ui.bannerText = h('span');
		ui.bannerButton = action('live', 'Back to live', () => this.#leaveImport());
		ui.banner = h('div', { class: 'banner', role: 'status', hidden: true }, ui.bannerText, ui.bannerButton);

		// The list: a header, then a spacer as tall as every matching row, in
		// which the pooled rows of the visible part are placed (#renderRows).
		ui.window = h('div', { class: 'window', role: 'rowgroup' });
		ui.spacer = h('div', { class: 'spacer' }, ui.window);
		ui.empty = h('p', { class: 'empty' }, 'No events yet.');
		const column = (text, cls) => h('span', { role: 'columnheader', class: cls }, text);
		ui.list = h(
			'div',
			{ class: 'list', role: 'grid', tabindex: '0', 'aria-label': 'Events, newest first', 'aria-rowcount': '1', onkeydown: (e) => this.#onListKey(e) },
			h(
				'div',
				{ class: 'row head', role: 'row' },
				column('Time'),
				column('Age', 'ago'),
				column('Event'),
				column('Status'),
				column('Handlers', 'num'),
				column('Duration', 'num')
			),
			ui.spacer,
			ui.empty
		);
		ui.list.addEventListener('click', (e) => {
			const row = e.target.closest('.row[data-id]');
			if (row) this.#select(Number(row.dataset.id));
		});
		ui.list.addEventListener(
			'scroll',
			() => {
				this.#view.top = ui.list.scrollTop;
				this.#schedule();
			},
			{ passive: true }
		);
		// Observed only while open (#sync).
		ui.resizes = new ResizeObserver(([entry]) => {
			this.#view.height = entry.contentRect.height;
			this.#schedule();
		});
		ui.detail = h('div', { class: 'detail', 'aria-live': 'polite' });
		ui.events = h('div', { class: 'view events', role: 'tabpanel' }, ui.list, ui.detail);
		ui.statsBody = h('tbody');
		ui.statsNote = h('p', { class: 'note' });
		ui.stats = h(
			'div',
			{ class: 'view stats', role: 'tabpanel', hidden: true },
			h(
				'table',
				null,
				h(
					'thead',
					null,
					h(
						'tr',
						null,
						h('th', null, 'Event'),
						h('th', { class: 'num' }, 'Count'),
						h('th', { class: 'num', title: 'Dispatches timed: the durations are over these' }, 'Timed'),
						h('th', { class: 'num' }, 'Average'),
						h('th', { class: 'num' }, 'Min'),
						h('th', { class: 'num' }, 'Max')
					)
				),
				ui.statsBody
			),
			ui.statsNote
		);
		ui.statsBody.addEventListener('click', (e) => {
			const tr = e.target.closest('tr[data-name]');
			if (!tr) return;
			this.#setFilter('name', tr.dataset.name);
			this.#showTab('events');
		});
		ui.footerCount = h('span');
		ui.footerState = h('span');
		ui.resizer = h('div', { class: 'resizer', 'aria-hidden': 'true' });
		ui.resizer.addEventListener('pointerdown', (e) => this.#startResize(e));
		ui.tabs = h('div', { class: 'tabs', role: 'tablist' }, tabButton('events', 'Events'), tabButton('stats', 'Statistics'));

		ui.panel = h(
			'section',
			{ class: 'panel', part: 'panel', 'aria-label': 'kaiwa-bus devtools' },
			ui.resizer,
			h(
				'header',
				{ class: 'toolbar' },
				h('span', { class: 'title' }, 'kaiwa-bus'),
				ui.tabs,
				h('span', { class: 'filters' }, ui.domain, ui.name, ui.text, ui.user, ui.users),
				h('span', { class: 'actions' }, ui.pause, ui.clear, ui.exportButton, ui.importButton, ui.dock, ui.collapse)
			),
			ui.banner,
			h('div', { class: 'body' }, ui.events, ui.stats),
			h('footer', { class: 'footer' }, ui.footerCount, ui.footerState)
		);
		ui.root = h('div', { class: 'root' }, ui.launcher, ui.panel, ui.file);
		shadow.append(h('style', null, STYLES), ui.root);
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

	// The visible part of the list. Each pooled row shows one record and is
	// placed with a transform: a new event fills one row and moves the
	// others, whose text is not touched. Reads no layout (the view is kept by
	// scroll and resize events), so it forces no reflow of the page.
	#renderRows() {
		const { list, spacer, empty } = this.#ui;
		const matching = this.#matching;
		const n = matching.length;
		spacer.style.height = `${n * ROW_HEIGHT}px`;
		list.setAttribute('aria-rowcount', String(n + 1));
		if (this.#scrollShift) {
			list.scrollTop = this.#view.top + this.#scrollShift;
			this.#view.top = list.scrollTop;
			this.#scrollShift = 0;
		}
		const first = Math.max(0, Math.min(Math.floor(this.#view.top / ROW_HEIGHT), n - 1));
		const count = Math.max(0, Math.min(n - first, Math.ceil(this.#view.height / ROW_HEIGHT) + OVERSCAN));
		const wanted = new Map(); // record -> rows from the top
		for (let i = 0; i < count; i++) wanted.set(matching[n - 1 - first - i], first + i); // newest first
		const free = [];
		for (const row of this.#pool) {
			if (row.record !== null && wanted.has(row.record)) {
				this.#place(row, wanted.get(row.record));
				wanted.delete(row.record);
			} else {
				free.push(row);
			}
		}
		for (const [record, fromTop] of wanted) {
			const row = free.pop() ?? this.#newRow();
			this.#fill(row, record);
			this.#place(row, fromTop);
		}
		for (const row of free) {
			row.el.hidden = true;
			row.record = null;
		}
		const text = this.#records.length ? 'No events match the filters.' : 'No events yet.';
		empty.hidden = n > 0;
		setText(empty, text);
	}

	#newRow() {
		const cell = (cls) => h('span', { role: 'gridcell', class: cls });
		const row = {
			clock: cell('time'),
			ago: cell('ago'),
			name: cell('name'),
			status: cell('status'),
			handlers: cell('num handlers'),
			duration: cell('num duration'),
			record: null,
			top: -1,
			selected: null,
			time: 0
		};
		row.el = h('div', { class: 'row', role: 'row' }, row.clock, row.ago, row.name, row.status, row.handlers, row.duration);
		this.#pool.push(row);
		this.#ui.window.append(row.el);
		return row;
	}

	#place(row, fromTop) {
		row.el.hidden = false;
		if (row.top !== fromTop) {
			row.top = fromTop;
			row.el.style.transform = `translateY(${fromTop * ROW_HEIGHT}px)`;
			row.el.setAttribute('aria-rowindex', String(fromTop + 2));
		}
		const selected = row.record.id === this.#selectedId;
		if (row.selected !== selected) {
			row.selected = selected;
			row.el.setAttribute('aria-selected', String(selected));
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
		row.name.textContent = record.name;
		row.name.title = record.name;
		row.status.className = `status status-${record.status}`;
		row.status.textContent = `${STATUS_ICONS[record.status]} ${record.status}`;
		row.handlers.textContent = String(record.handlerCount);
		row.duration.textContent = formatMs(record.durationMs);
		const note = durationNote(record);
		if (note) row.duration.title = note;
		else row.duration.removeAttribute('title');
	}

	// Closed: the rows let go of their records.
	#clearRows() {
		for (const row of this.#pool) {
			row.el.hidden = true;
			row.record = null;
		}
		this.#matching = [];
	}

	// Relative times of the visible rows, once a second while open.
	#tick = () => {
		if (globalThis.document?.hidden) return;
		const now = Date.now();
		for (const row of this.#pool) {
			if (!row.record) continue;
			setText(row.ago, formatAgo(now - row.time));
		}
	};

	// The filter menus: event names with a schema or seen, their domains, users seen.
	#renderMenus() {
		this.#menusDirty = false;
		const ui = this.#ui;
		const names = [...this.#names].sort();
		const fill = (select, values, all) => {
			const current = select.value;
			const wanted = ['', ...values];
			const have = [...select.options].map((o) => o.value);
			if (have.length === wanted.length && have.every((v, i) => v === wanted[i])) return;
			select.replaceChildren(...wanted.map((v) => h('option', { value: v }, v || all)));
			select.value = wanted.includes(current) ? current : '';
		};
		fill(ui.domain, domainsOf(names), 'all domains');
		fill(ui.name, names, 'all events');
		ui.users.replaceChildren(...[...this.#users].sort().map((u) => h('option', { value: u })));
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
		const rows = Object.entries(stats).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
		ui.statsBody.replaceChildren(
			...rows.map(([name, s]) =>
				h(
					'tr',
					{ 'data-name': name, title: 'Show these events' },
					h('td', { class: 'name' }, name),
					h('td', { class: 'num' }, String(s.count)),
					h('td', { class: 'num' }, String(s.timedCount)),
					h('td', { class: 'num' }, formatMs(s.averageDuration)),
					h('td', { class: 'num' }, formatMs(s.minDuration)),
					h('td', { class: 'num' }, formatMs(s.maxDuration))
				)
			)
		);
		ui.statsNote.textContent = rows.length
			? `Delivered and failed events${this.#imported ? ' in the imported file' : ' since the bus started or its history was last cleared'}; ` +
				"rejected ones are never dispatched. Durations are over the timed dispatches: by default the bus times a sample (its 'timing' option)."
			: 'No event dispatched yet.';
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
		const matching = this.#matching;
		if (!matching.length) return;
		const at = indexOfId(matching, this.#selectedId);
		// The list is newest first: down is an older record, a lower index.
		const next = at < 0 ? matching.length - 1 : e.key === 'ArrowDown' ? at - 1 : at + 1;
		if (next < 0 || next >= matching.length) return;
		const fromTop = matching.length - 1 - next;
		const { list } = this.#ui;
		const visible = this.#view.height - ROW_HEIGHT; // under the sticky header
		if (fromTop * ROW_HEIGHT < this.#view.top) list.scrollTop = fromTop * ROW_HEIGHT;
		else if ((fromTop + 1) * ROW_HEIGHT > this.#view.top + visible) list.scrollTop = (fromTop + 1) * ROW_HEIGHT - visible;
		this.#view.top = list.scrollTop;
		this.#select(matching[next].id);
	}

	#renderDetail() {
		const { detail } = this.#ui;
		const at = this.#selectedId === null ? -1 : indexOfId(this.#records, this.#selectedId);
		if (at < 0) {
			detail.replaceChildren(h('p', { class: 'placeholder' }, 'Select an event to see its payload, schema and errors.'));
			return;
		}
		const r = this.#records[at];
		const sections = [
			h('h3', null, h('span', { class: 'name' }, r.name), h('span', { class: `status status-${r.status}` }, `${STATUS_ICONS[r.status]} ${r.status}`), h('span', { class: 'placeholder' }, `#${r.id}`)),
			h(
				'dl',
				null,
				h('dt', null, 'Time'),
				h('dd', null, `${formatDate(r.timestamp)} (${formatAgo(Date.now() - r.timestamp.getTime())})`),
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
					h('tbody', null, r.issues.map((i) => h('tr', null, h('td', null, i.path || '(payload)'), h('td', null, i.expected), h('td', null, i.received))))
				)
			);
		}
		if (r.errors.length) {
			sections.push(h('h4', null, r.status === 'rejected' ? 'Refused' : 'Handler errors'), h('ul', { class: 'errors' }, r.errors.map((e) => h('li', null, e))));
		}
		sections.push(h('h4', null, 'Payload'), h('div', { class: 'tree payload' }, treeNode(null, r.payload, 0, [])));
		sections.push(...this.#schemaSection(r.name));
		detail.replaceChildren(...sections);
	}

	#schemaSection(name) {
		const bus = this.#bus;
		const schema = bus?.getSchema(name);
		const out = [h('h4', null, 'Schema')];
		if (!schema) {
			out.push(h('p', { class: 'placeholder' }, bus ? 'No schema registered: an unknown event.' : 'No bus.'));
		} else {
			out.push(
				h('p', { class: 'schema-head' }, `${schema.name} v${schema.version}`, schema.description ? ` — ${schema.description}` : ''),
				h(
					'table',
					{ class: 'schema' },
					h('thead', null, h('tr', null, h('th', null, 'Field'), h('th', null, 'Type'))),
					h('tbody', null, Object.entries(schema.payload).map(([field, type]) => h('tr', null, h('td', null, field), h('td', null, type))))
				)
			);
		}
		if (bus) {
			// Every pattern that would receive this event: the name, each domain, '*'.
			const patterns = [name, ...domainsOf([name]).reverse(), '*'];
			out.push(
				h('h4', null, 'Subscribed now'),
				h('dl', { class: 'subscribers' }, patterns.flatMap((p) => [h('dt', null, p), h('dd', null, String(bus.getHandlerCount(p)))]))
			);
		}
		return out;
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
		e.preventDefault();
		const side = this.#prefs.dock;
		const { resizer, root } = this.#ui;
		resizer.setPointerCapture(e.pointerId);
		const move = (m) => {
			const size = side === 'bottom' ? globalThis.innerHeight - m.clientY : side === 'right' ? globalThis.innerWidth - m.clientX : m.clientX;
			this.#prefs.size[side] = Math.max(MIN_SIZE, Math.round(size));
			root.style.setProperty('--size', `${this.#size()}px`);
		};
		const end = () => {
			resizer.removeEventListener('pointermove', move);
			resizer.removeEventListener('pointerup', end);
			resizer.removeEventListener('pointercancel', end);
			this.#savePrefs();
		};
		resizer.addEventListener('pointermove', move);
		resizer.addEventListener('pointerup', end);
		resizer.addEventListener('pointercancel', end);
	}
}

/**
 * Registers `<kaiwa-devtools>` (once; later calls return the same class).
 * Browsers only.
 */
export function defineDevtools() {
	const registry = globalThis.customElements;
	if (!registry) throw new Error('kaiwa-bus devtools: custom elements need a browser (call this in the browser only, e.g. in onMount)');
	const existing = registry.get(TAG);
	if (existing) return existing;
	registry.define(TAG, KaiwaDevtools);
	return KaiwaDevtools;
}

/**
 * Puts a devtools panel for `bus` on the page (in `options.container`, by
 * default document.body) and returns the element; `element.remove()` takes
 * it away and stops it. Browsers only.
 */
export function mountDevtools(bus, options = {}) {
	defineDevtools();
	const { container = globalThis.document.body, ...settings } = options ?? {};
	const element = globalThis.document.createElement(TAG);
	element.configure(settings);
	element.bus = bus;
	container.append(element);
	return element;
}
