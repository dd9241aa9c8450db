// The schema catalog, validation on emit, modes and registerSchema, from
// JavaScript against the built package. Runs in Node and in Chromium.

import { EventBus, UnknownEventError, ValidationError } from '#kaiwa';
import { assert, captureConsole, test } from './harness.js';
import { SEED, isOptional, wrongValueFor } from './seed-catalog.js';

const at = new Date('2026-11-26T10:00:00Z');

function without(payload, key) {
	const copy = { ...payload };
	delete copy[key];
	return copy;
}

function refused(bus, name, payload) {
	let delivered = 0;
	const off = bus.on(name, () => delivered++);
	try {
		bus.emit(name, payload);
	} catch (error) {
		return { error, delivered };
	} finally {
		off();
	}
	return { error: null, delivered };
}

test("the catalog has the seed's 21 events, with the seed's descriptors", () => {
	const bus = new EventBus();
	assert.deepEqual(bus.getSchemaNames(), Object.keys(SEED).sort());
	for (const [name, { fields }] of Object.entries(SEED)) {
		const schema = bus.getSchema(name);
		assert.equal(schema.name, name);
		assert.equal(schema.version, '1.0.0');
		assert.equal(typeof schema.description, 'string');
		assert.ok(schema.description.length > 0, name);
		assert.deepEqual(Object.keys(schema.payload), Object.keys(fields), name);
	}
	assert.deepEqual(bus.getSchema('auth.user.login'), {
		name: 'auth.user.login',
		version: '1.0.0',
		description: 'User successfully logged in',
		audience: 'user',
		// Keyed by field names: a null prototype (issue 9, item 4's rule).
		payload: Object.assign(Object.create(null), { userId: 'string', email: 'string', tier: 'string', timestamp: 'Date' })
	});
	assert.equal(bus.getSchema('conversation.started').payload.mode, "'traditional' | 'realtime'");
	assert.equal(bus.getSchema('audio.recording.started').payload.userId, 'string?');
	assert.equal(bus.getSchema('nope.nope'), undefined);
});

for (const [name, { fields, valid }] of Object.entries(SEED)) {
	test(`${name}: a valid payload is delivered as emitted, Dates as Dates`, () => {
		const bus = new EventBus({ mode: 'strict' });
		const got = [];
		bus.on(name, (payload) => got.push(payload));
		bus.emit(name, valid);
		assert.equal(got.length, 1);
		assert.equal(got[0], valid);
		assert.ok(got[0].timestamp instanceof Date);
		assert.equal(bus.getEventHistory()[0].status, 'delivered');
		assert.equal(bus.getEventHistory()[0].payload, valid);
	});

	test(`${name}: each field, wrong or missing, is refused and named`, () => {
		const bus = new EventBus();
		for (const [key, type] of Object.entries(fields)) {
			const wrong = wrongValueFor(type);
			const { error, delivered } = refused(bus, name, { ...valid, [key]: wrong.value });
			assert.ok(error instanceof ValidationError, `${name}.${key} = ${JSON.stringify(wrong.value)} should be refused`);
			assert.equal(delivered, 0);
			assert.equal(error.name, 'ValidationError');
			assert.equal(error.event, name);
			assert.deepEqual(
				error.issues.map((i) => i.path),
				[key]
			);
			assert.equal(error.issues[0].received, wrong.received);
			assert.equal(error.message, `${name}: ${key}: expected ${error.issues[0].expected}, received ${wrong.received}`);

			const missing = refused(bus, name, without(valid, key));
			if (isOptional(type)) {
				assert.equal(missing.error, null, `${name}.${key} is optional`);
				assert.equal(missing.delivered, 1);
			} else {
				assert.ok(missing.error instanceof ValidationError, `${name}.${key} is required`);
				assert.deepEqual(missing.error.issues, [{ path: key, expected: missing.error.issues[0].expected, received: 'undefined' }]);
			}
		}
	});
}

test("issues say what was expected, in the seed's notation", () => {
	const bus = new EventBus();
	const expected = (name, key, value) => {
		const { error } = refused(bus, name, { ...SEED[name].valid, [key]: value });
		return error.issues[0].expected;
	};
	assert.equal(expected('auth.user.login', 'userId', 1), 'string');
	assert.equal(expected('auth.user.login', 'timestamp', 1), 'Date');
	assert.equal(expected('conversation.ended', 'duration', 'x'), 'number');
	assert.equal(expected('conversation.started', 'mode', 'x'), "'traditional' | 'realtime'");
	assert.equal(expected('vocabulary.lesson.completed', 'wordsLearned', 'x'), 'string[]');
	assert.equal(expected('conversation.error', 'context', 'x'), 'object');
});

test('payloads that are not objects are refused at the root', () => {
	const bus = new EventBus();
	for (const [payload, received] of [
		[null, 'null'],
		[undefined, 'undefined'],
		['text', 'string'],
		[7, 'number'],
		[[], 'array'],
		[at, 'Date'],
		[() => {}, 'function']
	]) {
		const { error } = refused(bus, 'auth.user.login', payload);
		assert.ok(error instanceof ValidationError, `${received} should be refused`);
		assert.deepEqual(error.issues, [{ path: '', expected: 'object', received }]);
		assert.equal(error.message, `auth.user.login: payload: expected object, received ${received}`);
	}
});

test('dates must be valid Date objects; numbers must be finite', () => {
	const bus = new EventBus();
	const login = SEED['auth.user.login'].valid;
	assert.equal(refused(bus, 'auth.user.login', { ...login, timestamp: new Date('nope') }).error.issues[0].received, 'Invalid Date');
	assert.equal(refused(bus, 'auth.user.login', { ...login, timestamp: at.getTime() }).error.issues[0].received, 'number');
	assert.equal(refused(bus, 'auth.user.login', { ...login, timestamp: at.toISOString() }).error.issues[0].received, 'string');
	const ended = SEED['conversation.ended'].valid;
	assert.equal(refused(bus, 'conversation.ended', { ...ended, duration: NaN }).error.issues[0].received, 'NaN');
	assert.equal(refused(bus, 'conversation.ended', { ...ended, duration: Infinity }).error.issues[0].received, 'Infinity');
	assert.equal(refused(bus, 'conversation.ended', { ...ended, duration: -Infinity }).error.issues[0].received, '-Infinity');
	assert.equal(refused(bus, 'conversation.ended', { ...ended, duration: 0 }).error, null);
});

test('string[]: a non-array, or an array with a wrong item, is refused at that item', () => {
	const bus = new EventBus();
	const lesson = SEED['vocabulary.lesson.completed'].valid;
	const item = refused(bus, 'vocabulary.lesson.completed', { ...lesson, wordsLearned: ['猫', 2, null] }).error;
	assert.deepEqual(item.issues, [{ path: 'wordsLearned[1]', expected: 'string', received: 'number' }]);
	assert.equal(item.message, 'vocabulary.lesson.completed: wordsLearned[1]: expected string, received number');
	assert.equal(refused(bus, 'vocabulary.lesson.completed', { ...lesson, wordsLearned: [] }).error, null);
	assert.equal(
		refused(bus, 'vocabulary.lesson.completed', { ...lesson, wordsLearned: { 0: 'a', length: 1 } }).error.issues[0].received,
		'object'
	);
});

test('literal unions refuse other strings and show the value', () => {
	const bus = new EventBus();
	const started = SEED['conversation.started'].valid;
	const { error } = refused(bus, 'conversation.started', { ...started, mode: 'casual' });
	assert.equal(error.message, "conversation.started: mode: expected 'traditional' | 'realtime', received 'casual'");
	assert.equal(refused(bus, 'conversation.started', { ...started, mode: 'realtime' }).error, null);
	// A literal of another schema is still refused here.
	assert.ok(refused(bus, 'conversation.started', { ...started, mode: 'assistant' }).error);
	const sent = SEED['conversation.message.sent'].valid;
	assert.ok(refused(bus, 'conversation.message.sent', { ...sent, role: 'traditional' }).error);
});

test('every issue is reported, the first one in the message', () => {
	const bus = new EventBus();
	const { error } = refused(bus, 'auth.user.login', { userId: 1, email: 'e', timestamp: 'now' });
	assert.deepEqual(
		error.issues.map((i) => `${i.path}:${i.received}`),
		['userId:number', 'tier:undefined', 'timestamp:string']
	);
	assert.match(error.message, /^auth\.user\.login: userId: expected string, received number$/);
});

test('unknown extra fields are allowed and kept', () => {
	const bus = new EventBus();
	let got;
	bus.on('auth.user.login', (p) => {
		got = p;
	});
	bus.emit('auth.user.login', { ...SEED['auth.user.login'].valid, plan: 'annual', nested: { a: 1 } });
	assert.equal(got.plan, 'annual');
	assert.deepEqual(got.nested, { a: 1 });
});

test('a refused emit is recorded as rejected with its issues, and no handler runs', () => {
	const bus = new EventBus();
	let calls = 0;
	bus.on('*', () => calls++);
	assert.throws(() => bus.emit('auth.user.login', { userId: 1 }), ValidationError);
	const [record] = bus.getEventHistory();
	assert.equal(record.status, 'rejected');
	assert.equal(record.name, 'auth.user.login');
	assert.equal(record.handlerCount, 0);
	assert.deepEqual(record.payload, { userId: 1 });
	assert.deepEqual(
		record.issues.map((i) => i.path),
		['userId', 'email', 'tier', 'timestamp']
	);
	assert.deepEqual(record.errors, ['auth.user.login: userId: expected string, received number']);
	assert.equal(calls, 0);
	bus.emit('auth.user.login', SEED['auth.user.login'].valid);
	assert.equal(calls, 1);
});

test('development mode: unknown events are delivered with one warning per name', async () => {
	const bus = new EventBus();
	let calls = 0;
	bus.on('*', () => calls++);
	const logged = await captureConsole(() => {
		bus.emit('cart.item.added', { sku: 'A' });
		bus.emit('cart.item.added', { sku: 'B' });
		bus.emit('userLogin', {});
		bus.emit('CONVERSATION_STARTED', {});
	});
	assert.equal(calls, 4);
	assert.equal(logged.warn.length, 3);
	assert.match(logged.warn[0][0], /no schema is registered for "cart\.item\.added"/);
	assert.match(logged.warn[1][0], /"userLogin" breaks the event naming convention/);
	assert.match(logged.warn[2][0], /"CONVERSATION_STARTED" breaks the event naming convention/);
	assert.deepEqual(
		bus.getEventHistory().map((r) => r.status),
		['delivered', 'delivered', 'delivered', 'delivered']
	);
});

test('strict mode: unknown events and bad names throw UnknownEventError and are recorded', () => {
	const bus = new EventBus({ mode: 'strict' });
	let calls = 0;
	bus.on('*', () => calls++);
	for (const name of ['cart.item.added', 'userLogin', 'CONVERSATION_STARTED']) {
		assert.throws(
			() => bus.emit(name, {}),
			(error) => {
				assert.ok(error instanceof UnknownEventError);
				assert.equal(error.name, 'UnknownEventError');
				assert.equal(error.event, name);
				return true;
			}
		);
	}
	assert.equal(calls, 0);
	assert.deepEqual(
		bus.getEventHistory().map((r) => r.status),
		['rejected', 'rejected', 'rejected']
	);
	assert.match(bus.getEventHistory()[1].errors[0], /naming convention/);
	bus.registerSchema({
		name: 'cart.item.added',
		version: '1.0.0',
		description: 'An item went into the cart',
		payload: { sku: 'string' }
	});
	bus.emit('cart.item.added', { sku: 'A' });
	assert.equal(calls, 1);
});

test('registerSchema round-trips: it validates, and getSchema returns the descriptor', () => {
	const bus = new EventBus();
	const schema = {
		name: 'cart.item.added',
		version: '1.2.0',
		description: 'An item went into the cart',
		payload: {
			sku: 'string',
			quantity: 'number',
			gift: 'boolean',
			addedAt: 'Date',
			tags: 'string[]',
			meta: 'object',
			anything: 'any',
			size: "'s' | 'm' | 'l'",
			note: 'string?'
		}
	};
	bus.registerSchema(schema);
	assert.deepEqual(bus.getSchema('cart.item.added'), {
		name: schema.name,
		version: schema.version,
		description: schema.description,
		audience: 'user',
		payload: Object.assign(Object.create(null), schema.payload)
	});
	const good = { sku: 'A', quantity: 2, gift: false, addedAt: at, tags: ['x'], meta: {}, anything: 0, size: 'm' };
	let got = null;
	bus.on('cart.item.added', (p) => {
		got = p;
	});
	bus.emit('cart.item.added', good);
	assert.equal(got, good);
	const bad = (key, value) => refused(bus, 'cart.item.added', { ...good, [key]: value }).error?.issues[0];
	assert.deepEqual(bad('gift', 'no'), { path: 'gift', expected: 'boolean', received: 'string' });
	assert.deepEqual(bad('size', 'xl'), { path: 'size', expected: "'s' | 'm' | 'l'", received: "'xl'" });
	assert.deepEqual(bad('anything', undefined), { path: 'anything', expected: 'any', received: 'undefined' });
	assert.deepEqual(bad('meta', null), { path: 'meta', expected: 'object', received: 'null' });
	assert.deepEqual(bad('note', 5), { path: 'note', expected: 'string', received: 'number' });
	assert.equal(bad('note', 'gift wrap'), undefined);
});

test('registerSchema refuses bad descriptors, naming the field and the text', () => {
	const bus = new EventBus();
	const base = { name: 'cart.item.added', version: '1.0.0', description: '' };
	const cases = [
		[{ ...base, payload: { when: 'Datetime' } }, /schema cart\.item\.added: field when: unknown type.*"Datetime"/],
		[{ ...base, payload: { size: "'s' | m" } }, /field size: every member of a literal union must be a quoted string.*"'s' \| m"/],
		[{ ...base, payload: { size: "'s" } }, /field size: unterminated string literal/],
		[{ ...base, payload: { x: '' } }, /field x: empty type/],
		[{ ...base, version: '1.0', payload: {} }, /version must be MAJOR\.MINOR\.PATCH: "1\.0"/],
		[{ ...base, name: 'cartItemAdded', payload: {} }, /naming convention/]
	];
	for (const [schema, message] of cases) assert.throws(() => bus.registerSchema(schema), { name: 'Error', message });
	const typeErrors = [
		[null, /schema must be an object/],
		[{ ...base, name: 5, payload: {} }, /schema name must be a string/],
		[{ ...base, version: 1, payload: {} }, /version must be a string/],
		[{ ...base, payload: 'sku: string' }, /payload must be an object of field descriptors/],
		[{ ...base, payload: { sku: String } }, /field sku: the descriptor must be a string/]
	];
	for (const [schema, message] of typeErrors) assert.throws(() => bus.registerSchema(schema), { name: 'TypeError', message });
	assert.equal(bus.getSchema('cart.item.added'), undefined, 'nothing was registered');
});

test('a descriptor is padded with ASCII spaces only, as the TypeScript types read it', () => {
	const bus = new EventBus();
	const base = { name: 'cart.item.added', version: '1.0.0', description: '' };
	bus.registerSchema({ ...base, payload: { when: ' Date ', size: " 's' | 'm' ?" } });
	assert.equal(bus.validate('cart.item.added', { when: at, size: 'm' }).ok, true);
	assert.equal(bus.validate('cart.item.added', { when: at }).ok, true, 'size is optional');
	assert.equal(bus.validate('cart.item.added', { when: at, size: 'x' }).ok, false);
	// A no-break space is not padding: the type it sits in is unknown.
	for (const text of ['Date\u00a0', '\u3000string', "'s' |\u00a0'm'"]) {
		const schema = { ...base, version: '2.0.0', payload: { when: text } };
		assert.throws(
			() => bus.registerSchema(schema),
			{ name: 'Error', message: /field when: (unknown type|every member)/ },
			JSON.stringify(text)
		);
	}
});

test('past seven fields, the fields after the seventh are still checked', () => {
	const bus = new EventBus();
	const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
	bus.registerSchema({
		name: 'wide.form.sent',
		version: '1.0.0',
		description: '',
		// Optional: a field the word cannot see would read as missing, which passes.
		payload: Object.fromEntries(keys.map((k) => [k, 'string?']))
	});
	const valid = Object.fromEntries(keys.map((k) => [k, k]));
	let calls = 0;
	bus.on('wide.form.sent', () => calls++);
	bus.emit('wide.form.sent', valid);
	assert.equal(calls, 1, 'the positive control: a valid payload is delivered');
	for (const key of ['g', 'h', 'i']) {
		assert.throws(() => bus.emit('wide.form.sent', { ...valid, [key]: 1 }), {
			name: 'ValidationError',
			message: new RegExp(`^wide\\.form\\.sent: ${key}: expected string, received number$`)
		});
	}
	assert.equal(calls, 1);
});

test('registering a name again needs a higher version, which then applies', () => {
	const bus = new EventBus();
	bus.on('auth.user.login', () => {});
	bus.emit('auth.user.login', SEED['auth.user.login'].valid);
	const v = (version, payload) => ({ name: 'auth.user.login', version, description: 'Login, v2', payload });
	assert.throws(() => bus.registerSchema(v('1.0.0', {})), { message: /version 1\.0\.0 is not higher than the registered 1\.0\.0/ });
	assert.throws(() => bus.registerSchema(v('0.9.9', {})), { message: /not higher/ });
	bus.registerSchema(v('2.0.0', { userId: 'string', method: "'password' | 'sso'", timestamp: 'Date' }));
	assert.equal(bus.getSchema('auth.user.login').version, '2.0.0');
	assert.throws(() => bus.emit('auth.user.login', SEED['auth.user.login'].valid), {
		message: "auth.user.login: method: expected 'password' | 'sso', received undefined"
	});
	bus.emit('auth.user.login', { userId: 'u1', method: 'sso', timestamp: at });
	assert.throws(() => bus.registerSchema(v('1.5.0', {})), { message: /not higher than the registered 2\.0\.0/ });
});

test('validate and validateEvent check without emitting', async () => {
	const bus = new EventBus();
	let calls = 0;
	bus.on('*', () => calls++);
	assert.deepEqual(bus.validate('auth.user.login', SEED['auth.user.login'].valid), { ok: true, known: true, issues: [] });
	const bad = bus.validate('auth.user.login', { userId: 'u' });
	assert.equal(bad.ok, false);
	assert.deepEqual(
		bad.issues.map((i) => i.path),
		['email', 'tier', 'timestamp']
	);
	assert.equal(bus.validateEvent('auth.user.login', SEED['auth.user.login'].valid), true);
	assert.equal(bus.validateEvent('auth.user.login', {}), false);
	const logged = await captureConsole(() => {
		assert.equal(bus.validateEvent('cart.item.added', {}), true);
	});
	assert.deepEqual(logged.warn, [['No schema found for event: cart.item.added']]);
	assert.equal(new EventBus({ mode: 'strict' }).validateEvent('cart.item.added', {}), false);
	assert.equal(calls, 0);
	assert.deepEqual(bus.getEventHistory(), []);
});

test('catalog: false leaves the catalog out', async () => {
	const bus = new EventBus({ catalog: false });
	assert.deepEqual(bus.getSchemaNames(), []);
	const logged = await captureConsole(() => bus.emit('auth.user.login', { userId: 1 }));
	assert.equal(logged.warn.length, 1);
	assert.throws(() => new EventBus({ catalog: false, mode: 'strict' }).emit('auth.user.login', {}), UnknownEventError);
});

test('payloads with throwing getters and Proxies are refused, not thrown through', () => {
	const bus = new EventBus();
	const valid = SEED['auth.user.login'].valid;
	const getter = Object.defineProperty({ ...valid }, 'email', {
		get() {
			throw new Error('no email for you');
		}
	});
	const { error } = refused(bus, 'auth.user.login', getter);
	assert.deepEqual(error.issues, [{ path: 'email', expected: 'string', received: 'a getter that threw' }]);
	const trap = new Proxy(
		{},
		{
			get() {
				throw new Error('trap');
			}
		}
	);
	assert.equal(refused(bus, 'auth.user.login', trap).error.issues.length, 4);
	const revocable = Proxy.revocable({}, {});
	revocable.revoke();
	assert.ok(refused(bus, 'auth.user.login', revocable.proxy).error instanceof ValidationError);
	bus.emit('auth.user.login', valid);
});
