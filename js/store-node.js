// `kaiwa-bus/store` in Node: loads the WebAssembly module first (as the
// `kaiwa-bus` Node entry does at import), so a store-only import works.

import './node.js';

export * from './store.js';
