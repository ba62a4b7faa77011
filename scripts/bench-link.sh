#!/usr/bin/env bash
# Benchmark: one simulated phone records VISITS visits offline (households of four made-up
# residents, one visit each), then syncs through gocua-linksim with PROFILE in front of a real
# gocua-server on a temp SQLite file. Prints the simulator's JSON line.
# Usage: bash scripts/bench-link.sh [PROFILE=edge] [VISITS=500] [SEED=1]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-edge}" visits="${2:-500}" seed="${3:-1}"
cargo build -q --release --locked -p gocua-server -p gocua-linksim -p gocua-sim
bin="${CARGO_TARGET_DIR:-target}/release"
dir="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin/gocua-server" admin --database "$dir/s.sqlite" import-places >/dev/null 2>&1
for i in 1 2; do
  "$bin/gocua-server" admin --database "$dir/s.sqlite" add-place --code "03445-0$i" --name "Bản $i" \
    --level hamlet --parent 03445 >/dev/null 2>&1
done
GOCUA_LOG=warn "$bin/gocua-server" serve --listen 127.0.0.1:0 --database "$dir/s.sqlite" >"$dir/server.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'listening on' "$dir/server.out" && break; sleep 0.1; done
server="$(grep -o 'http://[^ ]*' "$dir/server.out")"
"$bin/gocua-linksim" --upstream "${server#http://}" --profile "$profile" >"$dir/proxy.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'listening on' "$dir/proxy.out" && break; sleep 0.1; done
proxy="http://$(awk '{print $4}' "$dir/proxy.out")"
"$bin/gocua-sim" --server "$proxy" --devices 1 --visits "$visits" --seed "$seed" --admin-database "$dir/s.sqlite" | tail -1
