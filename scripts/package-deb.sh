#!/usr/bin/env bash
# Builds the office's installable Debian/Ubuntu package of the field app (gocua-app) with the
# Tauri bundler: the UI and the release binary as scripts/run.sh builds them (npm ci + vite
# build, then a --locked release build with the default feature set: tauri-cli spells it
# `--no-default-features --features tauri/custom-protocol`, which is what `default` holds), by
# `cargo tauri build --bundles deb`. Installs what is missing first (the Tauri build libraries,
# node, and tauri-cli of the same major version as the workspace's tauri, by `cargo install`).
# Prints the path of the .deb as its only line on stdout (everything else goes to stderr), so
#   bash scripts/test-deb.sh "$(bash scripts/package-deb.sh)"
# builds and then tests it. Bundle metadata: src-tauri/tauri.conf.json > bundle.
# Usage: bash scripts/package-deb.sh    (honours CARGO_TARGET_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
# stdout is kept for the path alone
exec 3>&1 1>&2
source scripts/ensure-tools.sh
ensure_rust
ensure_tauri_libs
command -v dpkg-deb >/dev/null 2>&1 || apt_install dpkg

# tauri-cli of the workspace's tauri major version (Cargo.lock holds the exact tauri version).
tauri_major="$(awk '/^name = "tauri"$/ {getline; gsub(/"/, "", $3); split($3, v, "."); print v[1]; exit}' Cargo.lock)"
if [ -z "$tauri_major" ]; then
  echo "package-deb: no tauri crate in Cargo.lock" >&2
  exit 1
fi
cli_major="$(cargo tauri --version 2>/dev/null | awk '{split($2, v, "."); print v[1]}' || true)"
if [ "$cli_major" != "$tauri_major" ]; then
  echo "installing: tauri-cli ^$tauri_major (cargo install; the workspace uses tauri $tauri_major.x)"
  cargo install tauri-cli --locked --version "^$tauri_major" --quiet
fi
echo "tauri-cli: $(cargo tauri --version)"

build_ui

target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
export CARGO_TARGET_DIR="$target_dir"
out_dir="$target_dir/release/bundle/deb"
rm -f "$out_dir"/*.deb
# --ci: no prompts; after `--`: arguments for `cargo build` (the lock file is the law, as in run.sh)
(cd src-tauri && cargo tauri build --ci --bundles deb -- --locked)

shopt -s nullglob
debs=("$out_dir"/*.deb)
if [ "${#debs[@]}" != 1 ]; then
  echo "package-deb: expected one .deb in $out_dir, found ${#debs[@]}" >&2
  exit 1
fi
deb="${debs[0]}"
dpkg-deb --field "$deb" Package Version Architecture Installed-Size Depends

# The Depends' "libc6 (>= X)" must cover the newest glibc symbol the binary uses, or apt would
# install it where the loader then refuses it. (The other libraries: scripts/test-deb.sh.)
needs_glibc="$(objdump -T "$target_dir/release/gocua-app" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)"
declared_glibc="$(dpkg-deb --field "$deb" Depends | sed -n 's/.*libc6 (>= \([0-9.]*\)).*/\1/p')"
if [ -z "$declared_glibc" ] || dpkg --compare-versions "$needs_glibc" gt "$declared_glibc"; then
  echo "package-deb: the binary needs glibc $needs_glibc but the package declares libc6 (>= ${declared_glibc:-nothing}):" \
    "set \"libc6 (>= $needs_glibc)\" in src-tauri/tauri.conf.json > bundle > linux > deb > depends" >&2
  exit 1
fi
echo "glibc: the binary needs $needs_glibc, the package declares libc6 (>= $declared_glibc)"
echo "package: $(du -h "$deb" | cut -f1)  $deb"
echo "$deb" >&3
