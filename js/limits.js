// The limits the bus enforces, as src/limits.rs defines them. JS checks
// lengths before copying a string into wasm memory.
export const MAX_NAME_LEN = 1024;
export const MAX_DEPTH = 64;
export const MAX_ERROR_LEN = 500;
export const MAX_VERSION_LEN = 64;
export const MAX_DESCRIPTION_LEN = 4096;
export const MAX_FIELDS = 256;
export const MAX_DESCRIPTOR_LEN = 4096;
