#!/usr/bin/env bash
# Starts the Gõ Cửa server on an embedded SQLite file with a demo commune (Xã Mường Tè, Lai Châu,
# with made-up households) and the district dashboard at /dashboard/, and launches the field app
# enrolled against it. Without a display,
# the app says so and the server keeps running; this script then says how to open the app.
# Installs what is missing first. Usage: bash scripts/run.sh   (Ctrl-C stops it)
# Settings: GOCUA_LISTEN (default 127.0.0.1:8080), GOCUA_DATA_DIR (default ~/.local/share/gocua).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
ensure_rust
ensure_tauri_libs

data_dir="${GOCUA_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/gocua}"
listen="${GOCUA_LISTEN:-127.0.0.1:8080}"
target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$data_dir"
build_ui
build_web
cargo build --release --locked -p gocua-server -p gocua-app

server_log="$data_dir/server.log"
: >"$server_log"
"$target_dir/release/gocua-server" serve --listen "$listen" --database "$data_dir/server.sqlite" --demo \
  --dashboard-dir web/dist \
  > >(tee -a "$server_log") 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 100); do
  grep -q "listening on" "$server_log" && break
  kill -0 "$server_pid" 2>/dev/null || { echo "the server stopped: see $server_log" >&2; exit 1; }
  sleep 0.1
done
url="$(grep -o 'http://[^ ]*' "$server_log" | tail -1)"
code="$(grep '\[volunteer\]' "$server_log" | tail -1 | awk '{print $NF}')"
echo "database: $data_dir/server.sqlite"
echo "bảng điều khiển / dashboard: $url/dashboard/ (tài khoản: README, \"Bảng điều khiển\" / accounts: README, \"District dashboard\")"

app="$target_dir/release/gocua-app"
set +e
GOCUA_SERVER_URL="$url" GOCUA_ENROLL_CODE="$code" "$app"
status=$?
set -e
if [ "$status" = 2 ]; then
  echo
  echo "Không có màn hình: máy chủ vẫn chạy tại $url / No display: the server keeps running at $url."
  echo "Mở ứng dụng trên máy có màn hình / open the app where there is a display:"
  echo "  GOCUA_SERVER_URL=$url GOCUA_ENROLL_CODE=$code $app"
  echo "or in a virtual one (with a throw-away key store for the database key):"
  echo "  GOCUA_SERVER_URL=$url GOCUA_ENROLL_CODE=$code bash scripts/with-keyring.sh xvfb-run -a $app"
  wait "$server_pid"
fi
