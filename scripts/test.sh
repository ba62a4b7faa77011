#!/usr/bin/env bash
# Runs every check and test: UI and dashboard type checks, unit tests and builds; stale-bindings check; cargo
# fmt and clippy; Rust unit, property and end-to-end tests (the real server binary on loopback),
# the server's tests again on PostgreSQL (private clusters from Debian's postgresql); the district
# dashboard in headless Chromium (Debian's, driven by playwright-core) against the real server;
# the real app in a real window under Xvfb (tauri-driver + WebKitWebDriver); the office's .deb
# installed and started in a fresh Debian root (where tauri-cli is installed); and the dependency
# audit (scripts/audit-deps.sh).
# Installs what is missing first. Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
ensure_rust
ensure_tauri_libs
ensure_window_test_tools
# Debian's postgresql and nginx when missing (their system services stopped again): the server
# tests start private PostgreSQL clusters from its binaries on free loopback ports, and the
# topology tests nginx with its own prefix (gocua_server_postgres::testing, scripts/topology.sh);
# LibreOffice Calc reads the appendix the report test exports (tests/tests/appendix.rs).
# Before any cargo test: the workspace's test build turns on the backend's `testing` feature.
ensure_postgres
ensure_nginx
ensure_libreoffice
ensure_chromium

# where cargo puts the binaries (absolute: the dashboard's browser tests run from web/)
target="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "== ui: install, type check, unit tests, build"
build_ui
(cd ui && npm run check && NO_COLOR=1 npm test) 2>&1 | tee -a "$log"
echo "== the district dashboard (web/): install, type check, unit tests, build"
build_web
(cd web && npm run check && NO_COLOR=1 npm test) 2>&1 | tee -a "$log"
echo "== bindings"
bash scripts/bindings.sh --check
echo "== cargo fmt"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --locked --all-targets -p gocua-e2e --features postgres-tests,window-tests -- -D warnings
cargo clippy --locked --all-targets -p gocua-server-postgres --features testing -- -D warnings
echo "== cargo test"
# --workspace builds gocua-server's binary (its own integration tests need it) before any test
# runs, so the end-to-end tests in tests/ always start the binary of this very commit.
cargo test --workspace --all-targets --locked 2>&1 | tee -a "$log"
echo "== the story suite on PostgreSQL"
GOCUA_TEST_BACKEND=postgres cargo test --locked -p gocua-server --lib 2>&1 | tee -a "$log"
# The model-based property test runs 500 cases on SQLite above; here 60 (each case is a fresh
# PostgreSQL database): enough to catch a backend that differs, within the CI budget.
GOCUA_TEST_BACKEND=postgres PROPTEST_CASES=60 cargo test --locked -p gocua-e2e --features postgres-tests --tests 2>&1 | tee -a "$log"
cargo test --locked -p gocua-server-postgres --features testing 2>&1 | tee -a "$log"
echo "== the dashboard in a real browser (headless Chromium) against the real server"
cargo build --locked -p gocua-server -p gocua-sim
(cd web && GOCUA_SERVER_BIN="$target/debug/gocua-server" GOCUA_SIM_BIN="$target/debug/gocua-sim" node --test tests/) 2>&1 | tee -a "$log"
echo "== the app in a real window"
cargo build --locked -p gocua-app
bash scripts/with-keyring.sh xvfb-run -a --server-args="-screen 0 1280x1024x24" \
  cargo test --locked -p gocua-e2e --features window-tests --test app_window --test app_window_import --test app_window_office --test app_window_reports 2>&1 | tee -a "$log"
echo "== the office's .deb: built, installed with apt in a fresh Debian 12 root, started there"
if command -v cargo-tauri >/dev/null; then
  deb="$(bash scripts/package-deb.sh)"
  bash scripts/test-deb.sh "$deb"
else
  # installing tauri-cli and a release build of the app take ~50 min on a new machine
  echo "NOT RUN (not counted): tauri-cli is not installed here; run bash scripts/test-deb.sh \"\$(bash scripts/package-deb.sh)\""
fi
echo "== dependency audit (cargo audit against the local RustSec copy; npm audit)"
bash scripts/audit-deps.sh

# One closing line over every runner (cargo prints one per test binary, vitest one in all,
# node's test runner "# pass N" and "# fail N").
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     /^ *Tests +[0-9]+ (passed|failed)/ { for (i = 1; i <= NF; i++) { if ($i == "passed") p += $(i-1); if ($i == "failed") f += $(i-1) } }
     /^# pass [0-9]+$/ { p += $3 }
     /^# fail [0-9]+$/ { f += $3 }
     END { printf "tests: %d passed, %d failed\n", p, f; if (p == 0 || f > 0) exit 1 }' "$log"
