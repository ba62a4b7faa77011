#!/usr/bin/env bash
# Starts and stops the multi-server topology on loopback, for tests and benchmarks, from Debian's
# packages, on free ports, everything in one temp dir:
#   - a PostgreSQL primary (initdb here, run as the `postgres` OS user when we are root), its unix
#     socket in the dir, listening on 127.0.0.1 only, with database `gocua`;
#   - a streaming hot standby of it (pg_basebackup -R, its own replication slot);
#   - N `gocua-server serve` processes on 127.0.0.1:0 (the primary for writes, the standby for
#     reads; or one SQLite file each with --sqlite; none with --no-servers);
#   - nginx (its own prefix and config in the dir) balancing over the N servers.
# The system's own PostgreSQL cluster and nginx, and ports 5432 and 80, are never used.
#
# Usage:
#   bash scripts/topology.sh start [--servers N] [--sqlite|--no-servers] [--dir DIR]
#       prints KEY=VALUE lines (also written to DIR/env); progress goes to stderr
#   bash scripts/topology.sh stop [--dir DIR]              stops everything and removes DIR
#   bash scripts/topology.sh status [--dir DIR]            exit 0 when every part is up
#   bash scripts/topology.sh restart-postgres [--dir DIR]  pg_ctl restart -m fast of the primary
#   bash scripts/topology.sh kill-server I [--dir DIR]     SIGKILL server I (1-based)
#   bash scripts/topology.sh start-server I [--dir DIR]    server I again, on its old port
#   bash scripts/topology.sh replica-pause|replica-resume [--dir DIR]   WAL replay on the standby
# Without --dir, every command but start uses $TOPOLOGY_DIR (start makes a fresh mktemp -d).
# The server binary: $GOCUA_SERVER_BIN (default ${CARGO_TARGET_DIR:-target}/release/gocua-server).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=ensure-tools.sh
source "$repo/scripts/ensure-tools.sh"

log() { echo "topology: $*" >&2; }
die() {
  echo "topology: $*" >&2
  exit 1
}
usage() {
  sed -n '/^# Usage:/,/^# The server binary/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

action="${1:-}"
[ -n "$action" ] || usage
shift
servers=2
mode=postgres # postgres | sqlite | none
dir="${TOPOLOGY_DIR:-}"
dir_given=0
index=""
while [ $# -gt 0 ]; do
  case "$1" in
    --servers) servers="${2:?--servers needs a number}"; shift 2 ;;
    --servers=*) servers="${1#*=}"; shift ;;
    --sqlite) mode=sqlite; shift ;;
    --no-servers) mode=none; shift ;;
    --dir) dir="${2:?--dir needs a directory}"; dir_given=1; shift 2 ;;
    --dir=*) dir="${1#*=}"; dir_given=1; shift ;;
    -h | --help) usage ;;
    [0-9]*) index="$1"; shift ;;
    *) echo "topology: unknown argument: $1" >&2; usage ;;
  esac
done

marker=".gocua-topology" # start writes it first; stop removes only dirs that hold it

# --- small helpers -----------------------------------------------------------------------------

env_get() { # KEY → its value in $dir/env (empty when absent)
  [ -f "$dir/env" ] || return 0
  sed -n "s/^$1=//p" "$dir/env" | tail -1
}

env_put() { # KEY VALUE: sets KEY in $dir/env, in place when it is there already
  local file="$dir/env"
  touch "$file"
  awk -v k="$1" -v v="$2" 'BEGIN { done = 0 }
    index($0, k "=") == 1 { if (!done) print k "=" v; done = 1; next }
    { print }
    END { if (!done) print k "=" v }' "$file" >"$file.tmp"
  mv "$file.tmp" "$file"
}

# The pid in FILE (first line) if that process is alive and runs a program named NAME.
live_pid() {
  local file="$1" name="$2" pid exe
  [ -f "$file" ] || return 0
  pid="$(head -n1 "$file" 2>/dev/null | tr -dc 0-9)"
  [ -n "$pid" ] || return 0
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  exe="${exe% (deleted)}"
  if [ -n "$exe" ] && [ "$(basename "$exe")" = "$name" ]; then
    echo "$pid"
  fi
}

# Whether PID runs (a zombie, dead but not yet reaped by its parent, does not).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [ -n "$state" ] && [ "$state" != Z ]
}

# Sends SIGNAL to PID, then waits up to SECONDS for it to end; SIGKILL after that.
end_process() {
  local pid="$1" signal="$2" seconds="$3" _i
  kill "-$signal" "$pid" 2>/dev/null || return 0
  for _i in $(seq $((seconds * 10))); do
    alive "$pid" || return 0
    sleep 0.1
  done
  log "pid $pid did not end within ${seconds}s of SIG$signal: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _i in $(seq 50); do
    alive "$pid" || return 0
    sleep 0.1
  done
}

# Free TCP ports on 127.0.0.1, COUNT of them, all held open at once so they differ.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
EOF
}

# The newest PostgreSQL under /usr/lib/postgresql with initdb (not /usr/local/bin's wrappers).
find_pg_bin() {
  local bin
  for bin in $(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -rV); do
    if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && [ -x "$bin/postgres" ] && [ -x "$bin/pg_basebackup" ]; then
      echo "$bin"
      return
    fi
  done
}

pg_user() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }

# Runs a command as the OS user that owns the clusters: initdb and postgres refuse root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    (cd "$dir/pg" && runuser -u postgres -- "$@")
  else
    (cd "$dir/pg" && "$@")
  fi
}

psql_at() { # PORT DATABASE SQL → unaligned, tuples only
  PGCONNECT_TIMEOUT=5 "$pg_bin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$dir/pg/run" -p "$1" -U postgres -d "$2" -c "$3"
}

wait_until() { # SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s
  local seconds="$1" what="$2" _i
  shift 2
  for _i in $(seq $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  log "timed out after ${seconds}s waiting for $what"
  return 1
}

replica_caught_up() { # LSN: the standby has replayed up to it
  [ "$(psql_at "$replica_port" postgres "SELECT pg_last_wal_replay_lsn() >= '$1'::pg_lsn")" = t ]
}

replica_streaming() {
  [ "$(psql_at "$primary_port" postgres "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" -ge 1 ]
}

in_recovery() { [ "$(psql_at "$replica_port" postgres "SELECT pg_is_in_recovery()")" = t ]; }

http_ok() { curl -fsS --max-time 3 -o /dev/null "$1"; }

show_log_tail() {
  local file
  for file in "$@"; do
    if [ -s "$file" ]; then
      echo "--- last lines of $file" >&2
      tail -n 15 "$file" >&2
    fi
  done
}

# Loads what start recorded.
load_env() {
  [ -n "$dir" ] || die "which topology? pass --dir DIR or set TOPOLOGY_DIR"
  [ -f "$dir/$marker" ] || die "$dir is not a topology dir (no $marker)"
  mode="$(env_get SERVER_MODE)"
  mode="${mode:-none}"
  servers="$(env_get SERVER_COUNT)"
  servers="${servers:-0}"
  pg_bin="$(env_get PG_BIN)"
  pg_bin="${pg_bin:-$(find_pg_bin)}"
  primary_port="$(env_get PRIMARY_PORT)"
  replica_port="$(env_get REPLICA_PORT)"
  server_bin="$(env_get GOCUA_SERVER_BIN)"
}

server_index() {
  if ! [[ "$index" =~ ^[0-9]+$ ]] || [ "$index" -lt 1 ] || [ "$index" -gt "$servers" ]; then
    die "$action needs a server number from 1 to $servers"
  fi
}

# --- PostgreSQL ----------------------------------------------------------------------------------

start_postgres() {
  local user
  user="$(pg_user)"
  mkdir -p "$dir/pg/run"
  chown "$user:" "$dir/pg" "$dir/pg/run"
  chmod 0755 "$dir/pg" "$dir/pg/run"
  as_pg test -w "$dir/pg/run" ||
    die "the $user OS user cannot write to $dir/pg: use a --dir it can reach (e.g. under /tmp)"
  local locale=C
  if locale -a 2>/dev/null | grep -qix 'C.utf-\{0,1\}8'; then locale=C.UTF-8; fi

  log "PostgreSQL $(basename "$(dirname "$pg_bin")") primary: initdb ($pg_bin)"
  as_pg "$pg_bin/initdb" -D "$dir/pg/primary" -U postgres -A trust -E UTF8 --locale="$locale" \
    --no-instructions >"$dir/pg/initdb.log" 2>&1 || {
    show_log_tail "$dir/pg/initdb.log"
    die "initdb failed"
  }
  cat >>"$dir/pg/primary/postgresql.conf" <<EOF

# --- scripts/topology.sh: a private test cluster on loopback ---
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$dir/pg/run'
max_connections = 200
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
hot_standby = on
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  cat >"$dir/pg/primary/pg_hba.conf" <<'EOF'
# scripts/topology.sh: `trust` is acceptable only because this is a private, throwaway test
# cluster: it listens on 127.0.0.1 alone and on a unix socket inside its own temp dir, and holds
# test data only. Never copy this to a real cluster.
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
EOF
  as_pg "$pg_bin/pg_ctl" -D "$dir/pg/primary" -l "$dir/pg/primary.log" -w -t 60 start >/dev/null 2>&1 || {
    show_log_tail "$dir/pg/primary.log"
    die "the primary did not start"
  }
  wait_until 30 "the primary (pg_isready)" "$pg_bin/pg_isready" -q -h "$dir/pg/run" -p "$primary_port" -U postgres
  env_put PRIMARY_PID "$(live_pid "$dir/pg/primary/postmaster.pid" postgres)"
  psql_at "$primary_port" postgres "CREATE DATABASE gocua" >/dev/null

  log "standby: pg_basebackup -R from the primary"
  as_pg "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/pg/replica" \
    -R -X stream -C -S gocua_replica --checkpoint=fast >"$dir/pg/basebackup.log" 2>&1 || {
    show_log_tail "$dir/pg/basebackup.log"
    die "pg_basebackup failed"
  }
  chmod 0700 "$dir/pg/replica"
  cat >>"$dir/pg/replica/postgresql.conf" <<EOF

# --- scripts/topology.sh: the hot standby (the lines above are the primary's) ---
port = $replica_port
hot_standby = on
hot_standby_feedback = on
wal_retrieve_retry_interval = 1s
EOF
  as_pg "$pg_bin/pg_ctl" -D "$dir/pg/replica" -l "$dir/pg/replica.log" -w -t 60 start >/dev/null 2>&1 || {
    show_log_tail "$dir/pg/replica.log"
    die "the standby did not start"
  }
  wait_until 30 "the standby (pg_isready)" "$pg_bin/pg_isready" -q -h "$dir/pg/run" -p "$replica_port" -U postgres
  env_put REPLICA_PID "$(live_pid "$dir/pg/replica/postmaster.pid" postgres)"
  wait_until 10 "the standby to be in recovery" in_recovery
  wait_until 30 "the standby to stream from the primary" replica_streaming
  local lsn
  lsn="$(psql_at "$primary_port" postgres "SELECT pg_current_wal_lsn()")"
  wait_until 30 "the standby to replay up to $lsn" replica_caught_up "$lsn"
  log "primary on 127.0.0.1:$primary_port, standby on 127.0.0.1:$replica_port (streaming, caught up)"
}

stop_postgres_one() { # NAME: SIGINT is PostgreSQL's fast shutdown
  local pid
  pid="$(live_pid "$dir/pg/$1/postmaster.pid" postgres)"
  if [ -n "$pid" ]; then
    log "stopping the $1 (pid $pid)"
    end_process "$pid" INT 30
  fi
}

# --- gocua-server ------------------------------------------------------------------------------

# Starts server I listening on PORT (0: a free one), waits until it is ready; records it in env.
launch_server() {
  local i="$1" port="$2" logf="$dir/server$1.log" pidf="$dir/server$1.pid"
  local args=(serve --listen "127.0.0.1:$port")
  case "$mode" in
    sqlite) args+=(--database "$dir/server$i.sqlite") ;;
    postgres) args+=(--database "$(env_get PRIMARY_URL)" --read-database "$(env_get REPLICA_URL)") ;;
  esac
  local offset
  offset="$(stat -c %s "$logf" 2>/dev/null || echo 0)"
  rm -f "$pidf"
  # its own session: a Ctrl-C meant for the caller's terminal does not reach it (stop ends it)
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  NO_COLOR=1 setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$server_bin" "${args[@]}" >>"$logf" 2>&1 </dev/null &
  local addr="" pid="" _i
  for _i in $(seq 300); do
    pid="$(head -n1 "$pidf" 2>/dev/null || true)"
    addr="$(tail -c +$((offset + 1)) "$logf" | grep -o 'listening on http://[0-9.]*:[0-9]*' | head -n1 || true)"
    [ -n "$addr" ] && break
    if [ -n "$pid" ] && ! alive "$pid"; then break; fi
    sleep 0.1
  done
  if [ -z "$addr" ]; then
    show_log_tail "$logf"
    die "server $i did not start (log: $logf)"
  fi
  addr="${addr#listening on }"
  wait_until 30 "server $i to be ready at $addr" http_ok "$addr/api/v1/ready" || {
    show_log_tail "$logf"
    die "server $i is not healthy (log: $logf)"
  }
  env_put "SERVER_${i}_URL" "$addr"
  env_put "SERVER_${i}_PORT" "${addr##*:}"
  env_put "SERVER_${i}_PID" "$pid"
  env_put "SERVER_${i}_LOG" "$logf"
  log "server $i: $addr (pid $pid)"
}

stop_server() { # I [SIGNAL]
  local pid
  pid="$(live_pid "$dir/server$1.pid" "$(basename "${server_bin:-gocua-server}")")"
  if [ -n "$pid" ]; then
    log "stopping server $1 (pid $pid)"
    end_process "$pid" "${2:-TERM}" 15
  fi
  rm -f "$dir/server$1.pid"
}

# --- nginx -------------------------------------------------------------------------------------

nginx_bin() { command -v nginx 2>/dev/null || echo /usr/sbin/nginx; }

start_nginx() {
  local port="$1" n="$dir/nginx" upstreams="" i user_line=""
  mkdir -p "$n"
  chmod 0755 "$n"
  for i in $(seq "$servers"); do
    upstreams+="    server 127.0.0.1:$(env_get "SERVER_${i}_PORT") max_fails=1 fail_timeout=2s;"$'\n'
  done
  if [ "$(id -u)" = 0 ]; then
    # as root the workers need a user; Debian has no group "nobody", nginx's default for it
    if getent group nogroup >/dev/null; then user_line="user nobody nogroup;"; else user_line="user nobody;"; fi
  fi
  cat >"$n/nginx.conf" <<EOF
# scripts/topology.sh: nginx in front of the gocua-server processes, all in $n
$user_line
daemon on;
pid $n/nginx.pid;
error_log $n/error.log notice;
worker_processes auto;
worker_rlimit_nofile 16384;
events {
    worker_connections 4096;
}
http {
    # which server answered: tests read upstream= to see the balancing
    log_format topology '\$remote_addr [\$time_local] "\$request" \$status \$body_bytes_sent '
                        'upstream=\$upstream_addr upstream_status=\$upstream_status '
                        'rt=\$request_time urt=\$upstream_response_time';
    access_log $n/access.log topology;
    client_body_temp_path $n/client_body;
    proxy_temp_path $n/proxy;
    fastcgi_temp_path $n/fastcgi;
    uwsgi_temp_path $n/uwsgi;
    scgi_temp_path $n/scgi;
    server_tokens off;

    # bodies and answers pass through as they are: no gzip or gunzip here, so the requests'
    # Content-Encoding (zstd, dcz) and the answers' (zstd) reach the other side unchanged
    gzip off;
    client_max_body_size 8m;
    client_body_buffer_size 1m;

    upstream gocua_servers {
        # round robin; a server that fails is skipped for fail_timeout, then tried again; the
        # zone shares the turn and the failures between the worker processes
        zone gocua_servers 256k;
$upstreams        keepalive 32;
        keepalive_timeout 60s;
    }

    server {
        listen 127.0.0.1:$port;

        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host \$http_host;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto \$scheme;
        proxy_buffering on;
        # the whole body is read before it is sent on, so a retry can send it again
        proxy_request_buffering on;
        proxy_connect_timeout 2s;
        # longer than the server's own 120 s request timeout
        proxy_send_timeout 130s;
        proxy_read_timeout 130s;
        proxy_next_upstream_tries $servers;
        proxy_next_upstream_timeout 30s;

        # Pushes are idempotent on our server: every event carries its device's id and sequence
        # number, and a replayed event is answered as a duplicate, never applied twice. So a push
        # may be retried on the next server even after it reached one that then failed
        # (non_idempotent), which saves the phone a whole resend over a poor link.
        # A 503 from a server means the shared database cannot serve now: another server would
        # answer the same, so it goes to the phone (with its Retry-After) and marks no server
        # failed; only a server that is gone (error, timeout, 502) is skipped.
        location = /api/v1/sync/push {
            proxy_pass http://gocua_servers;
            proxy_next_upstream error timeout http_502 non_idempotent;
        }

        # Everything else: POSTs are not retried once sent (an enrollment spends its one-time
        # code; a retry on another server would answer "code already used"), GETs are.
        location / {
            proxy_pass http://gocua_servers;
            proxy_next_upstream error timeout http_502;
        }
    }
}
EOF
  local nginx
  nginx="$(nginx_bin)"
  # -e: nginx's own early error log, before the config is read (else /var/log/nginx/error.log)
  "$nginx" -t -q -p "$n/" -c "$n/nginx.conf" -e "$n/error.log" >"$n/stdout.log" 2>&1 || {
    show_log_tail "$n/stdout.log" "$n/error.log"
    die "nginx refused its config ($n/nginx.conf)"
  }
  "$nginx" -p "$n/" -c "$n/nginx.conf" -e "$n/error.log" >>"$n/stdout.log" 2>&1 </dev/null || {
    show_log_tail "$n/stdout.log" "$n/error.log"
    die "nginx did not start"
  }
  wait_until 10 "nginx's pid file" test -s "$n/nginx.pid"
  env_put NGINX_PID "$(live_pid "$n/nginx.pid" nginx)"
  wait_until 30 "nginx to answer" http_ok "http://127.0.0.1:$port/api/v1/ready" || {
    show_log_tail "$n/error.log"
    die "nginx does not answer on 127.0.0.1:$port"
  }
  log "nginx: http://127.0.0.1:$port over $servers servers (pid $(env_get NGINX_PID))"
}

stop_nginx() {
  local pid children
  pid="$(live_pid "$dir/nginx/nginx.pid" nginx)"
  [ -n "$pid" ] || return 0
  log "stopping nginx (pid $pid)"
  children="$(pgrep -P "$pid" || true)"
  end_process "$pid" QUIT 10
  local child
  for child in $children; do
    if alive "$child"; then end_process "$child" TERM 5; fi
  done
}

# --- commands ----------------------------------------------------------------------------------

# Stops what has a pid file, newest first; removes the dir.
do_stop() {
  if [ ! -d "$dir" ]; then
    log "nothing to stop: $dir does not exist"
    return 0
  fi
  [ -f "$dir/$marker" ] || die "$dir is not a topology dir (no $marker): not touching it"
  server_bin="$(env_get GOCUA_SERVER_BIN)"
  stop_nginx
  local f i
  for f in "$dir"/server*.pid; do
    [ -e "$f" ] || continue
    i="${f##*/server}"
    stop_server "${i%.pid}"
  done
  stop_postgres_one replica
  stop_postgres_one primary
  rm -rf "$dir"
  log "stopped; removed $dir"
}

start_failed() {
  local status=$?
  trap - EXIT
  log "start failed: stopping what it started"
  do_stop || true
  exit "$status"
}

cmd_start() {
  [[ "$servers" =~ ^[1-9][0-9]*$ ]] || die "--servers needs a number from 1"
  if [ "$mode" = none ]; then servers=0; fi
  command -v python3 >/dev/null 2>&1 || apt_install python3
  command -v curl >/dev/null 2>&1 || apt_install curl
  if [ "$mode" != sqlite ]; then ensure_postgres; fi
  if [ "$mode" != none ]; then ensure_nginx; fi
  pg_bin=""
  if [ "$mode" != sqlite ]; then
    pg_bin="$(find_pg_bin)"
    [ -n "$pg_bin" ] || die "no PostgreSQL under /usr/lib/postgresql/*/bin"
  fi
  server_bin=""
  if [ "$mode" != none ]; then
    server_bin="${GOCUA_SERVER_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/gocua-server}"
    [ -x "$server_bin" ] || die "no server binary at $server_bin: build it (cargo build --release -p gocua-server) or set GOCUA_SERVER_BIN"
    server_bin="$(realpath "$server_bin")"
    if [ "$mode" = postgres ] && ! "$server_bin" serve --help 2>/dev/null | grep -q -- '--read-database'; then
      die "$server_bin has no --read-database (no PostgreSQL backend yet): use --sqlite or --no-servers"
    fi
  fi

  if [ "$dir_given" = 1 ]; then
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty: give a new or empty dir"
  else
    dir="$(mktemp -d -t gocua-topology.XXXXXX)"
  fi
  dir="$(realpath "$dir")"
  [[ "$dir" =~ ^[A-Za-z0-9/._+-]+$ ]] || die "the dir's path may hold only letters, digits and /._+-: $dir"
  # a unix socket's path has at most 107 bytes
  [ "${#dir}" -le 80 ] || die "the dir's path is too long for PostgreSQL's socket: $dir"
  chmod 0755 "$dir"
  : >"$dir/$marker"
  trap start_failed EXIT
  trap 'exit 130' INT TERM

  local primary_port replica_port nginx_port
  read -r primary_port replica_port nginx_port <<<"$(free_ports 3)"
  [ -n "$nginx_port" ] || die "could not find free ports (python3)"
  env_put TOPOLOGY_DIR "$dir"
  env_put SERVER_MODE "$mode"
  env_put SERVER_COUNT "$servers"
  if [ "$mode" != sqlite ]; then
    env_put PG_BIN "$pg_bin"
    env_put PRIMARY_PORT "$primary_port"
    env_put REPLICA_PORT "$replica_port"
    env_put PRIMARY_URL "postgres://postgres@127.0.0.1:$primary_port/gocua"
    env_put REPLICA_URL "postgres://postgres@127.0.0.1:$replica_port/gocua"
    env_put PG_ADMIN_URL "postgres://postgres@127.0.0.1:$primary_port/postgres"
    env_put REPLICA_ADMIN_URL "postgres://postgres@127.0.0.1:$replica_port/postgres"
    env_put PGHOST "$dir/pg/run"
    env_put PGPORT "$primary_port"
    env_put PGUSER postgres
    env_put PRIMARY_DATA "$dir/pg/primary"
    env_put REPLICA_DATA "$dir/pg/replica"
    start_postgres
  fi
  if [ "$mode" != none ]; then
    env_put GOCUA_SERVER_BIN "$server_bin"
    # one after another: each has its database ready (migrated) before the next starts
    local i
    for i in $(seq "$servers"); do
      launch_server "$i" 0
    done
    env_put NGINX_PORT "$nginx_port"
    env_put NGINX_URL "http://127.0.0.1:$nginx_port"
    env_put NGINX_ACCESS_LOG "$dir/nginx/access.log"
    env_put NGINX_ERROR_LOG "$dir/nginx/error.log"
    start_nginx "$nginx_port"
  fi
  trap - EXIT INT TERM
  cat "$dir/env"
}

cmd_status() {
  load_env
  local ok=0 pid state
  echo "TOPOLOGY_DIR=$dir mode=$mode"
  if [ "$mode" != sqlite ]; then
    pid="$(live_pid "$dir/pg/primary/postmaster.pid" postgres)"
    if [ -n "$pid" ] && "$pg_bin/pg_isready" -q -h "$dir/pg/run" -p "$primary_port"; then
      echo "primary   up    pid $pid  127.0.0.1:$primary_port"
    else
      echo "primary   DOWN  (pid ${pid:-none})"
      ok=1
    fi
    pid="$(live_pid "$dir/pg/replica/postmaster.pid" postgres)"
    if [ -n "$pid" ] && state="$(psql_at "$replica_port" postgres \
      "SELECT CASE WHEN pg_is_in_recovery() THEN 'in recovery' ELSE 'NOT IN RECOVERY' END
              || ', replay ' || pg_get_wal_replay_pause_state()
              || ', received ' || coalesce(pg_last_wal_receive_lsn()::text, '-')
              || ', replayed ' || coalesce(pg_last_wal_replay_lsn()::text, '-')" 2>/dev/null)"; then
      local streaming
      streaming="$(psql_at "$primary_port" postgres "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null || echo '?')"
      echo "replica   up    pid $pid  127.0.0.1:$replica_port  ($state; streaming connections on the primary: $streaming)"
    else
      echo "replica   DOWN  (pid ${pid:-none})"
      ok=1
    fi
  fi
  local i url
  for i in $(seq "$servers"); do
    pid="$(live_pid "$dir/server$i.pid" "$(basename "$server_bin")")"
    url="$(env_get "SERVER_${i}_URL")"
    if [ -n "$pid" ] && http_ok "$url/api/v1/health" 2>/dev/null; then
      echo "server $i  up    pid $pid  $url"
    else
      echo "server $i  DOWN  (pid ${pid:-none}) $url"
      ok=1
    fi
  done
  if [ "$mode" != none ]; then
    pid="$(live_pid "$dir/nginx/nginx.pid" nginx)"
    url="$(env_get NGINX_URL)"
    if [ -n "$pid" ] && http_ok "$url/api/v1/health" 2>/dev/null; then
      echo "nginx     up    pid $pid  $url"
    else
      echo "nginx     DOWN  (pid ${pid:-none}) $url"
      ok=1
    fi
  fi
  return "$ok"
}

cmd_restart_postgres() {
  load_env
  [ "$mode" != sqlite ] || die "no PostgreSQL in --sqlite mode"
  log "restarting the primary (pg_ctl restart -m fast)"
  local t0=$SECONDS
  as_pg "$pg_bin/pg_ctl" -D "$dir/pg/primary" -l "$dir/pg/primary.log" -m fast -w -t 60 restart >/dev/null 2>&1 || {
    show_log_tail "$dir/pg/primary.log"
    die "the primary did not restart"
  }
  wait_until 30 "the primary (pg_isready)" "$pg_bin/pg_isready" -q -h "$dir/pg/run" -p "$primary_port" -U postgres
  env_put PRIMARY_PID "$(live_pid "$dir/pg/primary/postmaster.pid" postgres)"
  log "primary back after $((SECONDS - t0))s (pid $(env_get PRIMARY_PID)); waiting for the standby to stream again"
  wait_until 30 "the standby to stream again" replica_streaming
  log "the standby streams again"
}

cmd_replica_pause() {
  load_env
  [ "$mode" != sqlite ] || die "no PostgreSQL in --sqlite mode"
  psql_at "$replica_port" postgres "SELECT pg_wal_replay_pause()" >/dev/null
  log "standby replay: $(psql_at "$replica_port" postgres "SELECT pg_get_wal_replay_pause_state()")"
}

cmd_replica_resume() {
  load_env
  [ "$mode" != sqlite ] || die "no PostgreSQL in --sqlite mode"
  psql_at "$replica_port" postgres "SELECT pg_wal_replay_resume()" >/dev/null
  local lsn
  lsn="$(psql_at "$primary_port" postgres "SELECT pg_current_wal_lsn()")"
  wait_until 30 "the standby to replay up to $lsn" replica_caught_up "$lsn"
  log "standby replay resumed and caught up to $lsn"
}

cmd_kill_server() {
  load_env
  server_index
  local pid
  pid="$(live_pid "$dir/server$index.pid" "$(basename "$server_bin")")"
  [ -n "$pid" ] || die "server $index is not running"
  kill -KILL "$pid"
  local _i
  for _i in $(seq 100); do
    alive "$pid" || break
    sleep 0.1
  done
  rm -f "$dir/server$index.pid"
  env_put "SERVER_${index}_PID" ""
  log "server $index (pid $pid) killed"
}

cmd_start_server() {
  load_env
  server_index
  [ -z "$(live_pid "$dir/server$index.pid" "$(basename "$server_bin")")" ] || die "server $index is running already"
  local port
  port="$(env_get "SERVER_${index}_PORT")"
  [ -n "$port" ] || die "server $index has no recorded port"
  launch_server "$index" "$port"
}

case "$action" in
  start) cmd_start ;;
  stop)
    [ -n "$dir" ] || die "which topology? pass --dir DIR or set TOPOLOGY_DIR"
    do_stop
    ;;
  status) cmd_status ;;
  restart-postgres) cmd_restart_postgres ;;
  kill-server) cmd_kill_server ;;
  start-server) cmd_start_server ;;
  replica-pause) cmd_replica_pause ;;
  replica-resume) cmd_replica_resume ;;
  *) usage ;;
esac
