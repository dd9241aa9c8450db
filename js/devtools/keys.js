// The keyboard. The toggle shortcut (Alt+Shift+K by default) is heard by
// one listener for every panel on the page, so that one key press toggles
// one panel: the one holding the focus, else the first on the page.
// Inside a panel: `/` focuses the search, Escape closes what is open
// (panelKey).

const panels = new Set(); // { el, matches(e), run() } of the panels on the page

function onKey(e) {
	if (e.defaultPrevented) return;
	const path = e.composedPath();
	const candidates = [...panels].filter((p) => p.matches(e));
	const chosen = candidates.find((p) => path.includes(p.el)) ?? candidates[0];
	if (!chosen) return;
	e.preventDefault();
	chosen.run();
}

/** Adds a panel's shortcut; returns the function that removes it. */
export function addShortcut(entry) {
	if (panels.size === 0) globalThis.addEventListener('keydown', onKey);
	panels.add(entry);
	return () => {
		panels.delete(entry);
		if (panels.size === 0) globalThis.removeEventListener('keydown', onKey);
	};
}

/** Whether a key press in `target` is typing (then `/` and the like are text). */
export function isTyping(target) {
	return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

/**
 * A key pressed inside the panel: `/` focuses the search, Escape closes
 * what is open (the detail pane, a view, then the panel itself), arrows,
 * Home and End move between tabs. `on`: { tab, home (the Events view's
 * id), showTab(tab), close() }.
 */
export function panelKey(e, ui, on) {
	const target = /** @type {HTMLElement} */ (e.target);
	if (e.key === '/' && !isTyping(target) && !e.ctrlKey && !e.metaKey && !e.altKey) {
		e.preventDefault();
		if (on.tab !== on.home) on.showTab(on.home);
		ui.text.focus();
	} else if (e.key === 'Escape' && !e.defaultPrevented) {
		e.preventDefault();
		if (ui.detail.contains(target)) ui.list.focus();
		else if (on.tab !== on.home) {
			on.showTab(on.home);
			ui.tabs.querySelector(`[data-tab="${on.home}"]`).focus();
		} else {
			on.close();
			ui.launcher.focus();
		}
	} else if (target.getAttribute('role') === 'tab' && /^(ArrowLeft|ArrowRight|Home|End)$/.test(e.key)) {
		e.preventDefault();
		const tabs = [...ui.tabs.children];
		const at = tabs.indexOf(target);
		const next =
			e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : (at + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length;
		on.showTab(tabs[next].dataset.tab);
		tabs[next].focus();
	}
}
