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
cargo test --workspace --locked
