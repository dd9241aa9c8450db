#!/usr/bin/env bash
# Installs what `make test`, `make demo` and `make bench` need, when it is missing:
# the wasm32 and x86_64 musl targets (with Debian's musl-tools), the
# wasm-bindgen CLI pinned to the crate's exact version (built once into a
# cache outside the clone), Debian's Chromium with its
# matching ChromeDriver, Debian's redis-server (the relay's tests start their
# own on a free loopback port), Node.js 18 and 22 from the npm registry (for
# the suites that run on them), and the npm packages of the tooling and the demo.
# Safe to run again: each step checks first and does nothing when done.
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-all}   # all | rust | musl | browser | redis | node | cross | cross-path | deny | deny-bin

rust() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown \
    || rustup target add wasm32-unknown-unknown
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

  local version bin
  version=$(scripts/wasm-bindgen-version.sh)
  bin="$HOME/.cache/kaiwa-bus/wasm-bindgen-$version/bin/wasm-bindgen"
  if [ ! -x "$bin" ]; then
    echo "setup: building wasm-bindgen-cli $version (about 7 minutes, once per machine)"
    # No --locked: the registry lacks one of the CLI's locked dependencies.
    cargo install wasm-bindgen-cli --version "=$version" \
      --root "$HOME/.cache/kaiwa-bus/wasm-bindgen-$version"
  fi
}

browser() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "setup: installing Debian's chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
}

redis() {
  if ! command -v redis-server >/dev/null; then
    echo "setup: installing Debian's redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq redis-server >/dev/null
  fi
}

node_modules() {
  # `npm ci` when the lock file matches, so every machine gets the same tree.
  [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
    || npm ci --no-audit --no-fund --loglevel=error
  # The www/ demo's SvelteKit tool chain. kaiwa-bus itself is not in its lock
  # file: scripts/demo.mjs installs the packed tarball after `make pkg`.
  [ -d www/node_modules ] && [ www/node_modules/.package-lock.json -nt www/package-lock.json ] \
    || (cd www && npm ci --no-audit --no-fund --loglevel=error)
  # Other Node.js versions, cached outside the clone.
  scripts/node-bin.sh 18 >/dev/null
  scripts/node-bin.sh 22 >/dev/null
}

# The relay's static linux-x64 binary (the npm package's; make test packs
# and runs it): Rust's musl target, and Debian's musl-gcc for the C in ring
# and mimalloc.
musl() {
  rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
    || rustup target add x86_64-unknown-linux-musl
  if ! command -v x86_64-linux-musl-gcc >/dev/null; then
    echo "setup: installing Debian's musl-tools"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq musl-tools >/dev/null
  fi
}

# The linux-arm64 binary, for `make release` only: cross-compiled with zig as
# the C compiler and linker (the ziglang package from PyPI) through
# cargo-zigbuild (from crates.io), both cached outside the clone; Debian's
# qemu-user-static runs it once to check it serves.
ZIG_VERSION=0.15.2
ZIGBUILD_VERSION=0.24.1
cross() {
  rustup target list --installed | grep -qx aarch64-unknown-linux-musl \
    || rustup target add aarch64-unknown-linux-musl
  local dir="$HOME/.cache/kaiwa-bus/cross"
  if [ ! -x "$dir/ziglang-$ZIG_VERSION/ziglang/zig" ]; then
    echo "setup: installing zig $ZIG_VERSION (PyPI: ziglang)"
    python3 -m pip install --quiet --disable-pip-version-check --target "$dir/ziglang-$ZIG_VERSION" "ziglang==$ZIG_VERSION"
  fi
  if ! command -v qemu-aarch64-static >/dev/null; then
    echo "setup: installing Debian's qemu-user-static (the release runs the arm64 binary once)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq qemu-user-static >/dev/null
  fi
  if [ ! -x "$dir/cargo-zigbuild-$ZIGBUILD_VERSION/bin/cargo-zigbuild" ]; then
    echo "setup: building cargo-zigbuild $ZIGBUILD_VERSION (a few minutes, once per machine)"
    cargo install --locked cargo-zigbuild --version "=$ZIGBUILD_VERSION" --root "$dir/cargo-zigbuild-$ZIGBUILD_VERSION"
  fi
}

# cargo-deny, for `make audit` and `make advisories` only, built from crates.io into the cache
# (about 200 crates: many minutes, once per machine).
DENY_VERSION=0.20.2
deny_bin() {
  echo "$HOME/.cache/kaiwa-bus/cargo-deny-$DENY_VERSION/bin/cargo-deny"
}
deny() {
  if [ ! -x "$(deny_bin)" ]; then
    echo "setup: building cargo-deny $DENY_VERSION (many minutes, once per machine)"
    cargo install --locked cargo-deny --version "=$DENY_VERSION" --root "$HOME/.cache/kaiwa-bus/cargo-deny-$DENY_VERSION"
  fi
}

# Where cross() put zig and cargo-zigbuild, for scripts/release.mjs's PATH.
cross_path() {
  local dir="$HOME/.cache/kaiwa-bus/cross"
  echo "$dir/ziglang-$ZIG_VERSION/ziglang:$dir/cargo-zigbuild-$ZIGBUILD_VERSION/bin"
}

case "$want" in
  rust) rust ;;
  musl) musl ;;
  cross) cross ;;
  cross-path) cross_path ;;
  deny) deny ;;
  deny-bin) deny_bin ;;
  browser) browser ;;
  redis) redis ;;
  node) node_modules ;;
  all) rust; musl; browser; redis; node_modules ;;
  *) echo "usage: scripts/setup.sh [all|rust|musl|browser|redis|node|cross|cross-path|deny|deny-bin]" >&2; exit 2 ;;
esac
