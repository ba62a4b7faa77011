#!/usr/bin/env bash
# Benchmark (issue 15): reports at province scale, on SQLite and on PostgreSQL.
#
# For each backend it seeds a made-up province through the push rule (`gocua-province seed`:
# the communes of province PROVINCE, HAMLETS hamlets and VOLUNTEERS volunteers per hamlet,
# RESIDENTS residents in households of four, 3–4 visits each over 30 days, one campaign with
# quotas), or reuses the one WORK already holds, then measures with the release binaries:
#   in-process  `gocua-province time-report`: `gocua_server::reports::report` RUNS times after one
#               open (the appendix into memory, and the report's parts inside one transaction);
#   processes   `gocua-server admin …` RUNS times each (LIST_RUNS for the named lists), wall time
#               and peak RSS from `/usr/bin/time -f '%e s %M KB'` (process start, opening the
#               database and its migrations check included):
#                 (o) `list-devices --user <nobody>`: the cost of a process that opens the database
#                 (a) `report --place PROVINCE --campaign ID`        the province's campaign report
#                 (b) `report --place COMMUNE`                      a commune's drill-down
#                 (c) `report --place PROVINCE --campaign ID --xlsx F`  the appendix
#                 (d) `export-list --by POLICE --place PROVINCE --list activated --out F.xlsx|.csv`
#                     and LISTS more lists (default: absent, cannot-activate)
# then the plans of the report's SQL (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS); SQLite: EXPLAIN
# QUERY PLAN and the `.timer` of each statement in the sqlite3 shell), and the sizes on disk.
#
# PostgreSQL runs in a private cluster of its own (initdb in WORK/pg as the `postgres` OS user,
# a free loopback port, its socket in WORK/pg/run; the settings are printed), VACUUM ANALYZE
# after seeding. The system's cluster and port 5432 are never used. The cluster is stopped on
# exit; the databases stay in WORK for the next run unless CLEAN=1 (then WORK is removed).
#
# Usage: bash scripts/bench-report.sh
#   BACKENDS="sqlite postgres" RUNS=5 LIST_RUNS=3 LISTS="absent cannot-activate"
#   RESIDENTS=2000000 PROVINCE=15 HAMLETS=10 VOLUNTEERS=3 THREADS=2 MAX_MINUTES=60
#   MIN_FREE_GB=3 (seeding takes no new phones once the disk under WORK has less free: it is shared)
#   WORK=/var/tmp/gocua-bench-report  (reused: WORK/<backend>.seed.json names a seeded database)
#   PHASE=all|seed|measure  CLEAN=0|1  STEPS="inprocess processes lists explain sizes" (what to measure)
# The output (every line of it) is also appended to WORK/report.log.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source-path=SCRIPTDIR source=ensure-tools.sh
source scripts/ensure-tools.sh
ensure_rust
command -v python3 >/dev/null 2>&1 || apt_install python3
[ -x /usr/bin/time ] || apt_install time
command -v sqlite3 >/dev/null 2>&1 || apt_install sqlite3

backends="${BACKENDS:-sqlite postgres}"
runs="${RUNS:-5}" list_runs="${LIST_RUNS:-3}" lists="${LISTS:-absent cannot-activate}"
residents="${RESIDENTS:-2000000}" province="${PROVINCE:-15}" hamlets="${HAMLETS:-10}"
volunteers="${VOLUNTEERS:-3}" threads="${THREADS:-2}" max_minutes="${MAX_MINUTES:-60}" min_free_gb="${MIN_FREE_GB:-3}"
work="${WORK:-/var/tmp/gocua-bench-report}" phase="${PHASE:-all}" clean="${CLEAN:-0}"
steps="${STEPS:-inprocess processes lists explain sizes}"

cargo build -q --release --locked -p gocua-server -p gocua-sim
mkdir -p "$work"
bin="$work/bin"
mkdir -p "$bin"
# one build for the whole invocation, even if the shared target dir is rebuilt meanwhile
cp "${CARGO_TARGET_DIR:-target}/release/"{gocua-server,gocua-province} "$bin/"

pg_bin="" pg_port=""
stop_postgres() {
  if [ -n "$pg_bin" ] && [ -f "$work/pg/data/postmaster.pid" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w -t 120 stop >/dev/null 2>&1 || true
  fi
}
cleanup() {
  stop_postgres
  if [ "$clean" = 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_pg() { (cd "$work/pg" && runuser -u postgres -- "$@"); }
psql_pg() { "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$work/pg/run" -p "$pg_port" -U postgres "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The private cluster: made on first use, started on a free port.
start_postgres() {
  pg_bin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d | sort -rV | head -n1)"
  [ -x "$pg_bin/initdb" ] || { echo "no PostgreSQL server binaries under /usr/lib/postgresql" >&2; exit 1; }
  mkdir -p "$work/pg/run"
  chown postgres: "$work/pg" "$work/pg/run"
  if [ ! -f "$work/pg/data/PG_VERSION" ]; then
    as_pg "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --locale=C --no-instructions >/dev/null
    # a small production-like setting for this 2-core, 23 GB machine (printed below)
    cat >>"$work/pg/data/postgresql.conf" <<'EOF'

# --- scripts/bench-report.sh: a private benchmark cluster on loopback ---
listen_addresses = '127.0.0.1'
max_connections = 50
shared_buffers = 2GB
effective_cache_size = 8GB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 1GB
checkpoint_timeout = 15min
random_page_cost = 1.1
EOF
  fi
  pg_port="$(free_port)"
  as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w -t 120 \
    -o "-p $pg_port -k $work/pg/run" start >/dev/null
  psql_pg -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'gocua'" | grep -q 1 ||
    psql_pg -d postgres -c "CREATE DATABASE gocua"
  echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port:" \
    "$(psql_pg -d postgres -tAc "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name)
       FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', 'jit',
       'random_page_cost', 'max_parallel_workers_per_gather', 'synchronous_commit')")"
}

timed() { # LABEL COMMAND...: one run under /usr/bin/time; prints LABEL, seconds, KB and what it says
  # (a command that fails is recorded as such, with its first error line, and the run goes on)
  local label="$1" out="$work/timed.out" err="$work/timed.err"
  shift
  if ! /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$out" 2>"$err"; then
    label="$label FAILED"
    grep -m1 -e '^Error' "$err" >>"$out" || true
  fi
  read -r secs kb < <(tail -n1 "$work/time.txt")
  echo "TIMED|$label|$secs|$kb|$(grep -m1 -e 'Tổng cộng' -e 'đã ghi' "$out" || tail -n1 "$out")"
  printf '%s\t%s\t%s\n' "$label" "$secs" "$kb" >>"$work/timed.tsv"
}

summarize() { # the runs of each measurement: median (min–max) seconds and peak RSS
  python3 - "$work/timed.tsv" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, secs, kb = line.rstrip("\n").split("\t")
    runs.setdefault(label, []).append((float(secs), int(kb)))
print("| measurement | runs | wall s median (min–max) | peak RSS MB median (min–max) |")
print("| --- | ---: | --- | --- |")
for label, r in runs.items():
    s = [x[0] for x in r]
    m = [x[1] / 1024 for x in r]
    print(f"| {label} | {len(r)} | {statistics.median(s):.2f} ({min(s):.2f}–{max(s):.2f}) | "
          f"{statistics.median(m):.1f} ({min(m):.1f}–{max(m):.1f}) |")
PY
}

has_step() { [[ " $steps " == *" $1 "* ]]; }

measure() { # BACKEND DB
  local backend="$1" db="$2" seed_json="$work/$1.seed.json"
  seed_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$seed_json" "$1"; }
  local campaign police commune hamlet
  campaign="$(seed_field campaign)" police="$(seed_field police_user)"
  commune="$(seed_field sample_commune)" hamlet="$(seed_field sample_hamlet)"
  local gs=("$bin/gocua-server" admin --database "$db")
  echo "== $backend: seeded $(cat "$seed_json")"
  if has_step inprocess; then
    echo "== $backend: in-process (gocua-province time-report), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
    "$bin/gocua-province" time-report --database "$db" --place "$province" --campaign "$campaign" --runs "$runs" \
      --xlsx --breakdown 2>&1 | sed 's/^/  province: /'
    "$bin/gocua-province" time-report --database "$db" --place "$commune" --runs "$runs" --breakdown 2>&1 |
      sed 's/^/  commune: /'
    "$bin/gocua-province" time-report --database "$db" --place "$hamlet" --runs "$runs" 2>&1 | sed 's/^/  hamlet: /'
  fi
  rm -f "$work/timed.tsv"
  if has_step processes; then
    echo "== $backend: processes (/usr/bin/time), load $(cut -d' ' -f1-3 /proc/loadavg)"
    for _ in $(seq "$runs"); do
      timed "open-only" "${gs[@]}" list-devices --user 00000000-0000-0000-0000-000000000000
      timed "province campaign report" "${gs[@]}" report --place "$province" --campaign "$campaign"
      timed "commune report $commune" "${gs[@]}" report --place "$commune"
      timed "appendix xlsx" "${gs[@]}" report --place "$province" --campaign "$campaign" --xlsx "$work/appendix.xlsx"
    done
    echo "appendix: $(stat -c %s "$work/appendix.xlsx") bytes"
  fi
  if has_step lists; then
    local list ext
    for _ in $(seq "$list_runs"); do
      for list in activated $lists; do
        for ext in xlsx csv; do
          timed "list $list .$ext" "${gs[@]}" export-list --by "$police" --place "$province" --list "$list" \
            --out "$work/list.$ext"
          echo "  file: $(stat -c %s "$work/list.$ext" 2>/dev/null || echo none) bytes"
          rm -f "$work/list.$ext"
        done
      done
    done
  fi
  if [ -s "$work/timed.tsv" ]; then
    echo "== $backend: processes, summary (load $(cut -d' ' -f1-3 /proc/loadavg))"
    summarize
  fi
  if has_step explain; then
    explain "$backend" "$db" "$province" "/$province/"
    explain "$backend" "$db" "$commune" "/$province/" "/$province/$commune/"
  fi
  has_step sizes || return 0
  echo "== $backend: sizes"
  if [ "$backend" = sqlite ]; then
    stat -c '  %s bytes %n' "$db"*
    sqlite3 "$db" "SELECT 'events', count(*) FROM events; SELECT 'visits', count(*) FROM visits;
      SELECT 'residents', count(*) FROM residents; SELECT 'households', count(*) FROM households;
      SELECT 'audit_log', count(*) FROM audit_log; SELECT 'report_states', count(*) FROM report_states;
      SELECT 'report_households', count(*) FROM report_households;
      SELECT 'report_flows', count(*) FROM report_flows;" | sed 's/^/  /'
  else
    psql_pg -d gocua -c "SELECT pg_size_pretty(pg_database_size('gocua')) AS database, pg_database_size('gocua') AS bytes"
    psql_pg -d gocua -c "SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) AS total
      FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT 8"
    psql_pg -d gocua -c "SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) AS total
      FROM pg_stat_user_tables WHERE relname LIKE 'report_%' ORDER BY relname"
  fi
}

# The report's SQL as the backends run it (copied from crates/server-sqlite/src/report.rs and
# crates/server-postgres/src/tx/report.rs: the counters the writes keep), over the hamlets of
# PLACE (a province or a commune) and the campaign's window, with its plan; the campaign lookup
# over PATHS (the place's lineage). The parameters are written in as literals (the list of
# hamlets is shortened in the output).
explain() { # BACKEND DB PLACE PATH...
  local backend="$1" db="$2" place="$3" seed_json="$work/$1.seed.json"
  shift 3
  local in_paths="" path
  for path in "$@"; do in_paths="$in_paths${in_paths:+, }'$path'"; done
  local starts ends
  starts="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['campaign_starts'])" "$seed_json")"
  ends="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['campaign_ends'])" "$seed_json")"
  echo "== $backend: plans of the report's SQL for $place (campaign $starts..$ends)"
  if [ "$backend" = sqlite ]; then
    local h
    h="$(sqlite3 "$db" "SELECT json_group_array(code) FROM places WHERE level = 'hamlet'
      AND (parent_code = '$place' OR parent_code IN (SELECT code FROM places WHERE parent_code = '$place'))")"
    local in_h="hamlet_code IN (SELECT value FROM json_each('$h'))"
    local q1="SELECT hamlet_code, status, reason_code, confirmed, n FROM report_states WHERE $in_h AND n <> 0"
    local q2="SELECT hamlet_code, listed, surveyed, members, smartphones, with_computer FROM report_households
       WHERE $in_h AND listed <> 0"
    local q3="SELECT hamlet_code, day, author, activated, visits, referred FROM report_flows
       WHERE $in_h AND day >= '$starts' AND day <= '$ends' AND (activated <> 0 OR visits <> 0 OR referred <> 0)"
    local q4="SELECT server_seq, id, device_id, seq, author, device_time, payload FROM events INDEXED BY events_campaigns
       WHERE status = 'applied' AND type = 'campaign_set.v1' AND server_seq > 0
         AND server_seq <= (SELECT max(server_seq) FROM events) AND place_path IN ($in_paths) ORDER BY server_seq"
    local n=0 q
    for q in "$q1" "$q2" "$q3" "$q4"; do
      n=$((n + 1))
      echo "-- query $n: $(head -c 100 <<<"$q" | tr -s ' \n' ' ')…"
      sqlite3 "$db" "EXPLAIN QUERY PLAN $q" | sed -E 's/^/  /; s/\[("[0-9-]+",){20,}"[0-9-]+"\]/[…hamlets…]/g'
      echo "SELECT count(*) FROM ($q);" | sqlite3 -cmd '.timer on' "$db" 2>&1 | sed 's/^/  /'
    done
  else
    local h
    h="$(psql_pg -d gocua -tAc "SELECT array_agg(code)::text FROM places WHERE level = 'hamlet'
      AND (parent_code = '$place' OR parent_code IN (SELECT code FROM places WHERE parent_code = '$place'))")"
    local in_h="hamlet_code = ANY('$h'::text[])"
    local q1="SELECT hamlet_code, status, reason_code, confirmed, n FROM report_states WHERE $in_h AND n <> 0"
    local q2="SELECT hamlet_code, listed, surveyed, members, smartphones, with_computer FROM report_households
       WHERE $in_h AND listed <> 0"
    local q3="SELECT hamlet_code, day, author, activated, visits, referred FROM report_flows
       WHERE $in_h AND day BETWEEN '$starts' AND '$ends' AND (activated <> 0 OR visits <> 0 OR referred <> 0)"
    # and what the pushes appended that no fold moved yet (0013_report_deltas), grouped
    local q5="SELECT hamlet_code, status, reason_code, confirmed, sum(n)::bigint FROM report_state_deltas
       WHERE $in_h GROUP BY 1, 2, 3, 4"
    local q6="SELECT hamlet_code, sum(listed)::bigint, sum(surveyed)::bigint, sum(members)::bigint,
         sum(smartphones)::bigint, sum(with_computer)::bigint FROM report_household_deltas WHERE $in_h GROUP BY 1"
    local q7="SELECT hamlet_code, day, author, sum(activated)::bigint, sum(visits)::bigint, sum(referred)::bigint
       FROM report_flow_deltas WHERE $in_h AND day BETWEEN '$starts' AND '$ends' GROUP BY 1, 2, 3"
    local q4="SELECT server_seq, id, device_id, seq, author, device_time, payload FROM events
       WHERE status = 'applied' AND type = 'campaign_set.v1' AND place_path = ANY(ARRAY[$in_paths])
         AND server_seq > 0 AND server_seq <= (SELECT max(server_seq) FROM events) ORDER BY server_seq"
    local n=0 q
    for q in "$q1" "$q2" "$q3" "$q4" "$q5" "$q6" "$q7"; do
      n=$((n + 1))
      echo "-- query $n: $(head -c 100 <<<"$q" | tr -s ' \n' ' ')…"
      psql_pg -d gocua -c "EXPLAIN (ANALYZE, BUFFERS) $q" |
        sed -E "s/^/  /; s/'\{([0-9-]+,){20,}[0-9-]+\}'/'{…hamlets…}'/g; s/ +$//; s/-{80,}/--------/"
    done
  fi
}

exec > >(tee -a "$work/report.log") 2>&1
for backend in $backends; do
  echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates migrations || echo ' plus uncommitted changes'); $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  case "$backend" in
    sqlite) db="$work/province.sqlite" ;;
    postgres) start_postgres; db="postgres://postgres@127.0.0.1:$pg_port/gocua" ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  if [ "$phase" != measure ] && [ ! -s "$work/$backend.seed.json" ]; then
    echo "== $backend: seeding $residents residents of province $province into $db"
    /usr/bin/time -f 'seed: %e s, peak RSS %M KB' "$bin/gocua-province" seed --database "$db" \
      --province "$province" --residents "$residents" --hamlets "$hamlets" --volunteers "$volunteers" \
      --threads "$threads" --max-minutes "$max_minutes" --min-free-gb "$min_free_gb" --disk "$work" \
      >"$work/$backend.seed.out"
    tail -n1 "$work/$backend.seed.out" >"$work/$backend.seed.json"
    if [ "$backend" = postgres ]; then
      /usr/bin/time -f 'VACUUM (ANALYZE): %e s' "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$work/pg/run" \
        -p "$pg_port" -U postgres -d gocua -c 'VACUUM (ANALYZE)'
    fi
  fi
  if [ "$phase" != seed ]; then
    measure "$backend" "$db"
  fi
  if [ "$backend" = postgres ]; then stop_postgres; fi
done
echo "log: $work/report.log; databases kept in $work (CLEAN=1, or rm -rf $work, removes them)"
