#!/usr/bin/env bash
# Benchmark (issue 13): the server's push ingest, events applied per second and push latency,
# on SQLite and on PostgreSQL, side by side in one run, with our pushes and with the naive
# baseline.
#   gocua   `gocua-load ingest`: D concurrent kept-alive connections, each playing phones one
#           after another; every push body made before the clock starts exactly as the app makes
#           it (batches of up to 100 events, compact schema-3 JSON, dcz with the push dictionary)
#   naive   the same made-up records, one plain uncompressed JSON push per resident visit (what a
#           form tool sends), at the same D
# Every measurement gets a fresh database (SQLite: a new file; PostgreSQL: a new database on a
# private primary + streaming standby from scripts/topology.sh --no-servers) and a fresh
# `gocua-server serve` on a free loopback port; the load generator runs on the same machine.
# Before the clock starts, two other phones push WARM visits and PostgreSQL gets the ANALYZE
# its autovacuum would run within a minute on a live server: on a database never analysed the
# planner takes `id = ANY(…)` for half the table and the push's prefetch reads scan whole
# tables (WARM=0 measures that cold start). After each measurement `gocua-server admin
# count-events` must show exactly the warm-up's events plus those the answers said were
# applied. Prints each run's JSON line, then a table, then the gocua/naive ratios.
# Usage: bash scripts/bench-ingest.sh [RUNS=2]
#   DEVICES="1 10 100" (default) concurrent connections; BACKENDS="sqlite postgres" (default);
#   MODES="gocua naive" (default); VISITS=40000 visits per gocua run (90,000 events);
#   NAIVE_VISITS=10000 visits per naive run (one request each); HAMLETS=8 in commune 03445;
#   WARM=4000 visits pushed (untimed) before each measurement, 0 for none.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
# shellcheck source-path=SCRIPTDIR source=ensure-tools.sh
source scripts/ensure-tools.sh
ensure_rust
command -v python3 >/dev/null 2>&1 || apt_install python3
runs="${1:-2}"
devices="${DEVICES:-1 10 100}"
backends="${BACKENDS:-sqlite postgres}"
modes="${MODES:-gocua naive}"
visits="${VISITS:-40000}" naive_visits="${NAIVE_VISITS:-10000}" hamlets="${HAMLETS:-8}" warm="${WARM:-4000}"

cargo build -q --release --locked -p gocua-server -p gocua-sim
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
# every run of this script uses the same binaries, even if the shared target dir is rebuilt meanwhile
bin="$dir/bin"
mkdir "$bin"
cp "${CARGO_TARGET_DIR:-target}/release/"{gocua-server,gocua-load} "$bin/"

if [[ " $backends " == *" postgres "* ]]; then
  env_out="$(GOCUA_SERVER_BIN="$bin/gocua-server" bash scripts/topology.sh start --no-servers)"
  topology="$(sed -n 's/^TOPOLOGY_DIR=//p' <<<"$env_out")"
  pg() { sed -n "s/^$1=//p" <<<"$env_out"; }
  pg_bin="$(pg PG_BIN)" pg_host="$(pg PGHOST)" pg_port="$(pg PGPORT)"
  primary_pid="$(pg PRIMARY_PID)" replica_pid="$(pg REPLICA_PID)"
  psql_admin() { "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_host" -p "$pg_port" -U postgres -d "${2:-postgres}" -c "$1" >/dev/null; }
fi

# A fresh database for BACKEND with the places and HAMLETS hamlets under 03445; its URL in $db.
n=0
fresh_database() {
  n=$((n + 1))
  case "$1" in
    sqlite) db="$dir/ingest-$n.sqlite" ;;
    postgres) psql_admin "CREATE DATABASE gocua_ingest_$n"; db="postgres://postgres@127.0.0.1:$pg_port/gocua_ingest_$n" ;;
  esac
  "$bin/gocua-server" admin --database "$db" import-places >/dev/null 2>&1
  local i
  for i in $(seq "$hamlets"); do
    "$bin/gocua-server" admin --database "$db" add-place --code "$(printf '03445-%02d' "$i")" --name "Bản $i" \
      --level hamlet --parent 03445 >/dev/null 2>&1
  done
}
drop_database() {
  if [ "$1" = postgres ]; then psql_admin "DROP DATABASE gocua_ingest_$n WITH (FORCE)"; else rm -f "$db"*; fi
}

# Starts a server on $db: its URL in $server, its pid in $server_pid.
start_server() {
  local out="$dir/server-$n.out"
  GOCUA_LOG=warn "$bin/gocua-server" serve --listen 127.0.0.1:0 --database "$db" >"$out" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do grep -qs 'listening on' "$out" && break; sleep 0.1; done
  server="$(grep -o 'http://[^ ]*' "$out")" || { cat "$out" >&2; exit 1; }
}
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

echo "warm-up $warm visits; commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates migrations || echo ' plus uncommitted changes'); $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
results="$dir/results.jsonl"
for round in $(seq "$runs"); do
  for d in $devices; do
    for backend in $backends; do
      for mode in $modes; do
        fresh_database "$backend"
        start_server
        if [ "$warm" -gt 0 ]; then
          "$bin/gocua-load" ingest --server "$server" --admin-database "$db" --devices 2 --visits "$warm" \
            --seed "$((1000 + round))" >/dev/null 2>"$dir/load.err" || { cat "$dir/load.err" >&2; exit 1; }
          [ "$backend" = postgres ] && psql_admin ANALYZE "gocua_ingest_$n"
        fi
        before="$("$bin/gocua-server" admin --database "$db" count-events 2>/dev/null | sed -n 's/^applied //p')"
        cpu=(--cpu-of "server=$server_pid")
        [ "$backend" = postgres ] && cpu+=(--cpu-of "postgres=$primary_pid" --cpu-of "replica=$replica_pid")
        v="$visits"; [ "$mode" = naive ] && v="$naive_visits"
        line="$("$bin/gocua-load" ingest --server "$server" --admin-database "$db" --devices "$d" --visits "$v" \
          --mode "$mode" --seed "$round" "${cpu[@]}" 2>"$dir/load.err" | tail -1)" || { cat "$dir/load.err" >&2; exit 1; }
        stop_server
        held="$("$bin/gocua-server" admin --database "$db" count-events 2>/dev/null | sed -n 's/^applied //p')"
        drop_database "$backend"
        python3 - "$backend" "$round" "$before" "$held" "$line" >>"$results" <<'EOF'
import json, sys
backend, round_, before, held = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
line = json.loads(sys.argv[5])
line.update(backend=backend, run=round_, server_held_before=before, server_holds=held)
if held - before != line["events_applied"]:
    sys.exit(f"the server went from {before} to {held} events, the answers said {line['events_applied']} were applied")
print(json.dumps(line))
EOF
        echo "$backend D=$d $mode run $round: $(tail -1 "$results")"
      done
    done
  done
done

python3 - "$results" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print()
print("| backend | D | mode | run | events | seconds | events/s | p50 ms | p95 ms | p99 ms | load generator cores | server cores | postgres cores (primary + standby) | machine busy cores | held before → after |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for r in rows:
    pg = r["cores"].get("postgres", 0) + r["cores"].get("replica", 0)
    pgs = f"{pg:.2f}" if r["backend"] == "postgres" else "-"
    print(f"| {r['backend']} | {r['devices']} | {r['mode']} | {r['run']} | {r['events_applied']:,} | {r['seconds']:.2f} | "
          f"{r['events_per_second']:,.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
          f"{r['loadgen_cores']:.2f} | {r['cores'].get('server', 0):.2f} | {pgs} | {r['machine_busy_cores']:.2f} | "
          f"{r['server_held_before']:,} → {r['server_holds']:,} |")
print()
goal = {"sqlite": 20000, "postgres": 10000}
for backend in dict.fromkeys(r["backend"] for r in rows):
    for d in dict.fromkeys(r["devices"] for r in rows):
        mine = [r for r in rows if r["backend"] == backend and r["devices"] == d]
        ours = [r["events_per_second"] for r in mine if r["mode"] == "gocua"]
        naive = [r["events_per_second"] for r in mine if r["mode"] == "naive"]
        text = f"{backend} D={d}: gocua " + ", ".join(f"{x:,.0f}" for x in ours) + " events/s"
        if backend in goal and ours:
            text += f" (goal >= {goal[backend]:,}: met in {sum(x >= goal[backend] for x in ours)} of {len(ours)} runs)"
        if naive:
            text += "; naive " + ", ".join(f"{x:,.0f}" for x in naive) + " events/s"
        if ours and naive:
            text += "; gocua/naive " + ", ".join(f"{a / b:.1f}x" for a, b in zip(ours, naive))
        p99 = [r["p99_ms"] for r in mine if r["mode"] == "gocua"]
        if p99:
            text += "; gocua push p99 " + ", ".join(f"{x:.1f}" for x in p99) + " ms"
        print(text)
EOF
