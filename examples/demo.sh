#!/usr/bin/env bash
# ./build.sh demo: open the rewind shell on the bundled ledger example.
set -euo pipefail
build=${1:?usage: examples/demo.sh BUILDDIR}
prog=$build/examples/ledger
cat <<'TXT'
rewind demo -- examples/ledger applies a day of transactions to three accounts,
and bob's balance comes out wrong although every transaction looks right.
Find out who wrote it, going backwards in time:

  (rewind) break ledger_check
  (rewind) run
  (rewind) print accounts[1].balance
  (rewind) watch accounts[1].balance
  (rewind) reverse-continue        # back to the last write: not where you expect
  (rewind) backtrace
  (rewind) info checkpoints

Type "help" for the commands, "quit" to leave.
TXT
exec "$build/rewind" shell -- "$prog"
