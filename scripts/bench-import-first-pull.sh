#!/usr/bin/env bash
# Benchmark (issue 14): the first sync of a commune seeded by a police-list import to a new
# volunteer's phone. A fresh server (SQLite file, or PostgreSQL primary + streaming standby from
# scripts/topology.sh --no-servers, pages read on the standby) gets commune 03445's hamlets
# (those of gocua-import's generator) and a commune-police user with a one-time code. Then
# crates/import/examples/plan_file.rs, as the office app: enrolls a new encrypted office store
# with that code, imports a made-up ROWS-row XLSX police list (read, columns, plan, events_for,
# DeviceStore::record_import) and pushes it with the real sync engine (sync_once over
# HttpTransport, batches of 100, waiting out the server's per-device budget: not measured).
# Then, RUNS times, each link in LINKS:
#   gocua-sim --visits 0 --link LINK   a newly enrolled volunteer phone of the commune (the real
#                                       client: device store, sync engine, HTTP transport) does
#                                       its first sync through the in-process link emulator
# and once `gocua-load pull-profile`: the same download page by page on loopback, the server's
# and the phone store's time apart, and where the bytes go.
# Prints each run's JSON line and a table.
# Usage: bash scripts/bench-import-first-pull.sh [RUNS=2]
#   ROWS=50000; BACKENDS="sqlite" (default; "sqlite postgres" for both); LINKS="clean edge".
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
# shellcheck source-path=SCRIPTDIR source=ensure-tools.sh
source scripts/ensure-tools.sh
ensure_rust
command -v python3 >/dev/null 2>&1 || apt_install python3
runs="${1:-2}"
rows="${ROWS:-50000}" backends="${BACKENDS:-sqlite}" links="${LINKS:-clean edge}"

cargo build -q --release --locked -p gocua-server -p gocua-sim
cargo build -q --release --locked -p gocua-import --example plan_file
dir="$(mktemp -d)"
topology=""
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$topology" ]; then bash "$repo/scripts/topology.sh" stop --dir "$topology" || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bin="$dir/bin"
mkdir "$bin"
target="${CARGO_TARGET_DIR:-target}/release"
cp "$target/"{gocua-server,gocua-load,gocua-sim} "$target/examples/plan_file" "$bin/"

if [[ " $backends " == *" postgres "* ]]; then
  env_out="$(GOCUA_SERVER_BIN="$bin/gocua-server" bash scripts/topology.sh start --no-servers)"
  topology="$(sed -n 's/^TOPOLOGY_DIR=//p' <<<"$env_out")"
  pg() { sed -n "s/^$1=//p" <<<"$env_out"; }
  pg_bin="$(pg PG_BIN)" pg_host="$(pg PGHOST)" pg_port="$(pg PGPORT)" replica_port="$(pg REPLICA_PORT)"
fi

echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates migrations || echo ' plus uncommitted changes'); $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/plan_file" --generate "$rows" --out "$dir/list.xlsx"
results="$dir/results.jsonl"
for backend in $backends; do
  read_db=()
  case "$backend" in
    sqlite) db="$dir/commune.sqlite" ;;
    postgres)
      "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_host" -p "$pg_port" -U postgres -d postgres -c "CREATE DATABASE gocua_commune" >/dev/null
      db="postgres://postgres@127.0.0.1:$pg_port/gocua_commune"
      read_db=(--read-database "postgres://postgres@127.0.0.1:$replica_port/gocua_commune") ;;
  esac
  admin() { "$bin/gocua-server" admin --database "$db" "$@" 2>/dev/null; }
  admin import-places >/dev/null
  while IFS=$'\t' read -r code name; do
    admin add-place --code "$code" --name "$name" --level hamlet --parent 03445 >/dev/null
  done < <("$bin/plan_file" --list-hamlets)
  office_code="$(admin create-code --user "$(admin add-user --name "Trần Văn Công" --role commune-police --scope 03445)")"
  GOCUA_LOG=warn "$bin/gocua-server" serve --listen 127.0.0.1:0 --database "$db" "${read_db[@]}" >"$dir/server.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do grep -qs 'listening on' "$dir/server.out" && break; sleep 0.1; done
  server="$(grep -o 'http://[^ ]*' "$dir/server.out")" || { cat "$dir/server.out" >&2; exit 1; }

  echo "$backend: the office imports the list and pushes it"
  rm -f "$dir"/office.*
  "$bin/plan_file" "$dir/list.xlsx" --record "$dir/office.sqlite" --push "$server" --code "$office_code"
  echo "$backend: $(admin count-events | tr '\n' ' ')"
  # the standby must hold everything before a page is read there
  sleep 2
  for round in $(seq "$runs"); do
    for link in $links; do
      line="$("$bin/gocua-sim" --server "$server" --admin-database "$db" --devices 1 --visits 0 --link "$link" | tail -1)"
      python3 -c 'import json,sys; l=json.loads(sys.argv[1]); l.update(backend=sys.argv[2], link=sys.argv[3], run=int(sys.argv[4]), loadavg=open("/proc/loadavg").read().split()[:3]); print(json.dumps(l))' \
        "$line" "$backend" "$link" "$round" >>"$results"
      echo "$backend $link run $round: $(tail -1 "$results")"
    done
  done
  profile="$("$bin/gocua-load" pull-profile --server "$server" --admin-database "$db" 2>/dev/null | tail -1)"
  python3 -c 'import json,sys; l=json.loads(sys.argv[1]); l.update(backend=sys.argv[2], link="profile"); print(json.dumps(l))' \
    "$profile" "$backend" >>"$results"
  echo "$backend profile: $profile"
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
done

python3 - "$results" <<'EOF_PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print()
print("| backend | link | run | events pulled | pages | sync s | wire bytes down | wire bytes up | body bytes down | wire bytes down per event | load |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for r in rows:
    if r["link"] == "profile":
        continue
    print(f"| {r['backend']} | {r['link']} | {r['run']} | {r['events_pulled']:,} | {r['pull_pages']} | {r['sync_seconds']:.2f} | "
          f"{r['wire_bytes_down']:,} | {r['wire_bytes_up']:,} | {r['bytes_down']:,} | {r['wire_bytes_down'] / max(r['events_pulled'], 1):.1f} | {' '.join(r['loadavg'])} |")
for r in rows:
    if r["link"] != "profile":
        continue
    e = r["events"]
    # EDGE model: 400 ms per page and the bytes at 240 kbit/s (headers and the phone's work left out)
    edge = r["pages"] * 0.4 + r["wire_bytes"] * 8 / 240_000
    print()
    print(f"{r['backend']} profile: {e:,} events in {r['pages']} pages of up to {r['limit']}; server {r['server_seconds']:.2f} s, "
          f"phone store {r['apply_seconds']:.2f} s; dcz as served {r['wire_bytes']:,} bytes ({r['wire_bytes'] / e:.1f} per event), "
          f"runs JSON {r['json_bytes']:,} ({r['json_bytes'] / e:.1f} per event); EDGE round trips + bytes {edge:.1f} s")
EOF_PY
