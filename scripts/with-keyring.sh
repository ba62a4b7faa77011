#!/usr/bin/env bash
# Runs a command inside its own D-Bus session with GNOME Keyring's Secret Service unlocked, as
# a desktop session would have: the app keeps its database key there. For tests and headless
# runs only; the keyring lives under $XDG_DATA_HOME (a throw-away folder unless you set one) and
# is unlocked with a throw-away password. Usage: bash scripts/with-keyring.sh CMD [ARG...]
set -euo pipefail
if [[ "${GOCUA_IN_KEYRING:-}" == 1 ]]; then exec "$@"; fi
export XDG_DATA_HOME="${XDG_DATA_HOME:-$(mktemp -d)}"
export GOCUA_IN_KEYRING=1
exec dbus-run-session -- bash -c '
  printf "%s" "gocua-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
  exec "$@"' with-keyring "$@"
