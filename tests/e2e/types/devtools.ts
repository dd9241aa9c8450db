// Compiles (tsc -p tests/e2e/types) when kaiwa-bus/devtools is typed as
// documented; each @ts-expect-error line must be an error.

import { EventBus } from 'kaiwa-bus';
import { type DevtoolsOptions, KaiwaDevtools, defineDevtools, mountDevtools } from 'kaiwa-bus/devtools';
import { type HistoryDocument, type RecordSource, historyDocument, readHistoryDocument } from 'kaiwa-bus/history';

const bus = new EventBus();
const options: DevtoolsOptions = { open: true, dock: 'right', size: 400, maxRecords: 500, shortcut: false, storageKey: false };
const panel: KaiwaDevtools = mountDevtools(bus, options);
panel.close();
panel.toggle();
const open: boolean = panel.isOpen;
panel.dock = 'left';
panel.paused = !open;
panel.importJSON(panel.exportJSON(), 'history.json');
panel.bus = null;
panel.remove();

// The tag is known to querySelector and createElement.
document.querySelector('kaiwa-devtools')?.open();
const created: KaiwaDevtools = document.createElement('kaiwa-devtools');
created.configure({ dock: 'bottom' });
const Ctor: typeof KaiwaDevtools = defineDevtools();
void Ctor;

// Any EventBus will do, whatever its event map.
interface AppEvents {
	'app.ping': { at: Date };
}
mountDevtools(new EventBus<AppEvents>({ catalog: false }), { container: document.body });

// @ts-expect-error: 'top' is not an edge the panel docks to
mountDevtools(bus, { dock: 'top' });
// @ts-expect-error: not a bus
mountDevtools({});
// @ts-expect-error: isOpen is read-only; use open() and close()
panel.isOpen = false;
// @ts-expect-error: the container is a mount option, not a setting
panel.configure({ container: document.body });

// The history format, as a store would use it.
const doc: HistoryDocument = historyDocument(bus.getEventHistory());
const source: RecordSource = readHistoryDocument(JSON.stringify(doc))[0].source;
void source;
// @ts-expect-error: the format's version is 1
const wrong: HistoryDocument = { ...doc, version: 2 };
void wrong;
