/* gdb's output, exactly: the same fixture stopped at the same place under rewind
 * and under real gdb; `print` (every formatting family, /FMT letters), ptype,
 * whatis, info locals/args, frame and backtrace lines, finish values. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SYM_ORACLE_SESSION
#include "sym_oracle.h"

Test(format, scalars_chars_floats_enums)
{
	const char *cmds[] = {
		"print count", "print tag", "print scale", "print global_counter", "print gdouble",
		"print gfloat", "print gll", "print gul", "print gshort", "print guchar",
		"print gschar", "print gchar", "print gbool", "print guint", "print gcolor",
		"print gflags", "print bad_color", "print (enum flags)8", "print (enum flags)0",
		"print (enum color)1", "print RED", "print 1.0/3", "print (float)1/3",
		"print (long double)1/3", "print 1e20", "print 1e-5", "print 100.0", "print 1.0/0",
		"print -1.0/0", "print 0.0/0", "print (char)10", "print (char)0", "print '\\\\'",
		"print '\\''", "print (char)200", "print (unsigned char)200", "print (_Bool)2",
		"print 10/3", "print 10.0/4", "print 'a'", "print 1==1", "print -5 % 3",
		"print 7 >> 1", "print -1 >> 1", "print 1u - 2", "print 0x7fffffff + 1",
		"print 4294967296", "print 'a' + 1", "print sizeof(struct shape)", "print sizeof(int)",
		"print sizeof the_shape.name", "print !5", "print ~0", "print 3 > 2 && 2 > 3",
		"print 1 ? 2 : 3", "print (1, 2)", "print gbits", "print gbits.b", "print $rip",
		"print $pc", "print $sp", "print $eax", "print $eflags",
		NULL,
	};
	check_commands("types", "types.c:64", 1, cmds);
}

Test(format, pointers_arrays_strings_structs)
{
	const char *cmds[] = {
		"print s", "print *s", "print s->name", "print nodes", "print matrix", "print zeros",
		"print big", "print greeting", "print gptr", "print empty_str", "print null_str",
		"print gpoint", "print gpoint_ptr", "print gvoidp", "print gfn", "print bump",
		"print &bump", "print *bump", "print int_ptr_null", "print *int_ptr_null",
		"print file_static", "print pt", "print local_buf", "print head", "print *head",
		"print head->next->next->next", "print &count", "print &the_shape", "print &nodes[1]",
		"print nodes[0].next", "print &the_shape.pts[1]", "print &matrix", "print &matrix[1]",
		"print *matrix", "print matrix[1]", "print &greeting", "print gnum",
		"print &global_counter", "print s->label", "print *s->label", "print s->fn",
		"print *s->fn", "print nodes[0].next->value", "print nodes[1].next[0]",
		"print b_names", "print s->pts[1].y", "print the_shape.box", "print &s->box",
		"print nodes + 1", "print &nodes[2] - &nodes[0]", "print *(nodes + 1)",
		"print (long)&nodes[1] - (long)&nodes[0]", "print s->name + 1", "print *s->name@3",
		"print nodes[0].next == &nodes[1]", "print (struct node *)gvoidp",
		"print (char)the_shape.name[0]", "print inner", "print local_i", "print $",
		"print $$2", "print $1", "print the_shape.n.bytes", "print gbits.a + gbits.c",
		NULL,
	};
	check_commands("types", "types.c:64", 1, cmds);
}

Test(format, limits_repeats_and_errors_inside)
{
	const char *cmds[] = {
		"print seq", "print longstr", "print bytes_mix", "print bad_shape",
		"print bad_shape.label", "print *bad_shape.label", "print/x bytes_mix",
		"print seq[1]@3", "print/x seq[10]@12", "print &longstr[290]", "print longstr + 290",
		"print (char *)16", "print *&seq[248]@2", "print zeros", "print/d bytes_mix",
		NULL,
	};
	check_commands("types", "types_b.c:13", 1, cmds);
}

Test(format, print_formats)
{
	const char *cmds[] = {
		"print/x gpoint", "print/x matrix", "print/d gcolor", "print/x gcolor", "print/c 65",
		"print/x -1", "print/o 0", "print/t 0", "print/x (char)-1", "print/u (char)-1",
		"print/a gfn", "print/a 0", "print/s gptr", "print/x gptr", "print/d gptr",
		"print/c greeting", "print/x greeting", "print/f gdouble", "print/f 3",
		"print/x 1.5", "print/z gshort", "print/t gshort", "print/o gshort", "print/x gbits",
		"print/x the_shape", "print/x gnum", "print/t 10", "print/o 8", "print/d gchar",
		"print/x count", "print/u -1", "print/z 5", "print/x gbool", "print/c gchar",
		NULL,
	};
	check_commands("types", "types.c:64", 1, cmds);
}

Test(format, errors_worded_as_gdb)
{
	const char *cmds[] = {
		"print nosuch", "print 1 +", "print 1/0", "print &1", "print *int_ptr_null",
		"print head->next->next->next->value", "print s->nosuch", "print count.x",
		"print count[1]", "print )", "print 1 2", "print $nonexistent", "print $999",
		"print 10 % 0", "print *count", "print gpoint + 1",
		NULL,
	};
	check_commands("types", "types.c:64", 1, cmds);
}

Test(format, ptype_whatis)
{
	const char *cmds[] = {
		"ptype struct shape", "whatis the_shape", "ptype s", "ptype gfn", "whatis gpoint",
		"ptype gpoint", "ptype union num", "ptype enum color", "ptype gbits", "whatis matrix",
		"ptype int", "whatis &matrix", "whatis matrix[1]", "whatis sizeof(int)", "whatis 1==1",
		"whatis point_t", "ptype point_t", "whatis struct node", "ptype struct node",
		"whatis nodes", "ptype nodes", "whatis bump", "ptype bump", "whatis &bump",
		"ptype enum flags", "whatis s->label", "ptype s->box", "whatis 'a'", "whatis 1.5",
		"whatis 1.5f", "whatis 1L", "whatis 1UL", "whatis 0xffffffff", "whatis gptr + 1",
		"whatis *gptr", "whatis $rip", "whatis $sp", "whatis $eax", "whatis gvoidp",
		"ptype b_names", "whatis (char)1", "whatis head", "ptype head",
		NULL,
	};
	check_commands("types", "types.c:64", 1, cmds);
}

Test(format, locals_args_frames)
{
	const char *cmds[] = { "info locals", "info args", "bt", NULL };
	check_commands("types", "types.c:64", 1, cmds);
	const char *c2[] = { "info locals", "info args", "bt", "print arr", "print n",
	                     "whatis arr", "ptype arr", "print sizeof(arr)", NULL };
	check_commands("types", "types.c:52", 1, c2);
	const char *c3[] = { "info locals", "info args", "bt", "print b_names[k]", NULL };
	check_commands("types", "other_file_func", 1, c3);
}

Test(format, signal_and_library_frames)
{
	const char *cmds[] = { "bt", "info args", NULL };
	check_commands("sigprog", "on_usr1", 1, cmds);
	const char *c2[] = { "bt", "info args", "info locals", "print lib_calls",
	                     "print lib_square", "print x", NULL };
	check_commands("dlprog", "lib_square", 1, c2);
}

Test(format, optimized_out)
{
	const char *cmds[] = { "info locals", "info args", "print n", "print acc", "print i",
	                       "print out", NULL };
	check_commands("opt", "opt.c:10", 2, cmds);
	check_commands("opt4", "opt.c:10", 2, cmds);
	const char *c2[] = { "info args", "print unused", "print used", "bt", NULL };
	check_commands("opt", "unused_arg", 1, c2);
	/* a struct in DWARF pieces, partly nowhere, in outer frames */
	const char *c3[] = { "bt", "up", "print p", "print p.a", "print p.b", "info locals",
	                     "print x", "down", "print v", NULL };
	check_commands("opt", "sink", 1, c3);
	check_commands("opt", "sink", 2, c3);
	check_commands("opt4", "sink", 2, c3);
}

Test(format, cxx_values)
{
	const char *cmds[] = {
		"print *this", "print this", "print x", "print b", "whatis this",
		"print geo::Klass::count", "print count", "print by", "ptype geo::Base",
		"ptype geo::Klass", "whatis geo::Klass", "bt", "info args", "info locals",
		NULL,
	};
	check_commands("cxx", "geo::Klass::method(int)", 1, cmds);
	const char *c2[] = { "print ref", "print k", "info args", "print ref + 1", "print &ref",
	                     "print k.x", "print k.b", "whatis ref", "ptype k", "bt", NULL };
	check_commands("cxx", "geo::inner::helper", 1, c2);
	const char *c3[] = { "print *s", "print s", "print s->id", "ptype geo::Shape",
	                     "ptype geo::Square", "ptype geo::Hidden", "ptype s", "whatis *s",
	                     "print *(geo::Square *)s", "bt", "up", "print sq", "print h",
	                     "info locals", "ptype h", NULL };
	check_commands("cxx", "use_shape", 1, c3);
	/* inside an inlined call: gdb's virtual inline frames */
	const char *c4[] = { "bt", "info locals", "info args", "up", "info locals", "info args",
	                     "print a", "print v", "print s->id", "down", "print v * 3", NULL };
	check_commands("cxx", "cxx_b.cc:31", 1, c4);
	check_commands("cxx", "cxx_b.cc:31", 2, c4);
}
