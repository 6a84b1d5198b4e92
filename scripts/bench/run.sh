#!/usr/bin/env bash
# Benchmark dispatcher: ./build.sh bench NAME [ARGS] runs scripts/bench/NAME.sh BUILDDIR [ARGS].
# Benchmarks print medians of several runs and ratios to a baseline measured in the
# same run; they are never part of the timed test suite.
set -euo pipefail
build=${1:?usage: scripts/bench/run.sh BUILDDIR NAME [ARGS...]}
name=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "$name" ] || [ ! -f "$here/$name.sh" ]; then
  echo "usage: ./build.sh bench NAME [ARGS...]   (NAME is one of:)" >&2
  for f in "$here"/*.sh; do
    n=$(basename "$f" .sh)
    [ "$n" = run ] || [ "$n" = lib ] || echo "  $n: $(sed -n 2p "$f" | sed 's/^# *//')" >&2
  done
  exit 2
fi
shift 2
exec bash "$here/$name.sh" "$build" "$@"
