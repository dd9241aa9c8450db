// Types of `kaiwa-bus/devtools`: the <kaiwa-devtools> panel and mountDevtools.

import type { EventBus } from '../index.js';

/** The page edge the panel is docked to. */
export type DevtoolsDock = 'bottom' | 'right' | 'left';

export interface DevtoolsOptions {
	/** Where the element goes. Default `document.body`. */
	container?: ParentNode;
	/** Open (true) or collapsed to its button (false) when nothing is remembered. Default true. */
	open?: boolean;
	/** The edge to dock to when nothing is remembered. Default 'bottom'. */
	dock?: DevtoolsDock;
	/** Height (bottom dock) or width (side docks) in pixels when nothing is remembered. Default 320 and 600. */
	size?: number;
	/** Records the panel keeps, oldest dropped first. Default 1000. */
	maxRecords?: number;
	/** Toggles the panel, e.g. 'Alt+Shift+K' (the default); false for none. */
	shortcut?: string | false;
	/** The localStorage key for open state, dock and size; false to remember nothing. Default 'kaiwa-bus:devtools'. */
	storageKey?: string | false;
}

/**
 * The public API the panel reads: any kaiwa-bus EventBus has it. On a bus
 * that has them it also reads `persistence`, `storedCount()` and
 * `clearStored()` (a PersistentEventBus: the Storage line of the
 * statistics) and `connection`, `onConnection()` and `gaps` (a RelayBus:
 * the header), so those buses are DevtoolsBus values too. Its Emit and
 * Replay views use `validate`, `mode` and `emit`, and attach to the
 * EventBus under a wrapper (its `bus`); on a bus without them they are off.
 */
export type DevtoolsBus = Pick<
	EventBus<any>,
	'onRecord' | 'getEventHistory' | 'getPerformanceStats' | 'getHandlerCount' | 'getSchema' | 'getSchemaNames' | 'clearHistory'
>;

/** `<kaiwa-devtools>`. Registered by defineDevtools() or mountDevtools(). */
export declare class KaiwaDevtools extends HTMLElement {
	/** The bus shown; setting it switches the panel to that bus. */
	bus: DevtoolsBus | null;
	/** Applies options (the container option aside). */
	configure(options: Omit<DevtoolsOptions, 'container'>): void;
	/** Open, or collapsed to its button. */
	readonly isOpen: boolean;
	open(): void;
	close(): void;
	toggle(): void;
	dock: DevtoolsDock;
	/** While paused the list stands still; resuming catches up from the history. */
	paused: boolean;
	/** The history as the Export button saves it. */
	exportJSON(): string;
	/**
	 * Shows an exported history, read-only, as the Import button does. Throws
	 * an Error naming the record and field at fault if `text` is not one
	 * (docs/history-format.md): a name over the bus's limit, a duplicate id…
	 */
	importJSON(text: string, fileName?: string): void;
}

/** Registers `<kaiwa-devtools>` once and returns its class. Browsers only. */
export declare function defineDevtools(): typeof KaiwaDevtools;

/**
 * Mounts a panel for `bus` and returns it; `element.remove()` unmounts it.
 * Browsers only: in SvelteKit, call it in `onMount`. Throws an Error if the
 * bus was disposed.
 */
export declare function mountDevtools(bus: DevtoolsBus, options?: DevtoolsOptions): KaiwaDevtools;

declare global {
	interface HTMLElementTagNameMap {
		'kaiwa-devtools': KaiwaDevtools;
	}
}
