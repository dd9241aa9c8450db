// Uint8Array.fromBase64 (ES2026), which js/inline.js uses where the runtime has it; lib es2024 lacks it.
interface Uint8ArrayConstructor {
	fromBase64(base64: string): Uint8Array;
}
