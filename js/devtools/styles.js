// The panel's stylesheet, and how it reaches the panel's shadow root.

export const STYLES = `
:host { all: initial; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.root {
	--bg: #0f1419; --bg2: #171d24; --bg3: #1f2730; --line: #2d3742; --fg: #d7dde4; --dim: #9aa6b2;
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
select { max-width: 11em; }
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
.filters input[type='search'] { width: 10em; }
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
.list .row { display: grid; grid-template-columns: 1.6em 9em 6.5em minmax(0, 1fr) 8.5em 6em 7em; height: 22px; align-items: center; }
/* The Source column, only while some record kept is not local (.with-sources). */
.list .source { display: none; }
.with-sources .list .row { grid-template-columns: 1.6em 9em 6.5em minmax(0, 1fr) 6em 8.5em 6em 7em; }
.with-sources .list .source { display: block; }
/* Side docks are narrow: no Age and Source columns there (the detail shows them). */
.dock-right .list .row, .dock-left .list .row { grid-template-columns: 1.6em 9em minmax(0, 1fr) 8.5em 6em 7em; }
.dock-right .list .ago, .dock-left .list .ago, .dock-right .list .source, .dock-left .list .source { display: none; }
.window .row .source { color: var(--accent); }
.window .row[data-source='local'] .source { color: var(--dim); }
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
/* A relay's connection in the header, a store's storage in the statistics (buses.js). */
.connection { display: flex; gap: 6px; align-items: center; padding: 1px 6px; border: 1px solid var(--line); border-radius: 4px; }
.conn-state::before { content: '● '; }
.connection[data-state='open'] .conn-state { color: var(--ok); }
.connection[data-state='connecting'] .conn-state { color: var(--reject); }
.connection[data-state='closed'] .conn-state { color: var(--fail); }
.outbox { color: var(--dim); }
.gaps { color: var(--reject); font-weight: bold; }
.store { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; padding: 4px 0 8px; margin-bottom: 8px; border-bottom: 1px solid var(--line); }
.store-title { color: var(--dim); text-transform: uppercase; letter-spacing: 0.04em; }
/* Records restored from storage: dimmed, and a separator above the newest of them. */
.window .row[data-source='restored'] { background: rgb(108 182 255 / 0.05); }
.window .row[data-source='restored'] > :not(.status) { color: var(--dim); font-style: italic; }
.window .row[data-boundary] { border-top: 1px dashed var(--accent); }
/* A relay gap: events were missed below this row. */
.window .row[data-gap] { background: rgb(227 179 65 / 0.12); border-top: 2px solid var(--reject); }
.window .row[data-gap] .name { color: var(--reject); font-weight: bold; }
.footer { padding: 3px 8px; color: var(--dim); background: var(--bg2); border-top: 1px solid var(--line); display: flex; gap: 12px; }
/* Marked rows (Compare, Replay), names with invisible characters, the disposed state. */
.list .mark { padding: 0 0 0 6px; color: var(--accent); }
.window .row[data-marked] { background: rgb(108 182 255 / 0.1); }
.name[data-lookalike], .warning { color: var(--reject); }
.banner.disposed { background: #3a2f12; }
.detail:focus-visible { outline-offset: -2px; }
.buttons { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 4px 0 8px; }
.copied { color: var(--dim); }
.leaf.long button { margin-left: 4px; padding: 0 6px; }

/* Emit: the form beside the JSON and the issues. */
.replay, .compare { overflow: auto; padding: 8px 10px; }
/* The form and the JSON side by side, each scrolling on its own. */
.emit { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); }
.emit > div { overflow: auto; min-height: 0; padding: 8px 10px; }
.emit-side { border-left: 1px solid var(--line); }
.dock-right .emit, .dock-left .emit { grid-template-columns: minmax(0, 1fr); grid-template-rows: minmax(0, 3fr) minmax(0, 2fr); }
.dock-right .emit-side, .dock-left .emit-side { border-left: 0; border-top: 1px solid var(--line); }
.pick { display: flex; gap: 8px; align-items: center; margin: 0 0 8px; }
.pick input { flex: 1; }
.form { display: grid; gap: 4px; }
.field { display: grid; grid-template-columns: 1.6em minmax(8em, max-content) minmax(0, 1fr); gap: 6px; align-items: start; }
.field > input[type='checkbox']:not(.include) { justify-self: start; }
.field > .note { grid-column: 3; padding: 0; color: var(--reject); }
.field[data-left-out] label, .field[data-left-out] .type { color: var(--dim); text-decoration: line-through; }
.type { color: var(--dim); }
.with-button { display: flex; gap: 4px; }
.list-editor .items { margin: 0 0 4px; padding-left: 20px; }
.list-editor li { display: flex; gap: 4px; margin-bottom: 2px; }
.emit textarea { width: 100%; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; color: inherit; font: inherit; padding: 4px 6px; }
.emit-side label { color: var(--dim); }
.issues-live { margin: 0; padding-left: 18px; color: var(--reject); }
.verdict, .result { margin: 4px 0; }

/* Replay: the controls, then the events with the cursor. */
.replay-list { list-style: none; margin: 0; padding: 0; }
.replay-list li { display: grid; grid-template-columns: 1.4em 9em minmax(0, 1fr) minmax(0, 1.5fr); gap: 6px; padding: 1px 0; border-bottom: 1px solid var(--bg3); }
.replay-list li[aria-current] { background: #19324d; }
.replay-list li[data-done] .name { color: var(--dim); }
.replay-list .cursor { color: var(--accent); }
.replay-list .more { display: block; color: var(--dim); }
.replay-status { margin: 4px 0 8px; }

/* Compare: each difference marked by a sign as well as a colour. */
.diff td { font-variant-ligatures: none; word-break: break-all; }
.diff .sign { width: 2em; text-align: center; font-weight: bold; }
.diff tr[data-diff='changed'] td { background: rgb(227 179 65 / 0.12); }
.diff tr[data-diff='added'] td { background: rgb(63 185 80 / 0.12); }
.diff tr[data-diff='removed'] td { background: rgb(255 107 97 / 0.12); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;

let sheet = null; // one constructed stylesheet, shared by every panel on the page

/**
 * Styles a shadow root with STYLES; returns it. A constructed stylesheet
 * (adoptedStyleSheets) is not inline style, so a page whose CSP says
 * `style-src 'self'` shows the panel styled; where constructed stylesheets
 * are missing, a <style> element (which such a CSP blocks).
 */
export function adoptStyles(shadow) {
	if ('adoptedStyleSheets' in shadow && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
		if (sheet === null) {
			sheet = new CSSStyleSheet();
			sheet.replaceSync(STYLES);
		}
		shadow.adoptedStyleSheets = [sheet];
	} else {
		const style = document.createElement('style');
		style.textContent = STYLES;
		shadow.append(style);
	}
	return shadow;
}
