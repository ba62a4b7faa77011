#!/usr/bin/env bash
# Dependency audit: `cargo audit` against a local copy of the RustSec advisory database (it
# cannot be fetched from the build machines), and `npm audit` for the UI. A check that cannot
# run says so on a line of its own ("NOT RUN: …") instead of passing silently; a check that
# runs and finds a vulnerability fails. Usage: bash scripts/audit-deps.sh
# Settings: GOCUA_ADVISORY_DB (default ../shared/advisory-db beside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
db="${GOCUA_ADVISORY_DB:-../shared/advisory-db}"
status=0

if [[ -d "$db/crates" ]]; then
  if ! command -v cargo-audit >/dev/null 2>&1; then
    echo "installing: cargo-audit (cargo install)"
    cargo install cargo-audit --locked --quiet
  fi
  echo "cargo audit: advisory database $(head -1 "$db/SNAPSHOT.txt" 2>/dev/null || echo "$db")"
  # audit.toml lists the advisories we accept, each with the reason
  if ! cargo audit --db "$db" --no-fetch --stale --deny warnings -c never; then
    status=1
  fi
else
  echo "cargo audit: NOT RUN: no advisory database at $db (it cannot be fetched here)"
fi

if out="$(cd ui && npm audit --audit-level=moderate 2>&1)"; then
  echo "npm audit: no known vulnerability"
elif grep -q "audit endpoint returned an error\|ENOTFOUND\|EAI_AGAIN\|405" <<<"$out"; then
  echo "npm audit: NOT RUN: the npm registry here does not answer audit requests:"
  grep -m1 "audit" <<<"$out" | sed 's/^/  /'
else
  echo "$out"
  status=1
fi
exit "$status"
