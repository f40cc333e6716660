#!/usr/bin/env bash
# Run a command with the machine's date moved, to prove no test depends on today:
#   scripts/faketime.sh '+400 days' make test
#   scripts/faketime.sh '-400 days' make test
#
# Why not Debian's `faketime` directly: its libfaketime (0.9.10) also moves the monotonic
# clock, and CPython's timed waits (threading.Event.wait, Lock.acquire(timeout=...),
# APScheduler, Thread.join(timeout=...)) then sleep for 400 days; with
# FAKETIME_DONT_FAKE_MONOTONIC=1 its sleep interception makes time.sleep() fail with EINVAL.
# So this script builds libfaketime (the pinned PyPI sdist of python-libfaketime, which
# carries the upstream C source unmodified) with only the wall-clock calls faked, once,
# into .venv, and preloads it with the monotonic clock left alone. Only the date moves.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 '+400 days' COMMAND..." >&2; exit 2; }
offset=$1; shift

VERSION=3.0.1
SHA256=49c2b06250bd5a1206efe5ecfdc575850517081b50b42c6c58718be1a4a09fbd
lib=.venv/lib/libfaketime-wallclock-$VERSION.so
if [ ! -f "$lib" ]; then
  test -x .venv/bin/python || python3 -m venv .venv
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  .venv/bin/python -m pip download -q --no-deps --no-binary :all: -d "$work" \
    "libfaketime==$VERSION"
  echo "$SHA256  $work/libfaketime-$VERSION.tar.gz" | sha256sum -c --quiet
  tar -xzf "$work/libfaketime-$VERSION.tar.gz" -C "$work"
  src="$work/libfaketime-$VERSION/libfaketime/vendor/libfaketime/src"
  # No FAKE_SLEEP / FAKE_TIMERS / FAKE_PTHREAD: sleeps and timed waits stay real.
  gcc -shared -fPIC -std=gnu99 -O2 -DFAKE_STAT -DFAKE_INTERNAL_CALLS \
    -D_XOPEN_SOURCE=600 -D__EXTENSIONS__ -DPREFIX='"/usr"' -DLIBDIRNAME='"/lib"' \
    -Wl,--version-script="$src/libfaketime.map" -o "$lib" "$src/libfaketime.c" \
    -ldl -lpthread -lrt -lm
fi

# libfaketime reads "+400d" / "-400d"; accept "+400 days" as Debian's faketime does.
days=$(sed -E 's/^([+-][0-9]+) *days?$/\1d/' <<<"$offset")
export LD_PRELOAD="$PWD/$lib${LD_PRELOAD:+:$LD_PRELOAD}"
export FAKETIME="$days" FAKETIME_DONT_FAKE_MONOTONIC=1
echo "faketime: the clock reads $(date -u '+%Y-%m-%d %H:%M UTC') (real clock moved $offset)" >&2
exec "$@"
