#!/usr/bin/env bash
# Runs every check and test: formatting, lints, unit, property and end-to-end tests.
# Installs what is missing first. Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
ensure_rust
ensure_c_toolchain

echo "== cargo fmt"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
# --workspace builds gocua-server's binary (its own integration tests need it) before any test
# runs, so the end-to-end tests in tests/ always start the binary of this very commit.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-targets --locked 2>&1 | tee "$log"
# One closing line over every test binary (cargo prints one per binary, the last often empty).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f; if (p == 0) exit 1 }' "$log"
