// The panel's remembered preferences (open, dock, size) in localStorage, and
// its keyboard shortcut.

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
