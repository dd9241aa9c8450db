// `kaiwa-bus/store` in Node: the Node entry's loader, so that a store-only import
// creates buses (the module is compiled when the first one is).

import '../node.js';

export * from './index.js';
