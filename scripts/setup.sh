#!/usr/bin/env bash
# Installs what `make test`, `make demo` and `make bench` need, when it is missing:
# the wasm32 target, the wasm-bindgen CLI pinned to the crate's exact version
# (built once into a cache outside the clone), Debian's Chromium with its
# matching ChromeDriver, Debian's redis-server (the relay's tests start their
# own on a free loopback port), Node.js 18 and 22 from the npm registry (for
# the suites that run on them), and the npm packages of the tooling and the demo.
# Safe to run again: each step checks first and does nothing when done.
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-all}   # all | rust | browser | redis | node

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

case "$want" in
  rust) rust ;;
  browser) browser ;;
  redis) redis ;;
  node) node_modules ;;
  all) rust; browser; redis; node_modules ;;
  *) echo "usage: scripts/setup.sh [all|rust|browser|redis|node]" >&2; exit 2 ;;
esac
