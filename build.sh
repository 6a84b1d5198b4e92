#!/usr/bin/env bash
# rewind's one entry point.
#   ./build.sh              install missing Debian packages, configure, build build/rewind
#   ./build.sh test [--sanitize] [FILTER]   build, then run every test (unit, e2e, fuzz smoke)
#   ./build.sh demo         build, then open the rewind shell on examples/
#   ./build.sh bench NAME   build, then run a benchmark from scripts/bench/
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD

cmd=${1:-build}; [ $# -gt 0 ] && shift
sanitize=0
both=0
args=()
for a in "$@"; do
  case "$a" in
    --sanitize) sanitize=1 ;;
    --with-sanitize) both=1 ;;
    *) args+=("$a") ;;
  esac
done

# ./build.sh test --with-sanitize: the suite twice (plain, then ASan+UBSan), one
# combined summary line at the end.
if [ "$cmd" = test ] && [ $both -eq 1 ]; then
  rc=0
  "$0" test "${args[@]+"${args[@]}"}" | tee /tmp/rewind-test-plain.$$ || rc=1
  "$0" test --sanitize "${args[@]+"${args[@]}"}" | tee /tmp/rewind-test-san.$$ || rc=1
  awk '/^[0-9]+ passed, [0-9]+ failed/ { p += $1; f += $3; if ($5 != "") s += $5 }
       END { line = p " passed, " f " failed"; if (s) line = line ", " s " skipped"; print line }' \
    /tmp/rewind-test-plain.$$ /tmp/rewind-test-san.$$
  rm -f /tmp/rewind-test-plain.$$ /tmp/rewind-test-san.$$
  exit $rc
fi

scripts/install-deps.sh

builddir=build
mesonopts=(--buildtype=debugoptimized -Dwerror=false)
if [ $sanitize -eq 1 ]; then
  builddir=build-san
  mesonopts+=(-Db_sanitize=address,undefined -Db_lundef=false)
fi

if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" "${mesonopts[@]}" >/dev/null
fi
ninja -C "$builddir" >&2 || { echo "rewind: build failed" >&2; exit 1; }

case "$cmd" in
  build) ;;
  test) exec tests/run.sh "$top/$builddir" "${args[@]+"${args[@]}"}" ;;
  demo) exec examples/demo.sh "$top/$builddir" ;;
  bench) exec scripts/bench/run.sh "$top/$builddir" "${args[@]+"${args[@]}"}" ;;
  *) echo "usage: ./build.sh [build|test [--sanitize] [FILTER]|demo|bench NAME]" >&2; exit 2 ;;
esac
