#!/usr/bin/env bash
# Benchmark (issue 4): our batched sync and the OpenRosa-style baselines side by side, in one
# run, through the same emulated link: gocua-sim runs a gocua-linksim with PROFILE in-process in
# front of its target and counts the bytes on the wire there (both ways, HTTP headers included).
#   gocua               one phone records VISITS visits offline (households of four made-up
#                       residents), then syncs with a real gocua-server on a temp SQLite file
#   gocua-cut           the same, the link cutting every connection after CUT_BYTES bytes
#                       and/or every live connection at CUT_AT seconds into the sync
#   gocua-lost-acks     the same, the link losing the answer to every LOSE_ACK_EVERYth push
#                       (the server applied the batch; the phone never hears so and resends)
#   openrosa-household  the same visits, one multipart POST /submission per household visit
#   openrosa-visit      the same visits, one multipart POST /submission per resident visit
# Prints each run's JSON line, then the ratios. Each gocua run gets a fresh server.
# Usage: bash scripts/bench-baseline.sh [PROFILE=edge] [VISITS=500] [SEED=1]
#   RUNS="gocua gocua-cut gocua-lost-acks openrosa-household openrosa-visit" (default) picks runs;
#   CUT_BYTES=16000 (default; 0: none) the cut run's budget per connection;
#   CUT_AT=S1,S2,… (default: none) seconds into the sync at which the cut run's link drops;
#   LOSE_ACK_EVERY=4 (default).
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-edge}" visits="${2:-500}" seed="${3:-1}"
runs="${RUNS:-gocua gocua-cut gocua-lost-acks openrosa-household openrosa-visit}"
cut_bytes="${CUT_BYTES:-16000}" cut_at="${CUT_AT:-}" lose_ack_every="${LOSE_ACK_EVERY:-4}"
cuts=()
[[ "$cut_bytes" == 0 ]] || cuts+=(--cut-after-bytes "$cut_bytes")
[[ -z "$cut_at" ]] || cuts+=(--cut-at "$cut_at")
cargo build -q --release --locked -p gocua-server -p gocua-linksim -p gocua-sim
dir="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT
# every run of this script uses the same binaries, even if the shared target dir is rebuilt meanwhile
bin="$dir/bin"
mkdir "$bin"
cp "${CARGO_TARGET_DIR:-target}/release/"{gocua-server,gocua-sim} "$bin/"

# a fresh server with two hamlets under commune 03445: its URL in $server, its database in $db
n=0
start_server() {
  n=$((n + 1))
  db="$dir/server-$n.sqlite"
  "$bin/gocua-server" admin --database "$db" import-places >/dev/null 2>&1
  for i in 1 2; do
    "$bin/gocua-server" admin --database "$db" add-place --code "03445-0$i" --name "Bản $i" \
      --level hamlet --parent 03445 >/dev/null 2>&1
  done
  GOCUA_LOG=warn "$bin/gocua-server" serve --listen 127.0.0.1:0 --database "$db" >"$dir/server-$n.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -qs 'listening on' "$dir/server-$n.out" && break; sleep 0.1; done
  server="$(grep -o 'http://[^ ]*' "$dir/server-$n.out")"
}

# field JSON NAME: a number from a flat JSON line
field() { grep -o "\"$2\":[0-9.]*" <<<"$1" | cut -d: -f2; }

declare -A out
sim=("$bin/gocua-sim" --devices 1 --visits "$visits" --seed "$seed" --link "$profile")
for run in $runs; do
  case "$run" in
    gocua) start_server
      line="$("${sim[@]}" --server "$server" --admin-database "$db" | tail -1)" ;;
    gocua-cut) start_server
      line="$("${sim[@]}" --server "$server" --admin-database "$db" "${cuts[@]}" | tail -1)" ;;
    gocua-lost-acks) start_server
      line="$("${sim[@]}" --server "$server" --admin-database "$db" \
        --lose-ack-every "$lose_ack_every" | tail -1)" ;;
    openrosa-household | openrosa-visit)
      line="$("${sim[@]}" --baseline "$run" | tail -1)" ;;
    *) echo "unknown run $run" >&2; exit 2 ;;
  esac
  # stop this run's server (if any) before the next run
  kill "${pids[@]}" 2>/dev/null || true
  pids=()
  out[$run]="$line"
  echo "$run: $line"
done

# wire bytes (up + down) per household visit of a run
per_household() {
  awk -v u="$(field "$1" wire_bytes_up)" -v d="$(field "$1" wire_bytes_down)" \
    -v h="$(field "$1" households)" 'BEGIN { printf "%.0f", (u + d) / h }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "profile $profile, $visits visits, seed $seed"
case "$profile" in edge) goal=" (goal <= 10 s)" ;; 2g | 2g-rural) goal=" (goal <= 90 s)" ;; *) goal="" ;; esac
if [[ -n "${out[gocua]:-}" ]]; then
  ours="$(per_household "${out[gocua]}")" ours_s="$(field "${out[gocua]}" sync_seconds)"
  echo "gocua: $ours wire bytes per household visit; sync $ours_s s$goal"
  for base in openrosa-household openrosa-visit; do
    [[ -n "${out[$base]:-}" ]] || continue
    theirs="$(per_household "${out[$base]}")" theirs_s="$(field "${out[$base]}" sync_seconds)"
    line="$base: $theirs wire bytes per household visit; upload $theirs_s s;"
    line+=" bytes ours/theirs $(ratio "$ours" "$theirs")"
    [[ "$base" == openrosa-household ]] && line+=" (goal <= 0.100)"
    line+="; seconds theirs/ours $(ratio "$theirs_s" "$ours_s")"
    [[ "$base" == openrosa-visit && "$profile" == edge ]] && line+=" (goal >= 20)"
    echo "$line"
  done
fi
for run in gocua-cut gocua-lost-acks; do
  c="${out[$run]:-}"
  [[ -n "$c" ]] || continue
  case "$run" in
    gocua-cut) how="${cuts[*]}" ;;
    *) how="the answer to every push number $lose_ack_every, $((2 * lose_ack_every)), … lost" ;;
  esac
  echo "$run ($how): $(field "$c" link_cuts) cuts, $(field "$c" failed_rounds) failed rounds," \
    "duplicates $(field "$c" duplicates), events resent $(field "$c" events_resent)" \
    "($(field "$c" bytes_resent) body bytes), acknowledged" \
    "$(field "$c" events_acknowledged)/$(field "$c" events_sent), sync $(field "$c" sync_seconds) s"
  if [[ -n "${out[gocua]:-}" ]]; then
    echo "$run wire bytes against gocua: $(ratio \
      "$(($(field "$c" wire_bytes_up) + $(field "$c" wire_bytes_down)))" \
      "$(($(field "${out[gocua]}" wire_bytes_up) + $(field "${out[gocua]}" wire_bytes_down)))")"
  fi
done
