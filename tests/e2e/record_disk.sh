#!/usr/bin/env bash
# Recordings on disk: rewind record / replay [--autopilot] / ls / dump; replay after
# the inputs, the executable or a library changed; damaged, cut and newer traces;
# divergence reports.
. "$(dirname "$0")/lib.sh"
prog=$PROGS/rr_inputs
tamper="python3 $REWIND_SRC/tests/e2e/record_tamper.py"
feed() { printf 'one\ntwo\nthree\n'; }

# record into -o DIR, replay with --autopilot: the same output, the same exit code.
feed | "$REWIND" record -o "$TMP/r1" "$prog" >"$TMP/r1.out" 2>"$TMP/r1.err"; rc=$?
expect_eq "record: the program's exit code" "$rc" 0
expect "record: says where the recording is" "$(cat "$TMP/r1.err")" "^rewind: replay it with: rewind replay $TMP/r1\$"
expect "record: the program ran" "$(cat "$TMP/r1.out")" "^final 2 'three' "
perms=$(stat -c %a "$TMP/r1")
expect_eq "record: the recording is private" "$perms" 700
"$REWIND" replay --autopilot "$TMP/r1" </dev/null >"$TMP/r1.rep" 2>"$TMP/r1.rerr"; rc=$?
expect_eq "replay --autopilot: exit code as recorded" "$rc" 0
if cmp -s "$TMP/r1.out" "$TMP/r1.rep"; then ok "replay --autopilot reproduces the output byte for byte"
else fail "replay --autopilot reproduces the output byte for byte" "$(diff "$TMP/r1.out" "$TMP/r1.rep"; cat "$TMP/r1.rerr")"; fi
expect "replay --autopilot: says it reached the end" "$(cat "$TMP/r1.rerr")" '^rewind: replayed .* to its end \([0-9]+ events\)$'

# Ten replays, one output (clock, rdtsc, getrandom and pid values included).
same=0
for i in 1 2 3 4 5 6 7 8 9 10; do
  "$REWIND" replay --autopilot "$TMP/r1" </dev/null 2>/dev/null | cmp -s - "$TMP/r1.out" && same=$((same + 1))
done
expect_eq "ten replays give the recorded output" "$same" 10

# The default root, latest, ls.
feed | "$REWIND" record "$prog" >/dev/null 2>"$TMP/r2.err"
expect "record without -o: under \$XDG_DATA_HOME/rewind" "$(cat "$TMP/r2.err")" "in $XDG_DATA_HOME/rewind/rr_inputs-[0-9]+\$"
[ -L "$XDG_DATA_HOME/rewind/latest" ] && ok "record: latest points to the newest recording" || fail "record: latest points to the newest recording"
out=$(rw ls)
expect "ls: lists the recording, latest marked" "$out" '^\* rr_inputs-[0-9]+ +.*rr_inputs .* exited 0$'
out=$("$REWIND" replay --autopilot </dev/null 2>/dev/null)
expect "replay without a name: the latest recording" "$out" "^final 2 'three' "

# dump
out=$(rw dump "$TMP/r1")
expect "dump: header" "$out" '^format: 1\.[0-9]+$'
# The program's reads of stdin: made and logged by the agent (syscall buffer), as a
# read at the file's offset that must not block; when the pipe was empty, the
# agent's try failed (EAGAIN) and libc's read came through the filter.
expect "dump: the program's reads, logged by the agent" "$out" \
  '^    call [0-9]+: preadv2\(0, 0x[0-9a-f]+, 1, -1, 0, 8\) = 1 \[0x[0-9a-f]+: 1 byte "t"\]$'
expect "dump: the agent's calls, under their thread" "$out" '^#[0-9]+ tid [0-9]+ sysbuf: [0-9]+ calls? from [0-9]+$'
expect "dump: rdtsc values" "$out" 'rdtsc = 0x[0-9a-f]+ at pc 0x'
expect "dump: file mappings with their stored copy" "$out" 'mmap\(.*file "files/libc\.so\.6-[0-9a-f]+"'
expect "dump: the end" "$out" '^#[0-9]+ end: exited 0$'

# The shell on a recording: breakpoints, checkpoints, replay from them; the output
# of the replay is shown as it passes.
out=$(rw replay --batch -ex 'break mark' -ex c -ex c -ex 'restart 1' -ex c -ex 'info record' "$TMP/r1" </dev/null)
expect "replay shell: starts at the first instruction" "$out" '^Replaying .* \([0-9]+ events\): .*rr_inputs$'
expect_order "replay shell: breakpoints and restart replay the recording" "$out" \
  "^stage 0 read 'one'$" 'Breakpoint 1, mark' "^stage 1 read 'two'$" 'Breakpoint 1, mark' \
  'Switching to checkpoint 1' "^stage 1 read 'two'$" 'Breakpoint 1, mark' '^Mode: replaying'
out=$(rw replay --batch -ex c -ex 'info record' "$TMP/r1" </dev/null)
expect "replay shell: the program exits as recorded" "$out" 'exited normally'

# Inputs changed after recording: the file the program read, the executable, a library.
cat >"$TMP/readfile.c" <<'EOF'
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
int libval(void);
int main(int argc, char **argv) {
	char buf[64] = "";
	int fd = open(argv[1], O_RDONLY);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("file: %s lib: %d\n", buf, libval());
	return 0;
}
EOF
cat >"$TMP/lib1.c" <<'EOF'
int libval(void) { return 1; }
EOF
if gcc -shared -fPIC -o "$TMP/libval.so" "$TMP/lib1.c" && \
   gcc -o "$TMP/readfile" "$TMP/readfile.c" -L"$TMP" -lval -Wl,-rpath,"$TMP"; then
  echo "original" >"$TMP/data.txt"
  "$REWIND" record -o "$TMP/r3" "$TMP/readfile" "$TMP/data.txt" >"$TMP/r3.out" 2>/dev/null
  echo "changed after recording" >"$TMP/data.txt"
  sed -i 's/return 1/return 2/' "$TMP/lib1.c"; gcc -shared -fPIC -o "$TMP/libval.so" "$TMP/lib1.c"
  printf 'int main(void){return 3;}\n' >"$TMP/other.c"; gcc -o "$TMP/readfile" "$TMP/other.c"
  out=$("$REWIND" replay --autopilot "$TMP/r3" 2>&1 </dev/null)
  expect_eq "recorded run read 'original' and lib 1" "$(cat "$TMP/r3.out")" "file: original
 lib: 1"
  expect "replay after the file, the library and the executable changed" "$out" "^file: original\$"
  expect "... the library as recorded" "$out" "^ lib: 1\$"
else
  skip "replay after inputs changed" "gcc could not build the test program"
fi

# Divergence: a recorded call whose arguments no longer match.
cp -a "$TMP/r1" "$TMP/r4"
$tamper "$TMP/r4/trace" syscall 1 2 1
"$REWIND" replay --autopilot "$TMP/r4" </dev/null >"$TMP/r4.out" 2>"$TMP/r4.err"; rc=$?
expect_eq "divergence: replay --autopilot fails" "$rc" 125
expect "divergence: reported with the event number, expected and actual call" "$(cat "$TMP/r4.err")" \
  '^rewind: \[replay diverged at event [0-9]+: expected write\(1, 0x[0-9a-f]+, [0-9]+\) = [0-9]+ in thread [0-9]+, got write\(1, 0x[0-9a-f]+, [0-9]+\) \(argument 3 differs\)\]$'
n=$(grep -c . "$TMP/r4.out")
expect_eq "divergence: the output up to it is reproduced" "$n" 5

# A cut trace replays up to its first bad record, then says where and why.
cp -a "$TMP/r1" "$TMP/r5"
cut=$(( $($tamper "$TMP/r5/trace" count) - 3 ))   # the program's last write
off=$($tamper "$TMP/r5/trace" offset $cut)
truncate -s $((off + 3)) "$TMP/r5/trace"
"$REWIND" replay --autopilot "$TMP/r5" </dev/null >"$TMP/r5.out" 2>"$TMP/r5.err"; rc=$?
expect_eq "cut trace: replay fails at the end of what it could read" "$rc" 125
expect "cut trace: says where and why" "$(cat "$TMP/r5.err")" "record $cut at offset $off"
expect "cut trace: replay stopped at the bad record" "$(cat "$TMP/r5.err")" "^rewind: \\[replay stopped at event $cut: "
expect "cut trace: the output before it is reproduced" "$(cat "$TMP/r5.out")" "^final 1 'two' "
expect_not "cut trace: nothing after it" "$(cat "$TMP/r5.out")" "^final 2 "
out=$(rw dump "$TMP/r5")
expect "cut trace: dump shows the events, then the error" "$out" "record $cut at offset $off"

# A flipped byte: the checksum catches it.
cp -a "$TMP/r1" "$TMP/r6"
off=$($tamper "$TMP/r6/trace" offset 20)
printf '\xff' | dd of="$TMP/r6/trace" bs=1 seek=$((off + 3)) conv=notrunc status=none
out=$("$REWIND" replay --autopilot "$TMP/r6" 2>&1 </dev/null)
expect "corrupt trace: the bad record is named" "$out" "record 20 at offset $off"

# A newer major version is refused with a clear message.
cp -a "$TMP/r1" "$TMP/r7"
$tamper "$TMP/r7/trace" major 9
out=$("$REWIND" replay --autopilot "$TMP/r7" 2>&1 </dev/null); rc=$?
expect_eq "newer version: refused" "$rc" 2
expect "newer version: says so" "$out" 'recorded by a newer rewind.*upgrade rewind to replay it'

# Attach: record a running process from now on; the replay restores the process as it
# was at the attach point (from the recording's image) and reproduces what followed.
"$PROGS/rr_ticker" 30 >"$TMP/tick.out" & tp=$!
sleep 0.4
"$REWIND" record -o "$TMP/r8" --pid $tp >/dev/null 2>"$TMP/r8.err"; rc=$?
wait $tp
expect_eq "record --pid: the process's exit code" "$rc" 7
expect "record --pid: says so" "$(cat "$TMP/r8.err")" "^rewind: recording process $tp from now on until it exits\$"
"$REWIND" replay --autopilot "$TMP/r8" </dev/null >"$TMP/tick.rep" 2>"$TMP/r8.rerr"; rc=$?
expect_eq "replay of an attach recording: exit code" "$rc" 7
n=$(grep -c . "$TMP/tick.rep")
if [ "$n" -gt 0 ] && [ "$n" -lt 30 ] && tail -n "$n" "$TMP/tick.out" | cmp -s - "$TMP/tick.rep"; then
  ok "replay of an attach recording reproduces what followed the attach ($n lines)"
else
  fail "replay of an attach recording reproduces what followed the attach" "$(cat "$TMP/tick.rep" "$TMP/r8.rerr")"
fi

# Missing recordings are named.
out=$(rw replay --autopilot "$TMP/nothing-here")
expect "replay of a missing recording says so" "$out" 'no recording'
exit $T_FAILED
