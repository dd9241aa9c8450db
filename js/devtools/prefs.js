// The panel's settings (configure()'s options), its remembered preferences
// (open, dock, size per dock) in localStorage, the size its dock gets, and
// its keyboard shortcut.

import { DOCKS } from './chrome.js';

const DEFAULT_SIZE = { bottom: 320, right: 600, left: 600 };
const MIN_SIZE = 120;

const DEFAULTS = {
	open: true,
	dock: 'bottom',
	size: undefined,
	maxRecords: 1000,
	shortcut: 'Alt+Shift+K',
	storageKey: 'kaiwa-bus:devtools'
};

/**
 * The element's settings: `values` (the options given, over the defaults),
 * `prefs` (what the user chose last: open, dock, size per dock; remembered
 * choices win over the options) and `shortcut` (a matcher, or null).
 */
export class Settings {
	values = { ...DEFAULTS };
	/** @type {{ open: boolean, dock: import('./index.js').DevtoolsDock, size: Partial<Record<import('./index.js').DevtoolsDock, number>> }} */
	prefs = { open: DEFAULTS.open, dock: /** @type {import('./index.js').DevtoolsDock} */ (DEFAULTS.dock), size: {} };
	shortcut = parseShortcut(DEFAULTS.shortcut);

	/** Applies options (see DevtoolsOptions); throws, changing nothing, on a bad one. */
	configure(options = {}) {
		if (options === null || typeof options !== 'object') throw new TypeError('kaiwa-bus devtools: options must be an object');
		const s = { ...this.values, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
		if (!DOCKS.includes(s.dock))
			throw new TypeError(`kaiwa-bus devtools: dock must be one of ${DOCKS.join(', ')}, got ${JSON.stringify(s.dock)}`);
		if (!Number.isInteger(s.maxRecords) || s.maxRecords < 1)
			throw new RangeError('kaiwa-bus devtools: maxRecords must be a whole number from 1 up');
		this.shortcut = parseShortcut(s.shortcut);
		this.values = s;
		// Remembered choices win over the defaults given here.
		const saved = loadPrefs(s.storageKey, DOCKS);
		this.prefs = { open: saved.open ?? s.open, dock: saved.dock ?? s.dock, size: { ...saved.size } };
		if (Number.isFinite(s.size) && !Number.isFinite(this.prefs.size[this.prefs.dock])) this.prefs.size[this.prefs.dock] = s.size;
	}

	set dock(dock) {
		if (!DOCKS.includes(dock)) throw new TypeError(`kaiwa-bus devtools: dock must be one of ${DOCKS.join(', ')}`);
		this.prefs.dock = dock;
		this.save();
	}

	/** @returns {import('./index.js').DevtoolsDock} */
	get dock() {
		return this.prefs.dock;
	}

	/** The size the user dragged the dock `side` to (not saved until the drag ends). */
	resize(side, size) {
		this.prefs.size[side] = Math.max(MIN_SIZE, Math.round(size));
	}

	/** The current dock's size in px: the chosen one, at most 90% of the window, at least MIN_SIZE. */
	size() {
		const side = this.prefs.dock;
		const wanted = this.prefs.size[side] ?? DEFAULT_SIZE[side];
		const room = side === 'bottom' ? globalThis.innerHeight : globalThis.innerWidth;
		return Math.round(Math.max(MIN_SIZE, Math.min(wanted, (room || Infinity) * 0.9)));
	}

	save() {
		savePrefs(this.values.storageKey, this.prefs);
	}
}

/**
 * The preferences saved under `key`, each checked: `open` a boolean, `dock`
 * one of `docks`, `size` a positive number of px per dock. What is missing
 * or wrong (storage disabled, another script's value, a hand edit) is left
 * out, so the options' values apply instead.
 */
export function loadPrefs(key, docks) {
	if (!key) return {};
	let saved;
	try {
		saved = JSON.parse(globalThis.localStorage?.getItem(key) ?? '{}');
	} catch {
		return {}; // storage disabled, or not ours
	}
	if (saved === null || typeof saved !== 'object') return {};
	const prefs = {};
	if (typeof saved.open === 'boolean') prefs.open = saved.open;
	if (docks.includes(saved.dock)) prefs.dock = saved.dock;
	const size = saved.size !== null && typeof saved.size === 'object' ? saved.size : {};
	prefs.size = {};
	for (const dock of docks) {
		const px = size[dock];
		if (typeof px === 'number' && Number.isFinite(px) && px > 0) prefs.size[dock] = px;
	}
	return prefs;
}

export function savePrefs(key, prefs) {
	if (!key) return;
	try {
		globalThis.localStorage?.setItem(key, JSON.stringify(prefs));
	} catch {
		// Storage full or disabled: the panel works, it just won't remember.
	}
}

/** 'Alt+Shift+K' -> a matcher of keydown events, or null for false/''. */
export function parseShortcut(text) {
	if (!text) return null;
	const parts = String(text)
		.split('+')
		.map((p) => p.trim().toLowerCase());
	const key = parts.pop();
	const mods = Object.assign(Object.create(null), { ctrl: false, alt: false, shift: false, meta: false }); // 'constructor' is no modifier
	for (const p of parts) {
		if (!(p in mods))
			throw new TypeError(`kaiwa-bus devtools: unknown modifier ${JSON.stringify(p)} in shortcut ${JSON.stringify(text)}`);
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
