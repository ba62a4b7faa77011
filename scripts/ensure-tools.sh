#!/usr/bin/env bash
# Installs what the build and tests need when it is missing on a fresh Debian 12 machine (run
# as root). Sourced by run.sh and test.sh; prints what it installs, stays quiet otherwise.
set -euo pipefail

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "missing packages: $* — install them (as root: apt-get install $*)" >&2
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  echo "installing: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install Rust (https://rustup.rs) with the rustfmt and clippy components" >&2
    exit 1
  fi
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
}

ensure_c_toolchain() {
  local missing=()
  command -v cc >/dev/null 2>&1 || missing+=(build-essential)
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
}

# The system libraries Tauri 2 links against on Linux.
ensure_tauri_libs() {
  ensure_c_toolchain
  local missing=()
  pkg-config --exists webkit2gtk-4.1 || missing+=(libwebkit2gtk-4.1-dev)
  pkg-config --exists libsoup-3.0 || missing+=(libsoup-3.0-dev)
  pkg-config --exists javascriptcoregtk-4.1 || missing+=(libjavascriptcoregtk-4.1-dev)
  pkg-config --exists librsvg-2.0 || missing+=(librsvg2-dev)
  pkg-config --exists ayatana-appindicator3-0.1 || missing+=(libayatana-appindicator3-dev)
  pkg-config --exists openssl || missing+=(libssl-dev)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
}

ensure_node() {
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
}

# A real window without a screen: Xvfb, WebKitWebDriver and tauri-driver.
ensure_window_test_tools() {
  local missing=()
  command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb xauth)
  command -v WebKitWebDriver >/dev/null 2>&1 || missing+=(webkit2gtk-driver)
  command -v pgrep >/dev/null 2>&1 || missing+=(procps)
  # the app keeps its database key in the Secret Service (scripts/with-keyring.sh)
  command -v dbus-run-session >/dev/null 2>&1 || missing+=(dbus-daemon)
  command -v gnome-keyring-daemon >/dev/null 2>&1 || missing+=(gnome-keyring)
  command -v secret-tool >/dev/null 2>&1 || missing+=(libsecret-tools)
  # the encryption test opens the device database with the plain sqlite3 shell
  command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
  if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
    echo "installing: tauri-driver (cargo install)"
    cargo install tauri-driver --version '^2' --locked --quiet
  fi
}

# Builds the UI into ui/dist (the app embeds it at compile time).
build_ui() {
  ensure_node
  (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)
}

# Builds the district dashboard into web/dist (the server serves it with --dashboard-dir).
build_web() {
  ensure_node
  (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build)
}

# Debian's Chromium: the dashboard's browser tests drive it headless with playwright-core
# (which downloads no browser of its own).
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    return
  fi
  apt_install chromium
}

# PostgreSQL from Debian's packages, for scripts/topology.sh (which runs its own clusters in a
# temp dir). The package creates a system cluster (15/main on port 5432) and, where services may
# start (no policy-rc.d refusing them, as in most containers), starts it: a cluster that this
# install started is stopped again (not deleted), so nothing is left serving.
ensure_postgres() {
  if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    return
  fi
  local before
  before="$(online_postgres_clusters)"
  apt_install postgresql
  stop_postgres_clusters_except "$before"
}

# "VERSION CLUSTER" of each running system cluster (postgresql-common), one a line.
online_postgres_clusters() {
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | awk '$4 ~ /^online/ {print $1, $2}'
  fi
}

# Stops the running system clusters that are not in $1 (lines of "VERSION CLUSTER").
stop_postgres_clusters_except() {
  local keep="$1" version cluster
  while read -r version cluster; do
    [ -n "$version" ] || continue
    if ! grep -qxF "$version $cluster" <<<"$keep"; then
      echo "stopping the system PostgreSQL cluster $version/$cluster that the package started"
      pg_ctlcluster "$version" "$cluster" stop || true
    fi
  done < <(online_postgres_clusters)
}

# nginx from Debian's packages, for scripts/topology.sh (which runs its own nginx with its own
# prefix). Where services may start, the package starts the system nginx on port 80; it is
# stopped again here (through its pid file when neither systemctl nor service can).
ensure_nginx() {
  if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    return
  fi
  apt_install nginx
  stop_system_nginx /run/nginx.pid
}

# Debian's LibreOffice Calc without a GUI: the appendix test converts the server's XLSX with
# `soffice --headless --convert-to csv` (a real reader nobody here wrote), each run with its own
# profile (-env:UserInstallation).
ensure_libreoffice() {
  if command -v soffice >/dev/null 2>&1; then
    return
  fi
  apt_install libreoffice-calc-nogui
}

# Stops the nginx whose master's pid is in the file $1, if it runs.
stop_system_nginx() {
  local pid
  pid="$(cat "$1" 2>/dev/null || true)"
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    return
  fi
  echo "stopping the system nginx (pid $pid) that the package started"
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl stop nginx >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    service nginx stop >/dev/null 2>&1 || true
  fi
  local _i
  if kill -0 "$pid" 2>/dev/null; then
    kill -QUIT "$pid" 2>/dev/null || true # graceful: workers finish, then the master exits
    for _i in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || return 0
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
}
