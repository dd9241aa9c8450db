#!/usr/bin/env bash
# Prints the exact wasm-bindgen version pinned in Cargo.toml (`wasm-bindgen = "=X.Y.Z"`):
# the CLI that processes the .wasm must match it to the patch level.
set -euo pipefail
cd "$(dirname "$0")/.."
sed -n 's/^wasm-bindgen = { *version = "=\([0-9.]*\)".*/\1/p; s/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' Cargo.toml | head -n 1
