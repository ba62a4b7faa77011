#!/usr/bin/env bash
# Benchmark (issue 5): the app's start-to-interactive time in a real window under Xvfb. Each run
# starts the release app on a fresh data folder (the enroll screen, as on a new phone) and stops
# when the UI's first screen has painted and answered its first data call (the app's
# `mark_interactive` command). Prints, per run, the time from exec to then (measured here) and
# from `main` to then (measured by the app), then the medians.
# Usage: bash scripts/bench-start.sh [RUNS=7]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
ensure_rust
ensure_tauri_libs
ensure_window_test_tools
runs="${1:-7}"
build_ui
cargo build -q --release --locked -p gocua-app
app="${CARGO_TARGET_DIR:-target}/release/gocua-app"
export APP="$app" RUNS="$runs"
bash scripts/with-keyring.sh xvfb-run -a --server-args="-screen 0 1280x1024x24" bash -c '
  wall=() inapp=()
  for i in $(seq "$RUNS"); do
    home="$(mktemp -d)"
    start=$(date +%s%N)
    XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache" \
      GOCUA_DEVICE_DB="$home/device.sqlite" GOCUA_EXIT_WHEN_INTERACTIVE=1 \
      timeout 60 "$APP" 2>"$home/err" || true
    end=$(date +%s%N)
    ms="$(grep -o "interactive [0-9]* ms" "$home/err" | grep -o "[0-9]*" || true)"
    if [[ -z "$ms" ]]; then echo "run $i: the app never became interactive:"; cat "$home/err"; exit 1; fi
    w=$(( (end - start) / 1000000 ))
    echo "run $i: exec to interactive ${w} ms; main to interactive ${ms} ms"
    wall+=("$w") inapp+=("$ms")
    rm -rf "$home"
  done
  median() { printf "%s\n" "$@" | sort -n | awk "{a[NR]=\$1} END {print a[int((NR+1)/2)]}"; }
  echo "median of $RUNS runs: exec to interactive $(median "${wall[@]}") ms; main to interactive $(median "${inapp[@]}") ms"
'
