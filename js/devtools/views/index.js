// The panel's views after Events and Statistics, in tab order: one file
// each, `{ id, title, render(ctx) }`. `render` builds the view once, when
// the panel is first drawn, and returns `{ el, shown?(), stop?() }`: its
// element (a tabpanel), what to redo when its tab is shown, and what to
// stop when the panel leaves its bus or the page. A new view is a file
// here and a line in VIEWS.
//
// `ctx`, what the element lends them:
//   bus()              the bus shown (null: none, or disposed)
//   read(fn, fallback) fn(bus), or fallback when there is no bus or it was
//                      disposed (then the panel shows so)
//   canAct()           whether the panel may emit (a live bus, not disposed)
//   links              the panel as a transport: emit, replay (actions.js)
//   marked(order?)     the records marked in the list, by id ('order': as marked)
//   imported()         { fileName, records } while a file is shown, or null
//   select(id)         selects a record in the Events list

import { compareView } from './compare.js';
import { emitView } from './emit.js';
import { replayView } from './replay.js';

export const VIEWS = [emitView, replayView, compareView];
