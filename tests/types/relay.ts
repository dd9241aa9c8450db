// Type tests for kaiwa-bus/relay: the relay and broadcast buses are typed like the bus they wrap.

import { createBroadcastBus, createRelayBus } from 'kaiwa-bus/relay';

const at = new Date();
const relay = createRelayBus({ url: 'ws://127.0.0.1:8787/v1/ws', token: null, outbox: 'indexeddb' });
export const stored: Promise<{ offset: string }> = relay.emit('auth.user.logout', { userId: 'u1', timestamp: at });
// @ts-expect-error userId must be a string
relay.emit('auth.user.logout', { userId: 1, timestamp: at });
// @ts-expect-error outbox is 'memory' or 'indexeddb'
createRelayBus({ url: 'ws://x', outbox: 'disk' });
relay.onConnection((connection) => connection.state === 'open' && connection.leader);

const tabs = createBroadcastBus({ channel: 'app' });
tabs.on('auth.user.login', (user) => user.email);
// @ts-expect-error no such event
tabs.emit('auth.user.nope', {});
