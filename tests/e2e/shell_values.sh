#!/usr/bin/env bash
# Values through the shell, compared with real gdb on the same programs and stops:
# structs, arrays, unions, enums, bitfields, pointers, function pointers, strings,
# C++ classes and references, -O2 locals (optimized out), a static program.
. "$(dirname "$0")/lib.sh"
types=$PROGS/types

gdb_compare "globals of every C type" "$types" -ex 'break inspect' -ex run \
  -ex 'print global_counter' -ex 'print nodes' -ex 'print the_shape' -ex 'print matrix' \
  -ex 'print zeros' -ex 'print big' -ex 'print greeting' -ex 'print gptr' -ex 'print empty_str' \
  -ex 'print null_str' -ex 'print gcolor' -ex 'print gflags' -ex 'print bad_color' \
  -ex 'print gbits' -ex 'print gnum' -ex 'print gdouble' -ex 'print gfloat' -ex 'print gll' \
  -ex 'print gul' -ex 'print gshort' -ex 'print guchar' -ex 'print gschar' -ex 'print gchar' \
  -ex 'print gbool' -ex 'print guint' -ex 'print gpoint' -ex 'print *gpoint_ptr' \
  -ex 'print gfn' -ex 'print int_ptr_null'

gdb_compare "expressions: members, indexing, arithmetic, casts, history" "$types" \
  -ex 'break inspect' -ex run -ex 'print s->pts[1]' -ex 'print s->name' -ex 'print *s' \
  -ex 'print nodes[0].next->value' -ex 'print nodes[1].next->next' -ex 'print &nodes[2]' \
  -ex 'print matrix[1][2] * 10 + 1' -ex 'print (char)gll' -ex 'print (long)gdouble' \
  -ex 'print sizeof(struct shape)' -ex 'print count > 3 && tag == 120' -ex 'print $1 + $2' \
  -ex 'print/x global_counter' -ex 'print/t 10' -ex 'print/c 65' -ex 'print/o 8' \
  -ex 'print/d gchar' -ex 'print -gshort' -ex 'print !gbool' -ex 'print ~0' \
  -ex 'print gfn == bump' -ex 'print nosuchvar' -ex 'print 1 +' -ex 'print *int_ptr_null'

gdb_compare "frames: args, locals, blocks, backtrace, up/down" "$types" \
  -ex 'break types.c:67' -ex run -ex 'info args' -ex 'info locals' -ex bt -ex 'up' \
  -ex 'info locals' -ex 'print r' -ex 'down' -ex 'print inner' -ex 'print local_buf' \
  -ex 'finish'

gdb_compare "ptype and whatis" "$types" -ex 'break inspect' -ex run \
  -ex 'ptype struct shape' -ex 'ptype s' -ex 'whatis s' -ex 'ptype gflags' -ex 'ptype gbits' \
  -ex 'ptype union num' -ex 'ptype point_t' -ex 'whatis gpoint' -ex 'ptype gfn' -ex 'ptype inspect' \
  -ex 'whatis matrix[0]' -ex 'ptype int *'

gdb_compare "set var writes memory; print shows it" "$types" -ex 'break inspect' -ex run \
  -ex 'set var global_counter = 99' -ex 'print global_counter' -ex 'set var s->pts[0].x = -7' \
  -ex 'print s->pts[0]' -ex 'print gchar = 66' -ex 'finish'

gdb_compare "watch a struct member, old and new values" "$types" -ex 'break main' -ex run \
  -ex 'watch the_shape.color' -ex continue -ex continue

gdb_compare "C++: classes, methods, overloads, references" "$PROGS/cxx" -ex 'break helper' -ex run \
  -ex 'info args' -ex 'print ref' -ex 'print k' -ex 'ptype k' -ex bt -ex finish

gdb_compare "-O2: registers, location lists, optimized out" "$PROGS/opt" -ex 'break work' -ex run \
  -ex 'info args' -ex 'next' -ex 'next' -ex 'info locals' -ex 'bt' -ex 'finish'

gdb_compare "static program: break, bt, finish" "$PROGS/staticprog" -ex 'break main' -ex run \
  -ex next -ex bt -ex 'info registers rip'
