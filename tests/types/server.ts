// Type tests of kaiwa-bus/server: relayToken's options, and publish's events
// typed by the event map (the catalog's, or the app's through its type
// parameter), with either a secret or a token.

import { defineEvents, type EventsOf } from 'kaiwa-bus';
import { RelayError, publish, relayToken } from 'kaiwa-bus/server';

const secret: string | undefined = 'from the environment';
const url = 'http://127.0.0.1:8787';
const at = new Date();

export const token: Promise<string> = relayToken({ secret, sub: 'alice', publish: ['cart.*'], subscribe: ['*'], admin: false, groups: ['team-1'], ttl: 60 });
// @ts-expect-error sub is required
relayToken({ secret });
// @ts-expect-error groups is a list of group ids
relayToken({ secret, sub: 'alice', groups: 'team-1' });
// @ts-expect-error a misspelt option is an error
relayToken({ secret, sub: 'alice', subscirbe: ['*'] });

export const stored: Promise<Array<{ offset: string }>> = publish({ url, secret }, [{ name: 'auth.user.logout', payload: { userId: 'u1', timestamp: at } }]);
publish({ url, token: 'a.b.c' }, [{ name: 'auth.user.logout', payload: { userId: 'u1', timestamp: at }, ref: 'logout-u1' }]);
// @ts-expect-error a secret or a token, not both
publish({ url, secret, token: 'a.b.c' }, []);
// @ts-expect-error timestamp is a Date
publish({ url, secret }, [{ name: 'auth.user.logout', payload: { userId: 'u1', timestamp: 'now' } }]);
// @ts-expect-error not an event of the map
publish({ url, secret }, [{ name: 'auth.user.logot', payload: {} }]);

const shop = defineEvents({ 'shop.notice.posted': { payload: { text: 'string', at: 'Date' } } });
publish<EventsOf<typeof shop>>({ url, secret }, [{ name: 'shop.notice.posted', payload: { text: 'Closed on Sunday', at } }]);
// @ts-expect-error text is a string
publish<EventsOf<typeof shop>>({ url, secret }, [{ name: 'shop.notice.posted', payload: { text: 1, at } }]);

export const failed = (error: unknown) => error instanceof RelayError && error.kind;
