// The records the panel shows, oldest first, and those of them that pass
// the filter; with the counts behind the filter menus (names, users,
// sources), kept as records come and go. No DOM: the element draws from it.

import { Tally, byId, compileFilter, forgetText, sourceOf, indexOfId, userIdOf } from './records.js';

export class Shown {
	records = [];
	matching = []; // the records that pass the filter, oldest first
	rebuild = false; // re-filter at the next frame
	menusDirty = true;
	names = new Tally(); // event names of the records kept, for the filter menus
	users = new Tally(); // userIds of the records kept, for the user filter's suggestions
	sources = new Tally(); // sources of the records kept: the Source column shows when one is not 'local'
	filter = { domain: '', name: '', text: '', user: '', source: '' };
	matches = compileFilter(this.filter);

	/** Sets one filter field; the list is re-filtered at the next frame. */
	setFilter(key, value) {
		this.filter = { ...this.filter, [key]: value };
		this.matches = compileFilter(this.filter);
		this.rebuild = true;
	}

	/** The record with this id, or undefined. */
	get(id) {
		return this.records[indexOfId(this.records, id)];
	}

	set(records) {
		this.records = records;
		this.names.clear();
		this.users.clear();
		this.sources.clear();
		for (const record of records) this.#count(record, 1);
		this.menusDirty = true;
	}

	// Counts a record's name, userId and source in (1) or out (-1) of the filter menus.
	#count(record, delta) {
		const change = (tally, key) => {
			if (delta > 0 ? tally.add(key) : tally.remove(key)) this.menusDirty = true;
		};
		change(this.names, record.name);
		change(this.sources, sourceOf(record));
		const userId = userIdOf(record.payload);
		if (typeof userId === 'string') change(this.users, userId);
	}

	/** A record 'updated' (a handler's promise rejected after the emit); false if it is not kept. */
	replace(record) {
		const at = indexOfId(this.records, record.id);
		if (at < 0) return false;
		forgetText(this.records[at]);
		this.records[at] = record;
		const m = indexOfId(this.matching, record.id);
		if (m >= 0 !== this.matches(record))
			this.rebuild = true; // its new error may change what matches
		else if (m >= 0) this.matching[m] = record;
		return true;
	}

	/** New records: kept in id order, the oldest beyond `max` dropped. Returns how many new ones match. */
	append(added, max) {
		// A handler's nested emit is announced before the emit that caused it.
		added.sort(byId);
		const records = this.records;
		const inOrder = records.length === 0 || added[0].id > records.at(-1).id;
		for (const record of added) {
			records.push(record);
			this.#count(record, 1);
		}
		if (!inOrder) {
			records.sort(byId);
			this.rebuild = true;
		}
		const excess = records.length - max;
		if (excess > 0) {
			for (const dropped of records.splice(0, excess)) this.#count(dropped, -1);
			const oldest = records[0].id;
			let cut = 0;
			while (cut < this.matching.length && this.matching[cut].id < oldest) cut++;
			this.matching.splice(0, cut);
		}
		if (this.rebuild) return 0;
		let fresh = 0;
		for (const record of added) {
			if (record.id >= records[0].id && this.matches(record)) {
				this.matching.push(record);
				fresh++;
			}
		}
		return fresh;
	}

	refilter() {
		this.rebuild = false;
		this.matching = this.records.filter(this.matches);
	}
}
