// The history record format (kaiwa-bus/history, js/history/index.js) and the
// panel's pure record functions (js/devtools/records.js), with the hostile
// inputs of issue 9: a record or key named __proto__, a Proxy whose traps
// throw, sub-objects reused 26 deep, names far over the limit, duplicate ids.
// Runs in Node and in Chromium.

import { EventBus } from '#kaiwa';
import { HISTORY_FORMAT, HISTORY_VERSION, historyDocument, readHistoryDocument, reviveDates, toPlain } from '../../pkg/history/index.js';
import * as records from '../../pkg/devtools/records.js';
import { assert, test } from './harness.js';

const at = new Date('2026-11-26T10:00:00Z');
const record = (fields) => ({
	id: 1,
	name: 'app.thing.done',
	payload: null,
	timestamp: at.toISOString(),
	status: 'delivered',
	handlerCount: 1,
	durationMs: null,
	errors: [],
	issues: [],
	...fields
});
const file = (records) => JSON.stringify({ format: HISTORY_FORMAT, version: HISTORY_VERSION, records });

// {a: n, b: n} nested `depth` deep: depth + 1 objects, 2^depth paths.
function shared(depth) {
	let node = { leaf: true };
	for (let i = 0; i < depth; i++) node = { a: node, b: node };
	return node;
}

test('history: a bus history round-trips through the document', () => {
	const bus = new EventBus();
	bus.emit('auth.user.login', { userId: 'u1', email: 'a@example.com', tier: 'pro', timestamp: at });
	try {
		bus.emit('auth.user.login', { userId: 1 });
	} catch {
		// rejected, and recorded
	}
	const doc = historyDocument(bus.getEventHistory());
	assert.equal(doc.format, 'kaiwa-bus/history');
	assert.equal(doc.version, 1);
	const back = readHistoryDocument(JSON.stringify(doc));
	// What the bus kept, JSON-shaped; a record without a source reads back as 'local'.
	const kept = JSON.parse(JSON.stringify(bus.getEventHistory())).map((r) => ({ source: 'local', ...r }));
	assert.deepEqual(JSON.parse(JSON.stringify(back)), kept);
	assert.ok(back[0].timestamp instanceof Date);
});

test('history: a payload key named __proto__ is exported as a key, not as a prototype', () => {
	const payload = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}');
	const plain = toPlain(payload);
	assert.equal(JSON.stringify(plain), '{"__proto__":{"polluted":true},"ok":1}');
	assert.equal({}.polluted, undefined);
});

test('history: a Proxy whose traps throw is exported as a marker, never a throw', () => {
	const trap = () => {
		throw new Error('trap says no');
	};
	const hostile = new Proxy({}, { get: trap });
	assert.equal(toPlain(hostile), '[unreadable: Error: trap says no]');
	// A trap JSON.stringify never calls is not called: written as JSON.stringify writes it.
	assert.deepEqual(toPlain(new Proxy({ a: 1 }, { getPrototypeOf: trap })), { a: 1 });
	const keys = new Proxy({}, { ownKeys: trap });
	assert.equal(toPlain({ inner: keys }).inner, '[unreadable: Error: trap says no]');
	const doc = historyDocument([{ ...readHistoryDocument(file([record({})]))[0], payload: hostile }]);
	assert.equal(doc.records[0].payload, '[unreadable: Error: trap says no]');
});

test('history: sub-objects reused 26 deep are walked once, within a budget', () => {
	const text = JSON.stringify(toPlain(shared(26)));
	assert.ok(text.length < 2_000_000, `bounded output: ${text.length} characters`);
	assert.match(text, /"leaf":true/, 'the shared leaf is there');
	assert.match(text, /\[Repeated\]/, 'what is over the budget says so');
	// Reuse is not a cycle: a small shared object is written out in full at both places.
	const user = { id: 'u1' };
	assert.deepEqual(toPlain({ from: user, to: user }), { from: { id: 'u1' }, to: { id: 'u1' } });
	const cyclic = { name: 'loop' };
	cyclic.self = cyclic;
	assert.deepEqual(toPlain(cyclic), { name: 'loop', self: '[Circular]' });
});

test('history: imported names obey the bus name limit', () => {
	const dots = '.'.repeat(20_000);
	assert.throws(
		() => readHistoryDocument(file([record({ name: `a${dots}b` })])),
		/record 1: "name" is 20002 bytes long; the limit is 1024 bytes/
	);
	const wide = 'é'.repeat(513); // 1026 UTF-8 bytes in 513 UTF-16 units
	assert.throws(() => readHistoryDocument(file([record({ name: wide })])), /"name" is 1026 bytes long/);
	assert.throws(() => readHistoryDocument(file([record({ name: '' })])), /record 1: "name" must not be empty/);
	assert.throws(() => readHistoryDocument(file([record({ name: 'a\ud800b' })])), /record 1: "name" contains a lone surrogate/);
	assert.equal(readHistoryDocument(file([record({ name: 'x'.repeat(1024) })]))[0].name.length, 1024);
});

test('history: duplicate ids are refused; records are sorted by id', () => {
	assert.throws(
		() => readHistoryDocument(file([record({ id: 1 }), record({ id: 2 }), record({ id: 1, name: 'other.one' })])),
		/record 3: duplicate "id" 1 \(record 1 has it\)/
	);
	const read = readHistoryDocument(file([record({ id: 5 }), record({ id: 2 }), record({ id: 9 })]));
	assert.deepEqual(
		read.map((r) => r.id),
		[2, 5, 9]
	);
});

test('history: source and offset are carried; a missing source reads as local', () => {
	const read = readHistoryDocument(
		file([
			record({ id: 1 }),
			record({ id: 2, source: 'tab' }),
			record({ id: 3, source: 'remote', offset: '1700000000000-0' }),
			record({ id: 4, source: 'restored', offset: 7 })
		])
	);
	const carried = [
		['local', undefined],
		['tab', undefined],
		['remote', '1700000000000-0'],
		['restored', 7]
	];
	assert.deepEqual(
		read.map((r) => [r.source, r.offset]),
		carried
	);
	const again = historyDocument(read).records;
	assert.deepEqual(
		again.map((r) => [r.source, r.offset]),
		carried,
		'written back as read'
	);
	assert.throws(
		() => readHistoryDocument(file([record({ source: 'elsewhere' })])),
		/record 1: "source" must be one of local, tab, remote, restored/
	);
	assert.throws(() => readHistoryDocument(file([record({ offset: { x: 1 } })])), /record 1: "offset" must be a number or a string/);
});

test('panel: a record named __proto__ gets its own statistics and pollutes nothing', () => {
	const list = readHistoryDocument(file([record({ id: 1, name: '__proto__', durationMs: 2 }), record({ id: 2, name: 'constructor' })]));
	const stats = records.statsOf(list);
	assert.equal(stats.__proto__.count, 1);
	assert.equal(stats.constructor.count, 1);
	assert.deepEqual(Object.keys(stats).sort(), ['__proto__', 'constructor']);
	const clean = {};
	for (const key of ['count', 'total', 'timedCount', 'averageDuration', 'minDuration', 'maxDuration']) {
		assert.equal(clean[key], undefined, `Object.prototype.${key} is not written`);
	}
});

test('panel: the domain menu of a long dotted name is bounded', () => {
	const name = `a.${'b.'.repeat(510)}c`; // 1023 bytes, 511 dots
	const domains = records.domainsOf([name, 'auth.user.login', '__proto__.x']);
	assert.deepEqual(domains.slice(0, 4), ['__proto__.*', 'a.*', 'a.b.*', 'a.b.b.*']);
	assert.ok(domains.length <= 8, `${domains.length} domains: the menu goes ${domains.length} levels, not 511`);
	assert.ok(domains.includes('auth.user.*'));
});

test('panel: a tally forgets a key when its last record goes', () => {
	const tally = new records.Tally();
	assert.equal(tally.add('__proto__'), true, 'a new key');
	assert.equal(tally.add('__proto__'), false, 'seen');
	assert.equal(tally.remove('__proto__'), false, 'one left');
	assert.equal(tally.remove('__proto__'), true, 'gone');
	assert.deepEqual([...tally.keys()], []);
	tally.add('b');
	tally.add('a');
	assert.deepEqual(tally.sorted(10), ['a', 'b']);
	for (let i = 0; i < 50_000; i++) tally.add(`u${i}`);
	assert.equal(tally.sorted(100).length, 100, 'at most the limit, whatever the count');
});

test('history: export honours toJSON as JSON.stringify does, and never writes what toJSON hides', () => {
	class Session {
		constructor() {
			this.user = 'u1';
			this.token = 'secret-token';
		}
		toJSON() {
			return { user: this.user };
		}
	}
	const payload = {
		url: new URL('https://example.com/a?b=1'),
		number: Object(4),
		string: Object('text'),
		boolean: Object(true),
		session: new Session(),
		keyed: { toJSON: (key) => `key ${key}` },
		list: [{ toJSON: (key) => `index ${key}` }],
		nested: { toJSON: () => ({ inner: new Session() }) },
		self: {
			a: 1,
			toJSON() {
				return this;
			}
		},
		date: at
	};
	const plain = toPlain(payload);
	assert.deepEqual(plain, JSON.parse(JSON.stringify(payload)), 'what JSON.stringify writes');
	assert.equal(
		JSON.stringify(historyDocument([{ ...readHistoryDocument(file([record({})]))[0], payload }])).includes('secret-token'),
		false
	);
	const throwing = {
		toJSON() {
			throw new Error('no copy');
		}
	};
	assert.deepEqual(toPlain({ throwing }), { throwing: '[toJSON threw: Error: no copy]' });
	assert.equal(toPlain(Object(5n)), '5n', 'a boxed BigInt as a BigInt');
});

test('history: the budget bounds what is written: one marker for what was cut, never a marker per item', () => {
	const million = Array.from({ length: 1_000_000 }, (_, i) => i);
	const plain = toPlain(million);
	assert.ok(plain.length <= 20_001, `${plain.length} items written`);
	assert.equal(plain.at(-1), `[Truncated: ${1_000_000 - plain.length + 1} more items]`);
	assert.equal(plain.filter((x) => typeof x === 'string').length, 1, 'one marker');
	const text = JSON.stringify(historyDocument([{ ...readHistoryDocument(file([record({})]))[0], payload: { million } }]));
	assert.ok(text.length < 200_000, `the export is ${text.length} characters`);
	// Sparse: never read past the budget, whatever the length.
	const sparse = [];
	sparse.length = 2 ** 32 - 1;
	const cut = toPlain({ sparse }).sparse;
	assert.ok(cut.length <= 20_001);
	assert.equal(cut.at(-1), `[Truncated: ${2 ** 32 - 1 - cut.length + 1} more items]`);
	const keys = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i]));
	const fields = toPlain(keys);
	assert.ok(Object.keys(fields).length <= 20_001);
	assert.match(fields['[Truncated]'], /^\d+ more keys$/);
	const map = toPlain(new Map(Array.from({ length: 50_000 }, (_, i) => [i, i])));
	assert.match(map.at(-1), /^\[Truncated: \d+ more items\]$/);
});

test("docs/devtools.md's reproduction: an export replayed into a bus in code gives the same events, Dates as Dates", () => {
	const reported = new EventBus();
	reported.emit('auth.user.login', {
		userId: 'u1',
		email: 'u1@example.com',
		tier: 'pro',
		timestamp: new Date('2024-02-03T04:05:06.789Z')
	});
	try {
		reported.emit('auth.user.login', { userId: 2 });
	} catch {}
	const reportText = JSON.stringify(historyDocument(reported.getEventHistory()));
	const bus = new EventBus();
	const refused = [];
	const console = { log: (line) => refused.push(line) };
	for (const r of readHistoryDocument(reportText)) {
		try {
			bus.emit(r.name, reviveDates(bus, r.name, r.payload));
		} catch (error) {
			console.log(`#${r.id} ${r.name} refused (${r.status} in the report): ${error.message}`);
		}
	}
	const [again] = bus.getEventHistory();
	assert.ok(again.payload.timestamp instanceof Date);
	assert.equal(again.payload.timestamp.toISOString(), '2024-02-03T04:05:06.789Z');
	assert.deepEqual(
		bus.getEventHistory().map((r) => r.status),
		['delivered', 'rejected']
	);
	assert.match(refused[0], /^#2 auth\.user\.login refused \(rejected in the report\): /);
});
