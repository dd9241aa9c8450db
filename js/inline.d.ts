// kaiwa-bus/inline: the same API as kaiwa-bus (index.d.ts); only how the
// module loads differs. Beside inline.js so that resolvers without the
// exports map (TypeScript's node10) find these types too.
export * from './index.js';
export { default } from './index.js';
