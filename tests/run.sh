#!/usr/bin/env bash
# Run every test: Criterion unit suites, end-to-end scripts, fuzz smoke runs.
# Usage: tests/run.sh BUILDDIR [FILTER]
# Each job writes TAP to BUILDDIR/test-logs/JOB.log; the last line printed is
# "N passed, N failed" (", N skipped" when any were skipped).
set -uo pipefail
build=$(cd "${1:?usage: tests/run.sh BUILDDIR [FILTER]}" && pwd)
filter=${2:-}
src=$(cd "$(dirname "$0")/.." && pwd)
logs=$build/test-logs
rm -rf "$logs"; mkdir -p "$logs"
export REWIND_BUILD=$build REWIND_SRC=$src
export REWIND=$build/rewind PROGS=$build/tests/progs
jobs_max=${REWIND_TEST_JOBS:-$(nproc)}
# In a sanitizer build, undefined behaviour stops the program (a test cannot miss it).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
job_timeout=${REWIND_TEST_TIMEOUT:-900}

jobs=()
for b in "$build"/tests/unit/unit-*; do
  [ -f "$b" ] && [ -x "$b" ] && jobs+=("unit:$b")
done
for s in "$src"/tests/e2e/*.sh; do
  [ "$(basename "$s")" = lib.sh ] && continue
  [ -f "$s" ] && jobs+=("e2e:$s")
done
for f in "$build"/tests/fuzz/fuzz-*; do
  [ -f "$f" ] && [ -x "$f" ] && jobs+=("fuzz:$f")
done

run_job() {
  local kind=${1%%:*} path=${1#*:} name
  name=$kind-$(basename "$path" .sh)
  local log=$logs/$name.log
  local start=$SECONDS
  case $kind in
    unit) timeout -k 10 "$job_timeout" "$path" --tap=- -j1 >"$log" 2>"$log.err" ;;
    e2e)  timeout -k 10 "$job_timeout" bash "$path" >"$log" 2>"$log.err" ;;
    fuzz) timeout -k 10 "$job_timeout" "$path" --smoke >"$log" 2>"$log.err" ;;
  esac
  echo $? >"$log.rc"
  echo $((SECONDS - start)) >"$log.secs"
}
export -f run_job
export logs job_timeout

selected=()
for j in "${jobs[@]}"; do
  # Match the filter against the job kind and file name, not the build directory path.
  if [ -n "$filter" ] && [[ "${j%%:*}:$(basename "${j#*:}")" != *"$filter"* ]]; then continue; fi
  selected+=("$j")
done
echo "running ${#selected[@]} test jobs ($jobs_max at a time)"
printf '%s\n' "${selected[@]}" | xargs -P "$jobs_max" -I{} bash -c 'run_job "$@"' _ {}

pass=0 fail=0 skip=0
for j in "${selected[@]}"; do
  kind=${j%%:*} path=${j#*:}
  name=$kind-$(basename "$path" .sh)
  log=$logs/$name.log
  rc=$(cat "$log.rc" 2>/dev/null || echo 99)
  secs=$(cat "$log.secs" 2>/dev/null || echo ?)
  p=$(grep -cE '^ok ' "$log" | head -1); p=${p:-0}
  s=$(grep -cE '^ok .*# SKIP' "$log"); s=${s:-0}
  f=$(grep -cE '^not ok ' "$log"); f=${f:-0}
  p=$((p - s))
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    f=1
    echo "not ok - $name exited with status $rc$([ "$rc" = 124 ] && echo ' (timeout)')" >>"$log"
  fi
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  printf '%-34s %4d passed %3d failed %3d skipped %5ss\n' "$name" "$p" "$f" "$s" "$secs"
  if [ "$f" != 0 ]; then
    grep -E '^not ok ' "$log" | sed 's/^/    /' | head -40
    grep -E '^#' "$log" | tail -40 | sed 's/^/    /'
    tail -15 "$log.err" | sed 's/^/    stderr: /'
  fi
  grep -E '^ok .*# SKIP' "$log" | sed 's/^/    /' | head -20
done
line="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
