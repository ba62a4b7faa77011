#!/usr/bin/env bash
# Profile (issue 15): where a PostgreSQL push spends its time, statement by statement. One
# `gocua-load ingest` run against a private primary + streaming hot standby
# (scripts/topology.sh --no-servers, as bench-ingest.sh uses), the primary restarted with
# pg_stat_statements (planning tracked); after the same warm-up and ANALYZE as bench-ingest.sh,
# the statistics are reset, the run is measured, and this prints the run's JSON line, the
# statements by total time, and the report counter tables' row and page counts.
# Usage: bash scripts/profile-ingest-pg.sh BIN_DIR [DEVICES=1] [VISITS=40000]
#   BIN_DIR holds gocua-server and gocua-load (e.g. a release target dir, or a copy of another
#   commit's, to compare side by side).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bindir="$(cd "${1:?BIN_DIR (with gocua-server and gocua-load)}" && pwd)"
devices="${2:-1}" visits="${3:-40000}"
env_out="$(GOCUA_SERVER_BIN="$bindir/gocua-server" bash "$repo/scripts/topology.sh" start --no-servers 2>/dev/null)"
topology="$(sed -n 's/^TOPOLOGY_DIR=//p' <<<"$env_out")"
pg() { sed -n "s/^$1=//p" <<<"$env_out"; }
pg_bin="$(pg PG_BIN)" pg_host="$(pg PGHOST)" pg_port="$(pg PGPORT)"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  bash "$repo/scripts/topology.sh" stop --dir "$topology" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cat >>"$topology/pg/primary/postgresql.conf" <<'CONF'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track_planning = on
pg_stat_statements.max = 1000
CONF
bash "$repo/scripts/topology.sh" restart-postgres --dir "$topology" >/dev/null 2>&1
psql() { "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_host" -p "$pg_port" -U postgres "$@"; }
psql -d postgres -c "CREATE DATABASE profile"
db="postgres://postgres@127.0.0.1:$pg_port/profile"
"$bindir/gocua-server" admin --database "$db" import-places >/dev/null 2>&1
for i in $(seq 8); do
  "$bindir/gocua-server" admin --database "$db" add-place --code "$(printf '03445-%02d' "$i")" --name "Bản $i" \
    --level hamlet --parent 03445 >/dev/null 2>&1
done
GOCUA_LOG=warn "$bindir/gocua-server" serve --listen 127.0.0.1:0 --database "$db" >"$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 300); do grep -qs 'listening on' "$work/server.out" && break; sleep 0.1; done
server="$(grep -o 'http://[^ ]*' "$work/server.out")"
"$bindir/gocua-load" ingest --server "$server" --admin-database "$db" --devices 2 --visits 4000 --seed 1001 \
  >/dev/null 2>"$work/load.err" || { cat "$work/load.err" >&2; exit 1; }
psql -d profile -c "ANALYZE; CREATE EXTENSION pg_stat_statements; SELECT pg_stat_statements_reset();" >/dev/null
"$bindir/gocua-load" ingest --server "$server" --admin-database "$db" --devices "$devices" --visits "$visits" \
  --seed 1 --cpu-of "server=$server_pid" 2>"$work/load.err" | tail -1 || { cat "$work/load.err" >&2; exit 1; }
this_db="dbid = (SELECT oid FROM pg_database WHERE datname = 'profile')"
psql -d profile -A -F ' | ' -c "SELECT calls, round(total_plan_time::numeric) AS plan_ms,
  round(total_exec_time::numeric) AS exec_ms, round((total_exec_time / nullif(calls, 0))::numeric, 3) AS mean_ms,
  rows, wal_bytes, left(regexp_replace(query, '\s+', ' ', 'g'), 100) AS statement
  FROM pg_stat_statements WHERE $this_db ORDER BY total_plan_time + total_exec_time DESC LIMIT 25"
psql -d profile -A -F ' | ' -c "SELECT round(sum(total_plan_time)::numeric) AS plan_ms,
  round(sum(total_exec_time)::numeric) AS exec_ms, sum(calls) AS calls, sum(wal_bytes) AS wal_bytes
  FROM pg_stat_statements WHERE $this_db"
psql -d profile -A -F ' | ' -c "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_dead_tup, n_live_tup,
  pg_relation_size(relid) / 8192 AS pages FROM pg_stat_user_tables WHERE relname LIKE 'report_%' ORDER BY relname"
