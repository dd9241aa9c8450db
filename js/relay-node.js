// `kaiwa-bus/relay` in Node: loads the WebAssembly module first (as the
// `kaiwa-bus` Node entry does at import), so a relay-only import works.

import './node.js';

export * from './relay.js';
