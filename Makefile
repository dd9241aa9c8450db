# kaiwa-bus: the two commands are `make demo` and `make test`.
# Every target installs what it needs first (scripts/setup.sh), so a fresh
# machine of this kind needs nothing else.

WASM_BINDGEN_VERSION := $(shell scripts/wasm-bindgen-version.sh)
export PATH := $(HOME)/.cache/kaiwa-bus/wasm-bindgen-$(WASM_BINDGEN_VERSION)/bin:$(PATH)
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER := wasm-bindgen-test-runner
PORT ?= 5173

.PHONY: all setup pkg check test test-rust test-js test-relay test-browser audit advisories demo flake bench bench-store bench-transports types fuzz clean relay bench-relay soak-relay release

all: pkg

setup:
	scripts/setup.sh all

# The npm package, in pkg/.
pkg:
	scripts/setup.sh rust
	scripts/setup.sh node
	cargo build --lib --release --target wasm32-unknown-unknown --features wasm-no-std
	wasm-bindgen --target web --no-typescript --out-dir target/pkg-raw \
		target/wasm32-unknown-unknown/release/kaiwa_bus.wasm
	node scripts/build-pkg.mjs --gufa -O3 --low-memory-unused --zero-filled-memory --converge

# Every suite, with a summary of the tests each ran; fails if any ran none.
test: setup
	node scripts/test.mjs

# The quick checks before a commit (seconds with warm caches): rustfmt, eslint, prettier, clippy
# (host, wasm32 with and without std, relay), tsc, the Rust unit tests and the package's Node suites.
check:
	scripts/setup.sh rust
	scripts/setup.sh node
	node scripts/test.mjs check

# One group of make test's steps each (scripts/test.mjs says which step is in which group).
test-rust test-js test-relay test-browser: setup
	node scripts/test.mjs $(@:test-%=%)

# Builds the package, the relay and the www/ demo, and serves it on 127.0.0.1:$(PORT)
# next to kaiwa-relay on a free port (REDIS_URL=redis://… for the relay on Redis).
demo: setup pkg relay
	node scripts/demo.mjs $(PORT)

# The benchmark against mitt & co., written to bench/results/.
bench: setup pkg
	node bench/run.mjs
	node bench/store.mjs
	cargo build -p kaiwa-relay
	node bench/transports.mjs

# Leaving the page: emit cost on 'broadcast' and relay buses, tab-to-tab latency: bench/results/transports.{md,json}.
bench-transports: setup pkg
	cargo build -p kaiwa-relay
	node bench/transports.mjs

# The Event Store's part of the benchmark alone (Chromium), written to bench/results/store.{md,json}.
bench-store: setup pkg
	node bench/store.mjs

# Rewrites js/core/events.d.ts from the Rust catalog, js/core/contract.js from src/limits.rs and the probe
# encoding, and js/relay/contract.js from relay/src/protocol.rs (close codes, frame types, refusal kinds).
types:
	KAIWA_WRITE_TYPES=1 cargo test --lib _is_current
	KAIWA_WRITE_TYPES=1 cargo test -p kaiwa-relay --test contract _is_current

# One suite's command N times in a row; fails if any run failed (a flake count):
# make flake SUITE='cargo test -p kaiwa-relay --test documented' N=20
N ?= 20
flake:
	node scripts/flake.mjs "$(SUITE)" $(N)

# A longer fuzz run than the one in `make test`.
fuzz:
	PROPTEST_CASES=2000000 cargo test --release --test fuzz

# Licences, bans and sources of every Rust crate in the .wasm, the relay and the tests (cargo-deny,
# deny.toml; offline), and the licences of what the npm packages bring into a user's project.
# cargo-deny is built once into ~/.cache/kaiwa-bus first (many minutes).
CARGO_DENY = $(shell scripts/setup.sh deny-bin)
audit:
	scripts/setup.sh deny
	scripts/setup.sh node
	$(CARGO_DENY) --workspace check licenses bans sources
	node scripts/npm-licenses.mjs

# Known vulnerabilities: RustSec's advisory database (cargo-deny fetches it from GitHub) and npm's
# audit endpoint. Neither is reachable from this project's machines: there this fails, and says why.
advisories:
	scripts/setup.sh deny
	scripts/setup.sh node
	status=0; $(CARGO_DENY) --workspace check advisories || status=1; npm audit || status=1; exit $$status

# The relay server (relay/): target/release/kaiwa-relay.
relay:
	scripts/setup.sh rust
	cargo build --release -p kaiwa-relay

# What goes to npm, packed into target/npm-release/: kaiwa-bus, and kaiwa-relay with its
# static linux-x64 and linux-arm64 binary packages (zig and cargo-zigbuild installed first);
# prints each package's size and the publish commands. Publishes nothing.
release: setup pkg
	scripts/setup.sh cross
	node scripts/release.mjs

# The relay against socket.io + @socket.io/redis-streams-adapter: bench/results/relay.{md,json}.
bench-relay: relay
	scripts/setup.sh redis
	cargo build --release -p kaiwa-relay --example loadgen --example floor
	cd bench/relay && npm ci --no-audit --no-fund
	node bench/relay/run.mjs

# The relay on each engine under the attacks of issue 19 beside legitimate clients, loopback
# only, about 6 minutes (SOAK_SECONDS per engine, 150 by default): bench/results/soak-relay.{md,json}.
SOAK_SECONDS ?= 150
soak-relay: relay
	scripts/setup.sh redis
	cargo build --release -p kaiwa-relay --example soak
	target/release/examples/soak $(SOAK_SECONDS)

clean:
	rm -rf target pkg node_modules www/node_modules www/build www/.svelte-kit test-output
