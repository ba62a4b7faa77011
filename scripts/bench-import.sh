#!/usr/bin/env bash
# Benchmark (issue 14): validate and import a police list of ROWS rows (default 50,000) the way
# the office app will (crates/import/examples/plan_file.rs): read the XLSX, find the columns,
# repair and validate every row, plan households and people, turn the plan into events against
# the office's encrypted device store and record them in one transaction; then import the same
# file again (nothing to record). Prints each step's seconds and the peak RSS (VmHWM).
# The list is made up (gocua-import's generator, a few planted errors), made before timing.
# Usage: bash scripts/bench-import.sh [RUNS=3]   ROWS=50000 CSV=1 for a CSV list
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=ensure-tools.sh
source scripts/ensure-tools.sh
ensure_rust
runs="${1:-3}"
rows="${ROWS:-50000}"
ext=xlsx
csv_flag=()
if [ "${CSV:-0}" = 1 ]; then ext=csv; csv_flag=(--csv); fi

cargo build -q --release --locked -p gocua-import --example plan_file
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
cp "${CARGO_TARGET_DIR:-target}/release/examples/plan_file" "$dir/"
"$dir/plan_file" --generate "$rows" "${csv_flag[@]}" --out "$dir/list.$ext"
for run in $(seq "$runs"); do
  rm -f "$dir"/office.*
  echo "== run $run: import into a new office store"
  "$dir/plan_file" "$dir/list.$ext" --record "$dir/office.sqlite"
  echo "== run $run: the same file again"
  "$dir/plan_file" "$dir/list.$ext" --record "$dir/office.sqlite"
done
