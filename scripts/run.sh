#!/usr/bin/env bash
# Starts the Gõ Cửa server on an embedded SQLite file with a demo commune (Xã Mường Tè, Lai Châu)
# and prints one-time enrollment codes for its demo volunteer and commune police officer.
# Installs what is missing first. Usage: bash scripts/run.sh   (Ctrl-C stops it)
# Settings: GOCUA_LISTEN (default 127.0.0.1:8080), GOCUA_DATA_DIR (default ~/.local/share/gocua).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
ensure_rust
ensure_c_toolchain

data_dir="${GOCUA_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/gocua}"
listen="${GOCUA_LISTEN:-127.0.0.1:8080}"
mkdir -p "$data_dir"
cargo build --release --locked -p gocua-server
target_dir="${CARGO_TARGET_DIR:-target}"
echo "database: $data_dir/server.sqlite"
exec "$target_dir/release/gocua-server" serve --listen "$listen" --database "$data_dir/server.sqlite" --demo
