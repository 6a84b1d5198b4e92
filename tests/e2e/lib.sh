# Helpers for end-to-end tests. Source from a tests/e2e/*.sh script.
# Each check prints one TAP line: "ok - NAME", "not ok - NAME", "ok - NAME # SKIP why".
set -uo pipefail
: "${REWIND_BUILD:?run through tests/run.sh (or export REWIND_BUILD=build dir)}"
REWIND_SRC=${REWIND_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
REWIND=${REWIND:-$REWIND_BUILD/rewind}
PROGS=${PROGS:-$REWIND_BUILD/tests/progs}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rewind-e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export XDG_DATA_HOME=$TMP/data HOME=$TMP/home
mkdir -p "$HOME"
T_FAILED=0

# rw_shell ARGS...: rewind shell in batch mode, stdout+stderr together, 120 s limit.
rw_shell() { timeout -k 5 "${RW_TIMEOUT:-120}" "$REWIND" shell --batch "$@" 2>&1; }
# rw ARGS...: any rewind subcommand.
rw() { timeout -k 5 "${RW_TIMEOUT:-120}" "$REWIND" "$@" 2>&1; }

ok()   { echo "ok - $1"; }
skip() { echo "ok - $1 # SKIP $2"; }
fail() {
  echo "not ok - $1"; T_FAILED=1
  [ $# -ge 2 ] && printf '%s\n' "$2" | head -60 | sed 's/^/#   /'
  return 0
}

# diverge_context DIR ERRFILE: when ERRFILE reports a divergence at event N, the
# recording's events around N and its task/sched/sysbuf events before it (what a
# failing CI run needs to show, as its recording is gone afterwards).
diverge_context() {
  local n
  n=$(grep -o 'diverged at event [0-9]*' "$2" | head -1 | grep -o '[0-9]*$')
  [ -n "$n" ] || return 0
  echo "events around $n:"
  "$REWIND" dump "$1" 2>&1 | awk -v n="$n" '
    /^#[0-9]+ / { k = substr($1, 2) + 0 }
    k >= n - 12 && k <= n + 3 { print substr($0, 1, 150) }
    k < n - 12 && / (fork|clone|exit|exec|sched|sysbuf)/ { keep[++m] = substr($0, 1, 150) }
    END { print "task, sched and sysbuf events before:"; for (i = (m > 20 ? m - 19 : 1); i <= m; i++) print keep[i] }'
}

# expect NAME OUTPUT ERE: OUTPUT has a line matching the extended regex. (A here-string,
# not printf | grep -q: under pipefail grep's early exit on a match could fail printf
# with SIGPIPE, and the check with it.)
expect() {
  if grep -qE -- "$3" <<<"$2"; then ok "$1"; else
    fail "$1" "expected /$3/ in:
$2"; fi
}
# expect_not NAME OUTPUT ERE: no line matches.
expect_not() {
  if grep -qE -- "$3" <<<"$2"; then
    fail "$1" "did not expect /$3/ in:
$2"; else ok "$1"; fi
}
# expect_eq NAME GOT WANT
expect_eq() {
  if [ "$2" == "$3" ]; then ok "$1"; else fail "$1" "got:  $2
want: $3"; fi
}
# expect_order NAME OUTPUT ERE1 ERE2 ...: the patterns match lines in this order.
expect_order() {
  local name=$1 out=$2; shift 2
  local rest=$out pat line
  for pat in "$@"; do
    line=$(printf '%s\n' "$rest" | grep -nE -- "$pat" | head -1 | cut -d: -f1)
    if [ -z "$line" ]; then fail "$name" "expected /$pat/ (in order) in:
$out"; return 0; fi
    rest=$(printf '%s\n' "$rest" | tail -n +"$((line + 1))")
  done
  ok "$name"
}
# value_of OUTPUT ERE: print the first capture-free match's text after the regex.
first_match() { printf '%s\n' "$1" | grep -oE -- "$2" | head -1; }

# need CMD REASON: skip the rest of the script (counted) when CMD is missing.
need() {
  if ! command -v "$1" >/dev/null 2>&1; then skip "${2:-$1}" "$1 is not installed"; exit 0; fi
}

# normalize: remove lines that legitimately differ between gdb and rewind and mask
# pids/tids, so outputs can be compared.
normalize() {
  sed -E \
    -e '/^\[Thread debugging using libthread_db enabled\]/d' \
    -e '/^Using host libthread_db library/d' \
    -e '/^Reading symbols from /d' \
    -e '/^Starting program: /d' \
    -e '/^\[Inferior 1 \(process [0-9]+\) killed\]/d' \
    -e '/^warning: Error disabling address space randomization/d' \
    -e 's/process [0-9]+/process N/g' \
    -e 's/LWP [0-9]+/LWP N/g' \
    -e 's/Thread 0x[0-9a-f]+ \(LWP N\)/Thread T (LWP N)/g'
}

# gdb_compare NAME PROG -ex CMD...: run the same commands in gdb and in rewind's
# shell (batch) on PROG and require identical output after normalize.
gdb_compare() {
  local name=$1 prog=$2; shift 2
  local g r
  # Same environment for both (stack addresses then match): rewind preloads its
  # agent, gdb adds LINES/COLUMNS, and the shell gdb starts programs with may drop
  # or add variables (dash drops exported bash functions); rewind execs directly.
  local agent=$REWIND_BUILD/core/agent/librewind-agent.so
  g=$(env _=/rewind-e2e timeout 120 gdb -nx -batch -ex 'set startup-with-shell off' \
        -ex 'unset environment LINES' \
        -ex 'unset environment COLUMNS' -ex "set environment LD_PRELOAD=$agent" \
        "$@" "$prog" 2>&1 | normalize)
  r=$(env _=/rewind-e2e timeout -k 5 "${RW_TIMEOUT:-120}" "$REWIND" shell --batch "$@" "$prog" 2>&1 | normalize)
  if [ "$g" == "$r" ]; then ok "$name"; else
    fail "$name" "$(diff <(printf '%s\n' "$g") <(printf '%s\n' "$r") | head -40 | sed 's/^</gdb   </; s/^>/rewind>/')"
  fi
}
