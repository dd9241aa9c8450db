// Opening an IndexedDB database, for the Event Store (indexeddb.js) and the
// relay's outbox (../relay/outbox.js): what goes wrong with `open()` in
// browsers, handled in one place.
// - No IndexedDB, or `open()` throws or fails: kind 'unavailable'.
// - `open()` never answers (Safari's first open can hang): 'unavailable'
//   after `timeoutMs`; the next open() asks again (a late answer is closed).
// - Another tab holds an older version open and does not let go on
//   `versionchange`: 'blocked' after `timeoutMs`. That request is kept, and
//   the next open() waits on it again: IndexedDB would queue a new request
//   behind it, where it hears no `blocked` of its own. Once the other tab
//   lets go, the kept request opens (and upgrades) the database.
// - Another tab upgrades (`versionchange`), or the browser drops the
//   database: the connection closes at once, so that the upgrade is not
//   blocked, and the next open() reopens.

/**
 * One database, opened on demand and kept open until close().
 * `fail(kind, message, cause)` makes the error each caller's own kind of error.
 */
export class DatabaseOpener {
	#idb;
	#name;
	#version;
	#upgrade;
	#timeoutMs;
	#fail;
	#db = null;
	#pending = null;
	#closed = false;

	/**
	 * @param {object} options
	 * @param {IDBFactory | null | undefined} options.indexedDB
	 * @param {string} options.name
	 * @param {number} options.version
	 * @param {(db: IDBDatabase) => void} options.upgrade creates what an older version lacks
	 * @param {number} options.timeoutMs
	 * @param {(kind: 'unavailable' | 'blocked' | 'closed', message: string, cause?: unknown) => Error} options.fail
	 */
	constructor({ indexedDB, name, version, upgrade, timeoutMs, fail }) {
		this.#idb = indexedDB;
		this.#name = name;
		this.#version = version;
		this.#upgrade = upgrade;
		this.#timeoutMs = timeoutMs;
		this.#fail = fail;
	}

	/**
	 * The open database, or a rejection with the kind of what went wrong.
	 * @returns {Promise<IDBDatabase>}
	 */
	open() {
		if (this.#closed) return Promise.reject(this.#fail('closed', `"${this.#name}" was closed`));
		if (this.#db) return Promise.resolve(this.#db);
		if (!this.#idb || typeof this.#idb.open !== 'function')
			return Promise.reject(this.#fail('unavailable', 'IndexedDB is not available here'));
		if (!this.#pending) {
			try {
				this.#pending = this.#request();
			} catch (error) {
				return Promise.reject(
					this.#fail('unavailable', `IndexedDB refused to open "${this.#name}": ${error?.message ?? error}`, error)
				);
			}
		}
		const pending = this.#pending;
		return new Promise((resolve, reject) => {
			const waiter = {
				resolve: (db) => (clearTimeout(timer), resolve(db)),
				reject: (error) => (clearTimeout(timer), reject(error))
			};
			const timer = setTimeout(() => {
				pending.waiters.delete(waiter);
				// A request that never answered is given up; a blocked one is kept for the next open().
				if (!pending.blocked && this.#pending === pending) this.#pending = null;
				const why = pending.blocked ? 'another tab holds an older version of it open' : 'IndexedDB did not answer';
				reject(
					this.#fail(
						pending.blocked ? 'blocked' : 'unavailable',
						`opening "${this.#name}" took over ${this.#timeoutMs} ms: ${why}`
					)
				);
			}, this.#timeoutMs);
			pending.waiters.add(waiter);
		});
	}

	/** Forgets a connection found closed (a transaction threw InvalidStateError): the next open() reopens. */
	forget(db) {
		if (this.#db === db) this.#db = null;
	}

	/** Closes the database; a later open() rejects as 'closed'. */
	close() {
		this.#closed = true;
		this.#db?.close();
		this.#db = null;
	}

	#request() {
		const request = this.#idb.open(this.#name, this.#version);
		const pending = { blocked: false, waiters: new Set() };
		const settle = (each) => {
			if (this.#pending === pending) this.#pending = null;
			for (const waiter of pending.waiters) each(waiter);
			pending.waiters.clear();
		};
		request.onblocked = () => (pending.blocked = true);
		request.onupgradeneeded = () => this.#upgrade(request.result);
		request.onerror = () =>
			settle((w) =>
				w.reject(
					this.#fail(
						'unavailable',
						`opening "${this.#name}" failed: ${request.error?.name ?? 'Error'}: ${request.error?.message ?? ''}`,
						request.error
					)
				)
			);
		request.onsuccess = () => {
			const db = request.result;
			// Closed meanwhile, or an answer that came after its callers gave up on it.
			if (this.#closed || (this.#pending !== pending && pending.waiters.size === 0)) {
				db.close();
				settle((w) => w.reject(this.#fail('closed', `"${this.#name}" was closed`)));
				return;
			}
			const release = () => {
				db.close();
				if (this.#db === db) this.#db = null;
			};
			db.onversionchange = release;
			db.onclose = release;
			this.#db = db;
			settle((w) => w.resolve(db));
		};
		return pending;
	}
}
