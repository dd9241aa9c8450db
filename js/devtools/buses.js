// What the panel shows of the buses that wrap an EventBus, found by their
// API and nothing else:
//   a PersistentEventBus (it has `persistence`): a Storage section in the
//     statistics view, where events are stored (and why in memory, on a
//     fallback), how many (`storedCount()`), and Clear stored history
//     (`clearStored()`);
//   a RelayBus (it has `onConnection`): its connection state, outbox depth
//   and gaps (`bus.gaps`) in the header.
// The element calls follow(bus) while it is open and stop() when it is
// collapsed or removed: the onConnection listener lives only in between,
// like the panel's onRecord listener, so a collapsed panel does no work.

import { formatClock, formatDate, h, setText } from './dom.js';

const COUNT_EVERY_MS = 1000; // the stored count is re-read at most this often while the statistics show

const WHERE = {
	indexeddb: 'IndexedDB',
	memory: 'memory (lost on reload)',
	'memory-fallback': 'memory, as a fallback (lost on reload)'
};

// What a store keeps, as a person reads it: '; keeps the newest 50,000
// events, at most 7 days' (empty when the bus does not say).
function keeps(retain) {
	if (!retain) return '';
	const limits = [];
	if (Number.isFinite(retain.maxEvents)) limits.push(`the newest ${retain.maxEvents.toLocaleString('en')} events`);
	if (Number.isFinite(retain.maxAgeMs)) limits.push(`at most ${age(retain.maxAgeMs)}`);
	return limits.length === 0 ? '; keeps everything' : `; keeps ${limits.join(', ')}`;
}

function age(ms) {
	const [unit, size] = ms >= 86_400_000 ? ['day', 86_400_000] : ms >= 3_600_000 ? ['hour', 3_600_000] : ['minute', 60_000];
	const n = Math.round(ms / size);
	return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

export class BusStatus {
	#bus = null; // the bus followed, while the panel is open
	#off = null; // its onConnection unsubscribe
	#counting = false;
	#countedAt = 0;

	constructor() {
		this.state = h('span', { class: 'conn-state' });
		this.outbox = h('span', { class: 'outbox', title: 'Emits not yet acknowledged by the relay' });
		this.gaps = h('span', { class: 'gaps', hidden: true });
		this.connection = h('span', { class: 'connection', role: 'status', hidden: true }, this.state, this.outbox, this.gaps);

		this.where = h('span', { class: 'store-where' });
		this.count = h('span', { class: 'store-count' });
		this.clearButton = h(
			'button',
			{
				'data-action': 'clear-stored',
				title: 'Remove every stored record (bus.clearStored()); the history shown stays',
				onclick: () => this.#clearStored()
			},
			'Clear stored history'
		);
		this.store = h(
			'div',
			{ class: 'store', hidden: true },
			h('span', { class: 'store-title' }, 'Storage'),
			this.where,
			this.count,
			this.clearButton
		);
	}

	/** Shows `bus` (null: nothing) while the panel is open; listens to its connection if it has one. */
	follow(bus) {
		if (bus === this.#bus) return;
		this.stop();
		this.#bus = bus;
		const relay = typeof bus?.onConnection === 'function';
		this.connection.hidden = !relay;
		this.store.hidden = !bus || !('persistence' in bus);
		this.#countedAt = 0;
		if (relay) {
			this.#off = bus.onConnection(this.#onConnection);
			this.#onConnection(bus.connection);
		}
	}

	/** The panel collapsed or left the page: no listener on the bus. */
	stop() {
		this.#off?.();
		this.#off = null;
		this.#bus = null;
	}

	#onConnection = (connection) => {
		const bus = this.#bus;
		if (!bus) return;
		const { state, outbox, error, leader } = connection;
		this.connection.dataset.state = state;
		setText(this.state, state);
		this.state.title = `Relay connection: ${state}${leader ? ' (this tab holds the socket)' : leader === false ? ' (through the tab that holds the socket)' : ''}${error ? `, ${error.message ?? error}` : ''}`;
		setText(this.outbox, `outbox ${outbox}`);
		const gaps = bus.gaps ?? [];
		this.gaps.hidden = gaps.length === 0;
		if (gaps.length) {
			const last = gaps.at(-1);
			setText(this.gaps, `⚠ ${gaps.length} gap${gaps.length === 1 ? '' : 's'}, last ${formatClock(last.at)}`);
			this.gaps.title = `Events the relay no longer had were missed:\n${gaps
				.slice(-10)
				.map((g) => `${formatDate(g.at)}: epoch ${g.epoch}, lost after offset ${g.lostAfter}`)
				.join('\n')}`;
		}
	};

	/** The Storage section of the statistics view; `shown` false while an imported file is shown. */
	renderStore(shown) {
		const bus = this.#bus;
		this.store.hidden = !shown || !bus || !('persistence' in bus);
		if (this.store.hidden) return;
		const { kind, reason } = bus.persistence;
		setText(
			this.where,
			`Stored in ${WHERE[kind] ?? kind}${kind === 'memory-fallback' && reason ? `: ${reason}` : ''}${keeps(bus.retention)}`
		);
		if (Date.now() - this.#countedAt >= COUNT_EVERY_MS) this.#recount();
	}

	// Reads the stored count (one at a time; what arrives for another bus is dropped).
	async #recount() {
		const bus = this.#bus;
		if (this.#counting || !bus) return;
		this.#counting = true;
		this.#countedAt = Date.now();
		try {
			const n = typeof bus.storedCount === 'function' ? await bus.storedCount() : null;
			if (bus === this.#bus) setText(this.count, n === null ? 'count unknown' : `${n} event${n === 1 ? '' : 's'} stored`);
		} catch (error) {
			if (bus === this.#bus) setText(this.count, `could not count: ${error?.message ?? error}`);
		} finally {
			this.#counting = false;
		}
	}

	async #clearStored() {
		const bus = this.#bus;
		if (!bus) return;
		this.clearButton.disabled = true;
		try {
			await bus.clearStored();
		} catch (error) {
			setText(this.count, `could not clear: ${error?.message ?? error}`);
			return;
		} finally {
			this.clearButton.disabled = false;
		}
		while (this.#counting) await new Promise((r) => setTimeout(r, 10));
		this.#countedAt = 0;
		await this.#recount();
	}
}
