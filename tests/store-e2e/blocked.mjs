// The store's `blocked` kind on Chromium's IndexedDB (issue 23): another
// tab holds the database open at an older version and does not close on
// `versionchange`, so the store's open waits on it.
//
// The store opens version 1 (DB_VERSION in js/store/indexeddb.js), and no
// version is older than 1, so today only the next version of the store can
// be blocked. The test opens the store through Chromium's own indexedDB
// with the version it asks for raised by one: the store of the next
// release, meeting a tab that holds this release's version open.

import assert from 'node:assert/strict';

// In the page: the real indexedDB, asked for the next version.
const NEXT_VERSION = `({ open: (name, version) => indexedDB.open(name, version + 1) })`;

/** @param {(context: any, url: string) => Promise<any>} openPage */
export function blockedTests(openPage) {
	return [
		{
			name: 'another tab holding an older version open blocks the store: kind blocked, the bus goes on in memory, a store opened once it lets go works',
			fn: async ({ context, url }) => {
				const [holder, page] = await Promise.all([openPage(context, url), openPage(context, url)]);
				// Positive control: the same upgrade with no other tab holding the database opens it.
				const control = await page.evaluate(async (nextVersion) => {
					const bus = window.kaiwa.createPersistentBus({
						name: 'blocked-control',
						indexedDB: eval(nextVersion),
						openTimeoutMs: 1000
					});
					await bus.ready;
					bus.emit('auth.user.logout', { userId: 'u1', timestamp: new Date() });
					await bus.flush();
					const store = new window.kaiwa.IndexedDbEventStore({ name: 'blocked-control', indexedDB: eval(nextVersion) });
					const stored = (await store.read()).map((e) => e.name);
					store.close();
					return { persistence: bus.persistence, stored };
				}, NEXT_VERSION);
				assert.deepEqual(control, { persistence: { kind: 'indexeddb', reason: null }, stored: ['auth.user.logout'] });

				// The other tab: version 1 open, versionchange ignored.
				await holder.evaluate(
					() =>
						new Promise((resolve, reject) => {
							const request = indexedDB.open('blocked', 1);
							request.onsuccess = () => {
								window.held = request.result;
								window.held.onversionchange = () => (window.sawVersionChange = true);
								resolve();
							};
							request.onerror = () => reject(request.error);
						})
				);
				const blocked = await page.evaluate(async (nextVersion) => {
					const warnings = [];
					const warn = console.warn;
					console.warn = (...args) => warnings.push(args.join(' '));
					const bus = window.kaiwa.createPersistentBus({ name: 'blocked', indexedDB: eval(nextVersion), openTimeoutMs: 1000 });
					await bus.ready;
					bus.emit('auth.user.logout', { userId: 'u1', timestamp: new Date() });
					await bus.flush();
					console.warn = warn;
					return { persistence: bus.persistence, history: bus.getEventHistory().map((r) => r.name), warnings };
				}, NEXT_VERSION);
				assert.equal(await holder.evaluate(() => window.sawVersionChange), true, 'the holder was asked to let go');
				assert.equal(blocked.persistence.kind, 'memory-fallback');
				assert.match(
					blocked.persistence.reason,
					/^blocked: .*opening "blocked" took over 1000 ms: another tab holds an older version of it open/
				);
				assert.deepEqual(blocked.history, ['auth.user.logout'], 'the bus works, in memory');
				assert.equal(blocked.warnings.length, 1, `one warning: ${blocked.warnings}`);
				assert.match(blocked.warnings[0], /kept in memory only/);

				// The holder lets go: the next open goes through (and upgrades).
				await holder.evaluate(() => window.held.close());
				const after = await page.evaluate(async (nextVersion) => {
					const store = new window.kaiwa.IndexedDbEventStore({
						name: 'blocked',
						indexedDB: eval(nextVersion),
						openTimeoutMs: 5000
					});
					await store.append([{ name: 'auth.user.logout', payload: { userId: 'u2', timestamp: new Date() } }]);
					const names = (await store.read()).map((e) => e.payload.userId);
					store.close();
					return names;
				}, NEXT_VERSION);
				assert.deepEqual(after, ['u2']);
				await Promise.all([holder.close(), page.close()]);
			}
		}
	];
}
