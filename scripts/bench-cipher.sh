#!/usr/bin/env bash
# The cost of encrypting the device database (SQLCipher) against plaintext SQLite, run side by
# side in alternating pairs on the same made-up data, with gocua-search-bench:
#   search: 12,500 households (50,000 residents) filled from pull pages, 500 searches;
#   record: 1,000 households recorded one event per transaction, as a volunteer's phone does.
# Prints each run's figures and the ratio encrypted / plain of the medians.
# Usage: bash scripts/bench-cipher.sh [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
cargo build -q --release --locked -p gocua-sim --bin gocua-search-bench
bench="${CARGO_TARGET_DIR:-target}/release/gocua-search-bench"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for round in $(seq "$rounds"); do
  for mode in plain encrypted; do
    flag=(); [[ "$mode" == encrypted ]] && flag=(--encrypted)
    echo "round $round: search, $mode"
    "$bench" --households 12500 --queries 500 --fill pull "${flag[@]}" | tail -1 | sed "s/^/search $mode /" >>"$out"
    echo "round $round: record, $mode"
    "$bench" --households 1000 --queries 100 --fill record "${flag[@]}" | tail -1 | sed "s/^/record $mode /" >>"$out"
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    kind, mode, body = line.split(" ", 2)
    runs.setdefault((kind, mode), []).append(json.loads(body))
def med(kind, mode, key):
    return statistics.median(r[key] for r in runs[(kind, mode)])
for kind, keys in (("search", ("fill_seconds", "p50_ms", "p95_ms")), ("record", ("fill_seconds", "p50_ms"))):
    for key in keys:
        plain, enc = med(kind, "plain", key), med(kind, "encrypted", key)
        print(f"{kind:6} {key:12} plain {plain:9.3f}  encrypted {enc:9.3f}  ratio {enc / plain:5.2f}")
PY
