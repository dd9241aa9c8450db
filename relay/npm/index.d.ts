/**
 * The path of the kaiwa-relay binary for this platform (from the
 * `@kaiwa-relay/<platform>` package npm installed, or `KAIWA_RELAY_BINARY`).
 * Throws an Error that says what to do when there is none.
 */
export declare function binaryPath(): string;
