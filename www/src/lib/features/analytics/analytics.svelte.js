// Analytics: subscribes to every event ('*') and counts them by name, as
// the seed's AnalyticsService would before sending them on. Rejected
// events never reach handlers, so they are not counted here.

export class Analytics {
	/** @type {Record<string, number>} */
	counts = $state({});
	total = $state(0);
	#off;

	/** @param {import('kaiwa-bus').Bus} bus */
	constructor(bus) {
		this.#off = bus.on('*', (_payload, meta) => {
			this.counts[meta.name] = (this.counts[meta.name] ?? 0) + 1;
			this.total++;
		});
	}

	dispose() {
		this.#off();
	}
}
