#!/usr/bin/env bash
# Regenerates ui/src/bindings/ (TypeScript types of the Rust values the UI sees, by ts-rs).
# Usage: bash scripts/bindings.sh           # rewrite the committed files
#        bash scripts/bindings.sh --check   # fail if the committed files are stale (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export TS_RS_EXPORT_DIR="$tmp" TS_RS_LARGE_INT=number
cargo test -q --locked -p gocua-core --features ts export_bindings >/dev/null
cargo test -q --locked -p gocua-app --features ts --lib export_bindings >/dev/null
if [ "${1:-}" = --check ]; then
  if ! diff -ru ui/src/bindings "$tmp"; then
    echo "ui/src/bindings is stale: run bash scripts/bindings.sh and commit the result" >&2
    exit 1
  fi
  echo "bindings are up to date ($(ls "$tmp" | wc -l) files)"
else
  rm -rf ui/src/bindings
  cp -r "$tmp" ui/src/bindings
  echo "wrote $(ls ui/src/bindings | wc -l) files to ui/src/bindings"
fi
