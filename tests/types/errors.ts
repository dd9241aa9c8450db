// Type tests of what the signature check (scripts/lib/api-check.mjs) made the
// .d.ts say as the JS does: the errors' constructors take what the JS reads
// (not Error's `(message, options)`), and the broadcast bus's BroadcastChannel
// option is a BroadcastChannel class.

import { ValidationError, UnknownEventError, EmitDepthError } from 'kaiwa-bus';
import { RelayError, createBroadcastBus } from 'kaiwa-bus/relay';
import { StoreError } from 'kaiwa-bus/store';

// A test double of a bus throws what the bus throws.
const invalid = new ValidationError('userId: expected string', 'auth.user.login', [{ path: 'userId', expected: 'string', received: 'number' }]);
const issues: { path: string }[] = invalid.issues;
const unknown = new UnknownEventError('no schema', 'x.y');
const deep = new EmitDepthError('too deep', 'x.y');
const refused = new RelayError('rate', 'over --rate');
const full = new StoreError('quota', 'storage is full', new DOMException('full', 'QuotaExceededError'));
void [issues, unknown.event, deep.event, refused.kind, full.kind];

// @ts-expect-error the event's name comes second, not Error's options
new ValidationError('bad', { cause: 1 }, []);
// @ts-expect-error the issues are required
new ValidationError('bad', 'x.y');
// @ts-expect-error the event's name is required
new UnknownEventError('no schema');
// @ts-expect-error a StoreError's kind comes first
new StoreError('storage is full');
// @ts-expect-error not a kind of StoreError
new StoreError('full', 'storage is full');
// @ts-expect-error not a kind of RelayError
new RelayError('slow', 'over --rate');

createBroadcastBus({ channel: 'app', BroadcastChannel });
// @ts-expect-error the BroadcastChannel option is a BroadcastChannel class
createBroadcastBus({ channel: 'app', BroadcastChannel: 42 });
