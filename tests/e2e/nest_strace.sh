#!/usr/bin/env bash
# strace -f under `rewind run`: its output is what it prints natively, and after a
# checkpoint taken mid-run (the program blocked in a read) is restored, strace goes
# on from that point printing what it printed the first time, line for line (per
# process, pids renamed, random bytes and sizes masked).
. "$(dirname "$0")/lib.sh"
need strace
need setarch
prog=$PROGS/nest_forker

# Per-process sequences of complete syscall lines from `strace -f -o` output.
cat >"$TMP/lines.py" <<'EOF'
import re, sys

def lines(text, main):
    text = re.sub(r'strace: Process \d+ (attached|detached)\n', '', text)
    raw = [l for l in text.split('\n') if l.strip()]
    if not raw:
        return []
    names = {main: 'P0'}
    for m in re.finditer(r'^%s +(?:<\.\.\. )?clone.*= (\d+)$' % main, text, re.M):
        names.setdefault(m.group(1), 'P%d' % len(names))
    seqs, partial = {}, {}
    for l in raw:
        m = re.match(r'(\d+) +(.*)$', l)
        if not m:
            continue
        pid, line = m.group(1), m.group(2)
        if line.endswith(' <unfinished ...>'):
            partial[pid] = line[:-len(' <unfinished ...>')]
            continue
        r = re.match(r'<\.\.\. \S+ resumed>(.*)$', line)
        if r:
            line = partial.pop(pid, '') + r.group(1)
        seqs.setdefault(names.setdefault(pid, 'P%d' % len(names)), []).append(line)
    out = []
    for p in sorted(seqs, key=lambda k: int(k[1:])):
        for l in seqs[p]:
            l = re.sub(r'getrandom\("[^"]*"', 'getrandom("R"', l)
            l = re.sub(r'st_size=\d+', 'st_size=S', l)
            l = re.sub(r'si_([us])time=[^,}]*', r'si_\1time=T', l)
            l = re.sub(r'/\* \d+ vars \*/', '/* V vars */', l)
            l = re.sub(r'0x7fffffff[0-9a-f]{4}\b', 'STACK', l)   # moves with the environment
            l = re.sub(r'\b\d{3,}\b', 'N', l)
            out.append('%s %s' % (p, re.sub(r' +', ' ', l)))
    return out

def read(path, lo=0, hi=None):
    data = open(path, 'rb').read()
    return data[lo:hi].decode(errors='replace')

def first_pid(path):
    return open(path).read().split(None, 1)[0]

mode = sys.argv[1]
if mode == 'same':                     # two whole files
    a = lines(read(sys.argv[2]), first_pid(sys.argv[2]))
    b = lines(read(sys.argv[3]), first_pid(sys.argv[3]))
else:                                  # two segments of one file: s1 s2 s3
    s1, s2, s3 = (int(x) for x in sys.argv[3:6])
    main = first_pid(sys.argv[2])      # the program strace started
    a, b = lines(read(sys.argv[2], s1, s2), main), lines(read(sys.argv[2], s2, s3), main)
if a == b and a:
    print('same %d lines' % len(a))
    sys.exit(0)
import difflib
print('\n'.join(list(difflib.unified_diff(a, b, 'first', 'second', lineterm='', n=1))[:60]))
sys.exit(1)
EOF

# Natively and under rewind run, without checkpoints.
printf xx | timeout 60 setarch -R strace -f -A -o /dev/stderr "$prog" >"$TMP/native.out" 2>"$TMP/native.trace"
printf xx | timeout 60 "$REWIND" run -q -- setarch -R strace -f -A -o /dev/stderr "$prog" \
  >"$TMP/emul.out" 2>"$TMP/emul.trace"
expect_eq "the program's output is the same under rewind" "$(cat "$TMP/emul.out")" "$(cat "$TMP/native.out")"
r=$(python3 "$TMP/lines.py" same "$TMP/native.trace" "$TMP/emul.trace")
if [ $? = 0 ]; then ok "strace -f prints what it prints natively ($r)"; else
  fail "strace -f prints what it prints natively" "$r"; fi

# Checkpoint while the program waits for its first byte, let it finish its rounds,
# restore, let it do them again.
mkfifo "$TMP/in"
sock=$TMP/ctl.sock
ctl() { timeout 60 "$REWIND" ctl --control "$sock" "$@"; }
size() { stat -c %s "$TMP/trace"; }
# Wait until the trace has grown past $1 bytes and its last line is the blocking read
# (no newline yet). Right after a byte is written the trace still ends in the read
# that byte is about to finish: the size must move first.
wait_read() {
  for _ in $(seq 1 400); do
    [ -e "$TMP/trace" ] && [ "$(size)" -gt "${1:-0}" ] &&
      tail -c 40 "$TMP/trace" | grep -q 'read(0, $' && return 0
    sleep 0.05
  done
  return 1
}
exec 3<>"$TMP/in"
timeout -k 5 120 "$REWIND" run -q --control "$sock" -- setarch -R strace -f -A -o /dev/stderr \
  "$prog" <"$TMP/in" >"$TMP/out" 2>"$TMP/trace" &
run=$!
wait_read; s1=$(size)
out=$(ctl checkpoint mid)
expect "rewind ctl checkpoints the strace session" "$out" '^checkpoint 1 \(mid\) taken \(2 processes'
out=$(ctl list)
expect "rewind ctl lists it" "$out" '^1 +mid '
printf x >&3
wait_read "$s1"; s2=$(size)
out=$(ctl restore mid)
expect "rewind ctl restores it" "$out" '^restored checkpoint 1 \(mid\)'
printf x >&3
wait_read "$s2"; s3=$(size)
out=$(ctl restore 1)
printf x >&3
wait_read "$s3"; s4=$(size)
printf z >&3
wait $run
rc=$?
exec 3>&-
expect_eq "the session ends with the program's status" "$rc" 0
r=$(python3 "$TMP/lines.py" seg "$TMP/trace" "$s1" "$s2" "$s3")
if [ $? = 0 ]; then ok "after the restore strace prints what it printed from the checkpoint ($r)"; else
  fail "after the restore strace prints what it printed from the checkpoint" "$r"; fi
r=$(python3 "$TMP/lines.py" seg "$TMP/trace" "$s2" "$s3" "$s4")
if [ $? = 0 ]; then ok "and so after a second restore ($r)"; else
  fail "and so after a second restore" "$r"; fi
n=$(grep -c '^round 3$' "$TMP/out")
expect_eq "the program did rounds 3 to 6 three times" "$n" 3
expect_not "no syscall shows rewind's interruptions" "$(cat "$TMP/trace")" 'ERESTART|restart_syscall'
out=$(ctl list 2>&1)
expect "the session is gone with its command" "$out" 'no session listens there'
exit $T_FAILED
