#!/usr/bin/env bash
# Threads, signals, fork and exec through the shell (all-stop, as gdb).
. "$(dirname "$0")/lib.sh"

out=$(rw_shell -ex 'break add_total' -ex run -ex 'info threads' -ex continue -ex continue \
  -ex continue -ex continue "$PROGS/threads")
n=$(printf '%s\n' "$out" | grep -c '^Breakpoint 1, add_total')
expect_eq "each of 4 threads stops at the breakpoint" "$n" 4
expect "new threads are announced" "$out" '^\[New Thread 0x[0-9a-f]+ \(LWP [0-9]+\)\]$'
expect "info threads marks the current thread" "$out" '^\* [0-9]+ +Thread 0x[0-9a-f]+ \(LWP [0-9]+\) "threads" add_total'
expect "thread switches are announced" "$out" '^\[Switching to Thread 0x[0-9a-f]+ \(LWP [0-9]+\)\]$'
expect "thread exits are announced with their id" "$out" '^\[Thread 0x[0-9a-f]+ \(LWP [0-9]+\) exited\]$'
expect "the program's result is right" "$out" '^total=7998000 expected=7998000$'
expect "and it exits normally" "$out" 'exited normally\]$'

# main blocked in pthread_join while the worker it joins stops twice: the join, cut
# by each stop, is made again on continue though the worker has the turn (it was
# held once, and the program hung when the worker exited: 3 runs in 5).
hung=0
for i in 1 2 3 4; do
  out=$(rw_shell -ex 'break mark' -ex run -ex continue -ex continue "$PROGS/join_wait")
  grep -q '^\[Inferior 1 (process [0-9]*) exited normally\]$' <<<"$out" || { hung=$((hung + 1)); last=$out; }
done
if [ $hung = 0 ]; then ok "a join interrupted by the worker's stops goes on (4 runs)"
else fail "a join interrupted by the worker's stops goes on: $hung of 4 runs did not exit" "$last"; fi

out=$(rw_shell -ex 'break worker' -ex run -ex 'thread 1' -ex 'info threads' "$PROGS/threads")
expect "thread N selects a thread" "$out" '^\[Switching to thread 1 \(Thread 0x[0-9a-f]+ \(LWP [0-9]+\)\)\]$'
expect "the selection shows in info threads" "$out" '^\* 1 +Thread'
out=$(rw_shell -ex 'break worker' -ex run -ex 'thread 99' "$PROGS/threads")
expect "unknown thread is an error" "$out" 'Invalid thread ID: 99'

out=$(rw_shell -ex run -ex continue -ex continue -- "$PROGS/signals" segv)
expect_order "raised signal, then segfault, then termination" "$out" \
  '^Program received signal SIGUSR1, User defined signal 1\.$' \
  '^Program received signal SIGSEGV, Segmentation fault\.$' \
  '^0x[0-9a-f]{16} in crash \(.*\) at .*signals\.c:25$' \
  '^25	' \
  '^Program terminated with signal SIGSEGV, Segmentation fault\.$' \
  '^The program no longer exists\.$'
expect_not "SIGALRM passes silently by default" "$out" 'SIGALRM'

out=$(rw_shell -ex 'handle SIGUSR1 nostop noprint' -ex run -- "$PROGS/signals")
expect "handle prints the new disposition" "$out" '^SIGUSR1 +No +No +Yes +User defined signal 1$'
expect "nostop signals are delivered to the handler" "$out" '^usr1=1 alarm=1$'
expect "and the program ends normally" "$out" 'exited normally\]$'

out=$(rw_shell -ex 'handle SIGUSR1 nopass' -ex run -ex continue -- "$PROGS/signals")
expect "nopass discards the signal" "$out" '^usr1=0 alarm=1$'

out=$(rw_shell -ex 'handle SIGALRM stop print' -ex run -ex continue -ex continue -- "$PROGS/signals")
expect "handle stop makes a quiet signal stop" "$out" 'Program received signal SIGALRM, Alarm clock\.'

out=$(rw_shell -ex 'break count_lines' -ex run -- "$PROGS/forker" exec)
expect "fork child is not followed (its breakpoints are removed)" "$out" '^child counted 7 lines$'
expect "the fork is announced" "$out" '^\[New process [0-9]+ \(fork of [0-9]+\), not followed\]$'
expect "exec is announced" "$out" '^process [0-9]+ is executing new program: /usr/bin/echo$'
expect "the new program runs" "$out" '^exec worked$'
expect_not "the parent's breakpoint never fires in the child" "$out" 'Breakpoint 1, count_lines'

out=$(rw_shell -ex 'break main' -ex run -ex 'info sharedlibrary' "$PROGS/threads")
expect "shared libraries are listed" "$out" 'libc\.so\.6$'

# attach / detach: a running process keeps running after detach.
sleep 30 & victim=$!
out=$(rw_shell -ex "attach $victim" -ex 'info threads' -ex detach)
expect "attach reports the process" "$out" "^Attaching to process $victim\$"
expect "detach reports it" "$out" "^\[Inferior 1 \(process $victim\) detached\]\$"
if kill -0 "$victim" 2>/dev/null && grep -qE '^State:\s+S' "/proc/$victim/status"; then
  ok "the detached process keeps running"; else fail "the detached process keeps running"; fi
kill "$victim"
