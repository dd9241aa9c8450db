// js/wasm-inline.js, which `make pkg` writes into pkg/ (the .wasm as base64); tsconfig's rootDirs
// lets js/inline.js find this in its place.
declare const wasmBase64: string;
export default wasmBase64;
