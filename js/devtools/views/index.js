// The panel's views, in tab order: one file each, `{ id, title, render(ctx) }`.
// A new view is a file here and a line in VIEWS; the tabs, their panels and
// the keys that move between them are made from this list. The first view
// (Events) is the panel's home: shown first, where `/` and Escape go back to.
//
// `render` builds the view once, when the panel is first drawn, and returns
// `{ el, shown?(), frame?(), stop?() }`: its element (a tabpanel), what to
// redo when its tab is shown, what to redo at each frame of new records
// while it is shown, and what to stop when the panel leaves its bus or the
// page.
//
// `ctx`, what the element lends them:
//   bus()              the bus shown (null: none, or disposed)
//   read(fn, fallback) fn(bus), or fallback when there is no bus or it was
//                      disposed (then the panel shows so)
//   canAct()           whether the panel may emit (a live bus, not disposed)
//   links              the panel as a transport: emit, replay (actions.js)
//   records()          the records kept (the bus's history, or the file's)
//   marked(order?)     the records marked in the list, by id ('order': as marked)
//   imported()         { fileName, records } while a file is shown, or null
//   select(id)         selects a record in the Events list
//   showEvents(name)   the Events view, filtered to one event name
//   prefill(record)    the Emit view, filled with a record's name and payload
//   status             a relay's connection and a store's storage (buses.js)
//   list, detail       the Events view's list (list.js) and detail pane
//                      (detail.js), which the element fills

import { compareView } from './compare.js';
import { emitView } from './emit.js';
import { eventsView } from './events.js';
import { replayView } from './replay.js';
import { statsView } from './stats.js';

export const VIEWS = [eventsView, statsView, emitView, replayView, compareView];
