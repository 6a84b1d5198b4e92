#!/usr/bin/env bash
# Random walks forward and back (issue 5's agreement test): from a breakpoint, M
# forward commands (next, step, continue from a breakpoint hit to the next, and stepi K
# / nexti K with the breakpoints disabled, each undone at once by reverse-stepi K /
# reverse-nexti K), then their reverse forms in
# the opposite order. Every point passed on the way back must have the checksums
# (writable memory; every thread's registers, vector state and stack top) it had on
# the way forward. The walks are seeded: a failure prints its seed and commands.
. "$(dirname "$0")/lib.sh"
prog=$PROGS/rev_prog
walks=${REWIND_WALKS:-12}
steps=${REWIND_WALK_STEPS:-8}

rev_of() {
  case $1 in
    next) echo reverse-next ;; step) echo reverse-step ;; continue) echo reverse-continue ;;
  esac
}

for w in $(seq 1 "$walks"); do
  RANDOM=$((w * 7919))
  fwd=() at_bp=1
  for _ in $(seq 1 "$steps"); do
    # continue's reverse returns to the previous breakpoint hit: only from one.
    case $((RANDOM % 5)) in
      0) fwd+=(next); at_bp=0 ;; 1) fwd+=(step); at_bp=0 ;;
      2) if [ $at_bp = 1 ]; then fwd+=(continue); else fwd+=(next); at_bp=0; fi ;;
      3) fwd+=("stepi $((RANDOM % 9 + 1))") ;; 4) fwd+=("nexti $((RANDOM % 6 + 1))") ;;
    esac
  done
  a=(-ex 'break fact' -ex 'break add' -ex run -ex checksum)
  for c in "${fwd[@]}"; do
    case $c in
      stepi*|nexti*) a+=(-ex disable -ex "$c" -ex checksum -ex "reverse-$c" -ex checksum -ex enable) ;;
      *) a+=(-ex "$c" -ex checksum) ;;
    esac
  done
  for ((i = ${#fwd[@]} - 1; i >= 0; i--)); do
    c=${fwd[$i]}
    case $c in stepi*|nexti*) continue ;; esac
    a+=(-ex "$(rev_of "$c")" -ex checksum)
  done
  out=$(rw_shell "${a[@]}" "$prog")
  sums=$(printf '%s\n' "$out" | grep '^memory ')
  # The expected sequence: forward points, then the same points backwards.
  exp=() got=()
  mapfile -t got < <(printf '%s\n' "$sums")
  k=0; pts=("${got[0]}")
  for c in "${fwd[@]}"; do
    case $c in
      stepi*|nexti*) k=$((k + 2)); exp+=("$k:${pts[-1]}") ;;   # back where it was
      *) k=$((k + 1)); pts+=("${got[$k]}") ;;
    esac
  done
  n=${#pts[@]}
  for ((i = n - 2; i >= 0; i--)); do k=$((k + 1)); exp+=("$k:${pts[$i]}"); done
  bad=
  [ "${#got[@]}" -eq $((k + 1)) ] || bad="$((k + 1)) checksums expected, ${#got[@]} printed"
  for e in "${exp[@]}"; do
    [ -n "$bad" ] && break
    i=${e%%:*} want=${e#*:}
    [ "${got[$i]}" == "$want" ] || bad="point $i: ${got[$i]} != $want"
  done
  distinct=$(printf '%s\n' "${pts[@]}" | sort -u | wc -l)
  if [ -z "$bad" ] && [ "$distinct" -lt 2 ]; then bad="the walk never moved"; fi
  if [ -z "$bad" ]; then ok "walk $w (${fwd[*]}): back to the same states"
  else fail "walk $w (${fwd[*]}): $bad" "$out"; fi
done
# Inside a repeated string instruction (tests/progs/rev_rep: rep stosb over 4096 bytes,
# twice): a step stops after each iteration, rcx counting down, so rcx says exactly
# where the program is. Positions there are iteration counts a breakpoint at the
# instruction does not see.
rep=$PROGS/rev_rep
addr=$(rw_shell -ex 'break main' -ex run -ex 'x/16i fill' "$rep" |
       sed -n 's/^ *\(0x[0-9a-f]*\) <fill+[0-9]*>:[[:space:]]*rep stos.*/\1/p' | head -1)
if [ -z "$addr" ]; then
  fail "rev_rep: the rep stosb in fill is found" "$(rw_shell -ex 'break main' -ex run -ex 'x/16i fill' "$rep")"
else
  out=$(rw_shell -ex "break *$addr" -ex run -ex 'stepi 100' -ex 'p $rcx' -ex 'stepi 7' \
    -ex 'reverse-stepi 7' -ex 'p $rcx' -ex 'reverse-stepi 60' -ex 'p $rcx' -ex 'stepi 60' \
    -ex 'p $rcx' -ex continue -ex 'p $rcx' -ex 'stepi 5' -ex 'reverse-stepi 3' -ex 'p $rcx' \
    -ex 'delete' -ex "tbreak *$addr if c == 33" -ex continue -ex 'p c' -ex 'stepi 10' -ex 'reverse-stepi 4' -ex 'p $rcx' -ex 'p c' "$rep")
  vals=$(printf '%s\n' "$out" | sed -n 's/^\$[0-9]* = //p' | tr '\n' ' ')
  # 4096-100; back 7 after 7; back 60; forward 60; continue: one iteration, the
  # breakpoint again (as gdb: it steps over the one it stands on); 5 on, 3 back;
  # the second call (c=33): 10 in, 4 back.
  expect_eq "rev_rep: reverse-stepi inside rep stosb lands on the right iteration" "$vals" \
    "3996 3996 4056 3996 3995 3993 33 4090 33 "
fi
exit $T_FAILED
