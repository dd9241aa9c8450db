// Generated from src/contract.rs by `make types`: do not edit. The facts JS
// shares with Rust: limits, and the payload probe encoding.

export const MAX_NAME_LEN = 1024;
export const MAX_NAMES = 131072;
export const MAX_DEPTH = 64;
export const DEFAULT_HISTORY_LIMIT = 1000;
export const MAX_ERRORS_PER_RECORD = 20;
export const MAX_ERROR_LEN = 500;
export const MAX_VERSION_LEN = 64;
export const MAX_DESCRIPTION_LEN = 4096;
export const MAX_FIELDS = 256;
export const MAX_DESCRIPTOR_LEN = 4096;
export const KINDS_PER_WORD = 8;
export const KIND_BITS = 4;
export const PROBE_EXTRAS = 2;

// Kind codes, by the Rust enum's variant names.
export const KIND = Object.freeze({
	Missing: 0,
	Null: 1,
	String: 2,
	Literal: 3,
	Number: 4,
	NonFinite: 5,
	Boolean: 6,
	Date: 7,
	InvalidDate: 8,
	Array: 9,
	Object: 10,
	Function: 11,
	BigInt: 12,
	Symbol: 13,
	Threw: 14,
});

// How a kind is named in issues, by code.
export const KIND_NAMES = Object.freeze([
	"undefined",
	"null",
	"string",
	"string",
	"number",
	"NaN",
	"boolean",
	"Date",
	"Invalid Date",
	"array",
	"object",
	"function",
	"bigint",
	"symbol",
	"a getter that threw",
]);

// How the reader looks at a field.
export const READ_MODE = Object.freeze({
	Kind: 0,
	Literal: 1,
	StringItems: 2,
});

// Who receives an event through the relay (a schema's `audience`), the default first.
export const AUDIENCES = Object.freeze(['user', 'all', 'group']);

// Characters no event name or pattern may hold (src/base.rs HIDDEN_CHARS).
export const HIDDEN_IN_NAMES = /[\u{0}-\u{1F}\u{7F}-\u{9F}\u{AD}-\u{AD}\u{34F}-\u{34F}\u{61C}-\u{61C}\u{115F}-\u{1160}\u{17B4}-\u{17B5}\u{180B}-\u{180F}\u{200B}-\u{200F}\u{2028}-\u{202E}\u{2060}-\u{206F}\u{3164}-\u{3164}\u{FE00}-\u{FE0F}\u{FEFF}-\u{FEFF}\u{FFA0}-\u{FFA0}\u{FFF0}-\u{FFFB}\u{1BCA0}-\u{1BCA3}\u{1D173}-\u{1D17A}\u{E0000}-\u{E0FFF}]/u;
