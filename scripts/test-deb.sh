#!/usr/bin/env bash
# The install test of the office's .deb (scripts/package-deb.sh builds it): a FRESH Debian 12 root
# (debootstrap --variant=minbase from the host's apt mirror), the package installed in it with
# `apt-get install --no-install-recommends ./gocua_….deb`, so its declared Depends alone are
# resolved from the mirror and a missing one fails here; then the installed app is started as an
# ordinary user under Xvfb, in a D-Bus session with an unlocked GNOME Keyring as a desktop login
# gives (scripts/with-keyring.sh), and must really start. It asserts, in order:
#   1. apt installs the package; dpkg -L lists the binary, the .desktop file and the icons, and
#      the .desktop file's Exec and Icon name them;
#   2. every shared library the binary needs resolves (ldd), before any test tool is installed;
#   3. with no display it exits 2 with its one-line message (main ran on the bare install);
#   4. under xvfb-run: the UI becomes interactive (the app's "interactive N ms" line: the page
#      painted and answered its first IPC call), the window "Gõ Cửa" is mapped (xdotool),
#      WebKit's web process runs, the app is still up GOCUA_DEB_TEST_SECONDS (10) later, and its
#      device database exists and is encrypted (not a plain SQLite file); then it is stopped.
#      (This step runs in a network namespace of its own, so its Xvfb cannot meet another.)
# Exits non-zero with "test-deb: FAIL: …" on any failure. Every exit path kills what runs in the
# root and unmounts proc/sys/devpts/shm (trap). The base root is cached as a tarball under
# /var/tmp/gocua-deb-test-cache (GOCUA_DEB_TEST_CACHE; GOCUA_DEB_TEST_REFRESH=1 rebuilds it) and
# unpacked fresh for every run; downloaded packages are kept there too (hard links), like a
# caching proxy: apt still resolves every dependency from the mirror's indexes on each run.
# GOCUA_DEB_TEST_KEEP=1 keeps the (unmounted) root for a look afterwards.
# Usage (root, Debian 12 host): bash scripts/test-deb.sh PATH/TO/gocua_VERSION_ARCH.deb
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "test-deb: FAIL: $*" >&2
  exit 1
}
started=$SECONDS
step() { printf '[test-deb %4ds] %s\n' "$((SECONDS - started))" "$*"; }
# Runs a long command in the background and waits for it: a trapped INT/TERM then interrupts the
# wait at once (bash would otherwise run the trap only after a foreground command ends).
waited() {
  "$@" &
  wait "$!"
}

[ "$#" = 1 ] || fail "usage: bash scripts/test-deb.sh PATH/TO/PACKAGE.deb"
[ -f "$1" ] || fail "no such package: $1"
deb="$(realpath "$1")"
[ "$(id -u)" = 0 ] || fail "run as root (debootstrap, chroot and mounts need it)"

source scripts/ensure-tools.sh
command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
command -v zstd >/dev/null 2>&1 || apt_install zstd
command -v python3 >/dev/null 2>&1 || apt_install python3
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || apt_install debian-archive-keyring

pkg="$(dpkg-deb --field "$deb" Package)"
arch="$(dpkg-deb --field "$deb" Architecture)"
[ "$arch" = "$(dpkg --print-architecture)" ] || fail "the package is for $arch, this machine is $(dpkg --print-architecture)"
suite=bookworm
settle="${GOCUA_DEB_TEST_SECONDS:-10}"
cache="${GOCUA_DEB_TEST_CACHE:-/var/tmp/gocua-deb-test-cache}"
mkdir -p "$cache/archives"

# The mirror apt already uses here (deb822 .sources or a classic sources.list), for the main
# archive and for security updates; deb.debian.org when none is configured.
apt_uri() { # $1: a regular expression a suite must match
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$1" '
      /^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i ~ want) ok = 1 }
      END { if (uri != "" && ok) print uri }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v want="$1" '$1 == "deb" { u = ($2 ~ /^\[/) ? 3 : 2; if ($(u + 1) ~ want) print $u }' "$f"
  done
  return 0
}
mirror="${GOCUA_DEB_MIRROR:-$(apt_uri "^$suite\$" | sed -n 1p)}"
mirror="${mirror:-http://deb.debian.org/debian}"
security="${GOCUA_DEB_SECURITY_MIRROR:-$(apt_uri "^$suite-security\$" | sed -n 1p)}"
security="${security:-http://deb.debian.org/debian-security}"

# --- cleanup: on every exit path -------------------------------------------------------------
work="" boot=""
mounts_under() { # mount points at or below $1, deepest first
  awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
kill_inside() { # every process whose root directory is $1 (all of them were started here)
  local sig proc pid r
  for sig in TERM KILL; do
    for proc in /proc/[0-9]*; do
      pid="${proc#/proc/}"
      r="$(readlink "$proc/root" 2>/dev/null || true)"
      if [ "$r" = "$1" ] || [[ "$r" == "$1/"* ]]; then
        kill "-$sig" "$pid" 2>/dev/null || true
      fi
    done
    [ "$sig" = TERM ] && sleep 1
  done
}
release_root() { # $1: a root directory; kills, unmounts; non-zero when a mount would not go
  local dir="$1" m
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  kill_inside "$dir"
  for m in $(mounts_under "$dir"); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  if [ -n "$(mounts_under "$dir")" ]; then
    echo "test-deb: still mounted under $dir (left in place): $(mounts_under "$dir" | tr '\n' ' ')" >&2
    return 1
  fi
}
cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$boot" ]; then
    release_root "$boot/root" && rm -rf "$boot"
  fi
  if [ -n "$work" ]; then
    if release_root "$work/root"; then
      if [ "${GOCUA_DEB_TEST_KEEP:-}" = 1 ]; then
        echo "test-deb: the root is kept (unmounted) at $work/root"
      else
        rm -rf "$work"
      fi
    fi
  fi
  if [ "$status" = 0 ]; then
    step "PASS ($pkg, $(dpkg-deb --field "$deb" Version))"
  else
    step "failed (exit $status)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the base root: debootstrap once, then a tarball --------------------------------------------
base="$cache/debian-$suite-$arch-minbase.tar.zst"
stamp="$cache/debian-$suite-$arch-minbase.source"
if [ "${GOCUA_DEB_TEST_REFRESH:-}" = 1 ] || [ ! -f "$base" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$mirror $security" ]; then
  step "no cached base root: debootstrap --variant=minbase $suite from $mirror"
  boot="$(mktemp -d /var/tmp/gocua-debootstrap.XXXXXX)"
  waited debootstrap --variant=minbase --arch="$arch" \
    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    "$suite" "$boot/root" "$mirror" >"$boot/debootstrap.log" 2>&1 ||
    { tail -n 30 "$boot/debootstrap.log" >&2; fail "debootstrap from $mirror failed (its log is above)"; }
  cat >"$boot/root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
  rm -rf "$boot/root/var/cache/apt/archives/"*.deb "$boot/root/var/lib/apt/lists/"*_Packages*
  release_root "$boot/root" || fail "debootstrap left mounts behind in $boot/root"
  tar -C "$boot/root" --numeric-owner -cf - . | zstd -q -f -T0 -3 -o "$base.part"
  mv "$base.part" "$base"
  echo "$mirror $security" >"$stamp"
  rm -rf "$boot"
  boot=""
  step "cached the base root: $base ($(du -h "$base" | cut -f1))"
fi

# --- a fresh copy for this run --------------------------------------------------------------
work="$(mktemp -d /var/tmp/gocua-deb-test.XXXXXX)"
root="$work/root"
mkdir "$root"
zstd -q -dc "$base" | tar -C "$root" --numeric-owner -xf -
step "fresh root unpacked: $root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# packages never start services in this root
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777,size=256m shm "$root/dev/shm"

in_root() { # runs a command in the root as root, with a clean environment
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
apt_in_root() { # apt-get install in the root, with the downloaded-packages cache
  local f
  find "$cache/archives" -maxdepth 1 -name '*.deb' -exec ln -f -t "$root/var/cache/apt/archives/" {} + 2>/dev/null ||
    find "$cache/archives" -maxdepth 1 -name '*.deb' -exec cp -t "$root/var/cache/apt/archives/" {} +
  set +e
  waited in_root apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 \
    -o Dpkg::Options::=--force-unsafe-io "$@" >"$work/apt.log" 2>&1
  local status=$?
  set -e
  for f in "$root/var/cache/apt/archives/"*.deb; do
    [ -e "$f" ] && [ ! -e "$cache/archives/${f##*/}" ] && { ln "$f" "$cache/archives/" 2>/dev/null || cp "$f" "$cache/archives/"; }
  done
  return "$status"
}

step "apt-get update (mirror: $mirror, security: $security)"
waited in_root apt-get update -q >"$work/apt-update.log" 2>&1 || { cat "$work/apt-update.log" >&2; fail "apt-get update in the root failed"; }

# --- 1. install the package: its Depends resolved from the mirror -----------------------------
cp "$deb" "$root/tmp/"
step "apt-get install --no-install-recommends ./${deb##*/}"
apt_in_root "/tmp/${deb##*/}" ||
  { tail -n 40 "$work/apt.log" >&2; fail "apt-get could not install ${deb##*/} in a fresh Debian $suite (log above)"; }
step "installed $pkg and $(($(grep -c '^Setting up' "$work/apt.log") - 1)) packages it depends on ($(grep -cE '^Get:[0-9]+ https?:' "$work/apt.log" || true) downloaded, the rest from the cache)"
# shellcheck disable=SC2016 # dpkg-query's own ${field} syntax
[ "$(in_root dpkg-query -W -f '${Status}' "$pkg")" = "install ok installed" ] || fail "dpkg does not list $pkg as installed"

listing="$(in_root dpkg -L "$pkg")"
bin_path="$(grep -E '^/usr/bin/[^/]+$' <<<"$listing" | head -1)"
desktop="$(grep -E '^/usr/share/applications/[^/]+\.desktop$' <<<"$listing" | head -1)"
[ -n "$bin_path" ] || fail "dpkg -L $pkg lists no binary in /usr/bin"
[ -n "$desktop" ] || fail "dpkg -L $pkg lists no .desktop file in /usr/share/applications"
bin="${bin_path##*/}"
icons="$(grep -E "^/usr/share/icons/hicolor/[0-9]+x[0-9]+(@2)?/apps/$bin\.png$" <<<"$listing" || true)"
[ -n "$icons" ] || fail "dpkg -L $pkg lists no icon /usr/share/icons/hicolor/*/apps/$bin.png"
[ -x "$root$bin_path" ] || fail "$bin_path is not executable"
grep -qx "Exec=$bin" "$root$desktop" || fail "$desktop does not start $bin (Exec=$(grep -m1 '^Exec=' "$root$desktop"))"
grep -qx "Icon=$bin" "$root$desktop" || fail "$desktop does not name the icon $bin"
step "dpkg -L: $bin_path, $desktop, $(wc -l <<<"$icons") icons ($(grep -o '[0-9]*x[0-9]*' <<<"$icons" | tr '\n' ' '))"

# --- 2. every library resolves, with only the package's own Depends installed -----------------
ldd_out="$(in_root ldd "$bin_path" 2>&1)" || fail "ldd $bin_path failed: $ldd_out"
if grep -q 'not found' <<<"$ldd_out"; then
  grep 'not found' <<<"$ldd_out" >&2
  fail "$bin_path needs libraries that $pkg's Depends did not bring (above)"
fi
step "ldd: all $(grep -c '=>' <<<"$ldd_out") libraries resolve"

# --- 3. main runs on the bare install: no display, status 2 and its message -------------------
set +e
nodisplay="$(timeout 60 chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root "$bin_path" 2>&1)"
status=$?
set -e
[ "$status" = 2 ] || fail "without a display $bin should exit 2 and say so; it exited $status: $nodisplay"
grep -q "no display" <<<"$nodisplay" || fail "without a display $bin exited 2 but did not say why: $nodisplay"
step "no display: exit 2, \"${nodisplay:0:60}…\""

# --- 4. a real start under Xvfb, as a desktop user with a key store ---------------------------
step "installing the test's own tools in the root (after the checks above): xvfb xauth xdotool x11-utils x11-apps dbus-daemon procps desktop-file-utils"
apt_in_root xvfb xauth xdotool x11-utils x11-apps dbus-daemon procps desktop-file-utils ||
  { tail -n 40 "$work/apt.log" >&2; fail "could not install the test tools in the root"; }
# the package cache keeps only what the mirror still has (autoclean drops superseded versions)
in_root apt-get autoclean -q >/dev/null 2>&1 || true
for f in "$cache/archives/"*.deb; do
  [ -e "$root/var/cache/apt/archives/${f##*/}" ] || rm -f "$f"
done
validate="$(in_root desktop-file-validate "$desktop" 2>&1)" || fail "desktop-file-validate $desktop: $validate"
[ -z "$validate" ] || echo "desktop-file-validate: $validate"

in_root useradd --create-home --shell /bin/bash clerk
uid="$(in_root id -u clerk)"
gid="$(in_root id -g clerk)"
home="/home/clerk"
mkdir -p "$root/run/user/$uid" "$root/tmp/.X11-unix" "$root/opt/gocua-test"
chown "$uid:$gid" "$root/run/user/$uid"
chmod 700 "$root/run/user/$uid"
chmod 1777 "$root/tmp/.X11-unix"
cp scripts/with-keyring.sh "$root/opt/gocua-test/with-keyring.sh"
# Runs in the root as the user, inside with-keyring.sh and xvfb-run: starts the app, waits for
# the UI and the window, prints what it saw as key=value lines, stops the app.
cat >"$root/opt/gocua-test/probe.sh" <<'PROBE'
#!/usr/bin/env bash
# The in-root half of scripts/test-deb.sh (written there): start, observe, stop.
set -u
out="$HOME/probe"
mkdir -p "$out"
"$APP" >"$out/app.log" 2>&1 &
app=$!
echo "pid=$app"
deadline=$((SECONDS + TIMEOUT))
win=""
ms=""
while [ "$SECONDS" -lt "$deadline" ]; do
  if ! kill -0 "$app" 2>/dev/null; then
    wait "$app"
    echo "exited=$?"
    exit 0
  fi
  [ -n "$win" ] || win="$(xdotool search --onlyvisible --name "^$TITLE\$" 2>/dev/null | head -1)"
  [ -n "$ms" ] || ms="$(grep -o 'interactive [0-9]* ms' "$out/app.log" | grep -o '[0-9]*' | head -1)"
  if [ -n "$win" ] && [ -n "$ms" ]; then break; fi
  sleep 0.25
done
echo "interactive_ms=$ms"
echo "window=$win"
if [ -n "$win" ]; then
  echo "window_name=$(xdotool getwindowname "$win")"
  echo "window_geometry=$(xwininfo -id "$win" | awk '/Width:/ {w = $2} /Height:/ {h = $2} END {print w "x" h}')"
  echo "wm_class=$(xprop -id "$win" WM_CLASS | sed 's/.*= //')"
fi
echo "webprocess=$(pgrep -c -P "$app" WebKitWebProc)"
sleep "$SETTLE"
if kill -0 "$app" 2>/dev/null; then
  echo "alive_after=$SETTLE"
  [ -n "$win" ] && xwd -silent -id "$win" >"$out/window.xwd" 2>/dev/null
  kill -TERM "$app"
  for _ in $(seq 40); do kill -0 "$app" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$app" 2>/dev/null; then
    echo "stopped=kill"
    kill -KILL "$app"
  else
    echo "stopped=term"
  fi
  wait "$app" 2>/dev/null
else
  wait "$app"
  echo "exited=$?"
fi
exit 0
PROBE
step "starting $bin as user clerk, without network: with-keyring.sh xvfb-run -a $bin (up to 120 s for the UI, then ${settle} s up)"
# In a network namespace of its own: X's and D-Bus's abstract sockets (@/tmp/.X11-unix/X99, …)
# belong to the network namespace, so without it this Xvfb and app could meet another Xvfb on
# this machine (another test run's). The app needs no network here: nothing is enrolled.
set +e
waited unshare --net chroot --userspec="$uid:$gid" "$root" /usr/bin/env -i \
  PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER=clerk LOGNAME=clerk SHELL=/bin/bash LANG=C.UTF-8 \
  XDG_DATA_HOME="$home/.local/share" XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" \
  XDG_STATE_HOME="$home/.local/state" XDG_RUNTIME_DIR="/run/user/$uid" \
  APP="$bin_path" TITLE="Gõ Cửa" TIMEOUT=120 SETTLE="$settle" \
  timeout 300 bash /opt/gocua-test/with-keyring.sh \
  xvfb-run -a --server-args="-screen 0 1280x1024x24" bash /opt/gocua-test/probe.sh >"$work/probe.out" 2>"$work/probe.err"
status=$?
set -e
probe="$work/probe.out"
applog="$root$home/probe/app.log"
val() { sed -n "s/^$1=//p" "$probe" | tail -1; }
show_logs() {
  echo "--- probe ---" >&2
  cat "$probe" "$work/probe.err" >&2
  echo "--- app log ---" >&2
  tail -n 40 "$applog" >&2 2>/dev/null || true
}
[ "$status" = 0 ] || { show_logs; fail "the start probe itself failed (exit $status)"; }
if [ -n "$(val exited)" ]; then
  show_logs
  fail "$bin exited with status $(val exited) instead of staying up (3: no key store; 2: no display)"
fi
[ -n "$(val interactive_ms)" ] || { show_logs; fail "the UI never became interactive within 120 s (no \"interactive N ms\" line)"; }
[ -n "$(val window)" ] || { show_logs; fail "no visible window named \"Gõ Cửa\" appeared"; }
[ "$(val webprocess)" -ge 1 ] 2>/dev/null || { show_logs; fail "no WebKitWebProcess runs under $bin"; }
[ "$(val alive_after)" = "$settle" ] || { show_logs; fail "$bin did not stay up for $settle s"; }
if grep -qiE 'panicked|cannot start|không khởi động' "$applog"; then
  show_logs
  fail "$bin logged a failure"
fi
step "window \"$(val window_name)\" $(val window_geometry), WM_CLASS $(val wm_class); UI interactive $(val interactive_ms) ms after start; $(val webprocess) web process; up ${settle} s; stopped by $(val stopped)"

db="$root$home/.local/share/vn.gocua.app/gocua.sqlite"
[ -s "$db" ] || { show_logs; fail "the device database was not created at ${db#"$root"}"; }
if printf 'SQLite format 3\0' | cmp -s -n 16 - "$db"; then
  fail "the device database ${db#"$root"} is a plain SQLite file: it must be encrypted"
fi
step "device database ${db#"$root"}: $(stat -c %s "$db") bytes, encrypted (no SQLite header)"

# A picture of the window for people (not asserted beyond "more than a blank page").
if [ -s "$root$home/probe/window.xwd" ]; then
  shot="${GOCUA_DEB_TEST_SCREENSHOT:-$cache/last-window.png}"
  colours="$(python3 - "$root$home/probe/window.xwd" "$shot" <<'PY'
# XWD (ZPixmap, 24/32 bits per pixel, as Xvfb's 24-bit screen gives) to PNG; prints the colour count.
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
h = struct.unpack(">25I", data[:100])
header_size, fmt, depth, width, height = h[0], h[2], h[3], h[4], h[5]
byte_order, bpp, bytes_per_line, ncolors = h[7], h[11], h[12], h[19]
if fmt != 2 or bpp not in (24, 32):
    print(0)
    sys.exit(0)
pixels = data[header_size + ncolors * 12:]
step = bpp // 8
rows, seen = [], set()
for y in range(height):
    line = pixels[y * bytes_per_line:y * bytes_per_line + width * step]
    out = bytearray()
    for x in range(0, width * step, step):
        px = line[x:x + step]
        b, g, r = (px[0], px[1], px[2]) if byte_order == 0 else (px[-1], px[-2], px[-3])
        out += bytes((r, g, b))
        seen.add((r, g, b))
    rows.append(b"\0" + bytes(out))
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b"")
open(sys.argv[2], "wb").write(png)
print(len(seen))
PY
)"
  [ "${colours:-0}" -ge 8 ] || fail "the window shows $colours colours: a blank page, not the UI (see $shot)"
  step "window picture: $shot ($colours colours)"
fi
