// DOM building and the text formats of the devtools panel: every piece of
// event data reaches the panel's DOM through h() and setText(), as Text
// nodes, textContent or attribute values, never as HTML.

export const STATUS_ICONS = { delivered: '✓', failed: '✗', rejected: '⊘' };

/**
 * Creates an element. `attrs` keys starting with `on` add listeners, `class`
 * sets the class, anything else is an attribute (skipped when null or
 * false). Children are nodes or strings; strings become Text nodes, so they
 * can never be parsed as HTML.
 */
export function h(tag, attrs, ...children) {
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

// Characters that draw nothing or look like others: controls, format
// characters (zero-width, bidirectional overrides), separators and
// unassigned or private code points; a plain space is just a space.
const INVISIBLE = /(?! )[\p{C}\p{Z}]/gu;

/**
 * A name as the panel shows it: each invisible or look-alike character as
 * `⟨U+200B⟩`, so that `auth.user.login\u200b` never passes for
 * `auth.user.login` (the bus, the relay and an import refuse such names;
 * a store written before that rule may still restore them).
 */
export function shownName(name) {
	INVISIBLE.lastIndex = 0;
	if (!INVISIBLE.test(name)) return name;
	return name.replace(INVISIBLE, (c) => `⟨U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

/** Sets an element's text, only if it changed (an unchanged write still costs a relayout). */
export function setText(el, text) {
	if (el.textContent !== text) el.textContent = text;
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** `14:03:07.123`, local time. */
export function formatClock(date) {
	return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** `just now`, `12 s ago`, `3 min ago`, `2 h ago`. */
export function formatAgo(ms) {
	if (ms < 1000) return 'just now';
	if (ms < 60_000) return `${Math.floor(ms / 1000)} s ago`;
	if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
	return `${Math.floor(ms / 3_600_000)} h ago`;
}

/** A duration, or '—' for null (the bus did not time that emit, or refused it). */
export function formatMs(ms) {
	if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
	return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

/** Why a record has no duration, or null when it has one. */
export function durationNote(record) {
	if (record.status === 'rejected') return 'not dispatched';
	if (record.durationMs === null) return "not timed (the bus times a sample of emits; new EventBus({ timing: 'every' }) times them all)";
	return null;
}

export function formatDate(date) {
	return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

/**
 * Replaces an element's children with `nodes`, however many: appended one
 * by one, never spread into one call (a spread of 125,000 arguments throws
 * RangeError).
 */
export function setChildren(el, nodes) {
	const fragment = document.createDocumentFragment();
	for (const node of nodes) fragment.append(node);
	el.replaceChildren(fragment);
}

/** Puts `text` on the clipboard; resolves to what to tell the user. */
export async function copyText(text, what) {
	try {
		await globalThis.navigator.clipboard.writeText(text);
		return `Copied ${what} (${text.length.toLocaleString('en')} characters).`;
	} catch (error) {
		return `Could not copy ${what}: ${error?.message ?? error}`;
	}
}
