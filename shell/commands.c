/* The command tables: every command rewind's shell knows, with gdb's names and
 * abbreviations, and its help text. */
#include "cmds.h"

const struct sh_cmd sh_info_cmds[] = {
	{ "breakpoints", "b br break", cmd_info_breakpoints, "Status of user-settable breakpoints and watchpoints." },
	{ "watchpoints", NULL, cmd_info_breakpoints, "Status of watchpoints (shown with breakpoints)." },
	{ "registers", "r reg", cmd_info_registers, "List of integer registers and their contents, for selected thread.\ninfo registers [REG...]: also eax, xmm0, ymm3, st0, mxcsr." },
	{ "all-registers", NULL, cmd_info_all_registers, "List of all registers, including x87 and vector registers." },
	{ "threads", NULL, cmd_info_threads, "Display currently known threads." },
	{ "signals", "handle", cmd_info_signals, "What debugger does when program gets various signals." },
	{ "inferiors", NULL, cmd_info_inferiors, "Print a list of inferiors being managed." },
#if 0 /* needs core/sym values */
	{ "locals", NULL, cmd_info_locals, "All local variables of current stack frame." },
#endif
#if 0 /* needs core/sym values */
	{ "args", NULL, cmd_info_args, "All argument variables of current stack frame." },
#endif
#if 0 /* needs core/sym values */
	{ "frame", "f", cmd_info_frame, "All about the selected stack frame." },
#endif
	{ "line", NULL, cmd_info_line, "Core addresses of the code for a source line." },
	{ "symbol", NULL, cmd_info_symbol, "Describe what symbol is at location ADDR." },
	{ "sharedlibrary", "dll", cmd_info_sharedlibrary, "Status of loaded shared object libraries." },
	{ "source", NULL, cmd_info_source, "Information about the current source file." },
#if 0 /* needs core/sym values */
	{ "display", NULL, cmd_info_display, "Expressions to display when program stops." },
#endif
	{ "record", "rec", cmd_info_record, "Status of the recording: mode (recording, replaying), events, branch,\nand the event each checkpoint was taken at." },
	{ "checkpoints", "checkpoint", cmd_info_checkpoints, "List checkpoints: number, name, where, age and the memory each holds.\n* marks the checkpoint the program sits at." },
	{ NULL, NULL, NULL, NULL },
};

const struct sh_cmd sh_commands[] = {
	/* running */
	{ "run", "r", cmd_run, "Start debugged program.\nrun [ARGS...]: arguments replace those given before." },
	{ "start", NULL, cmd_start, "Start the debugged program, stopping at the beginning of main." },
	{ "starti", NULL, cmd_starti, "Start the debugged program, stopping at its first instruction." },
	{ "continue", "c fg cont", cmd_continue, "Continue program being debugged, after signal or breakpoint.\ncontinue N: ignore this breakpoint N-1 more times.", true },
	{ "step", "s", cmd_step, "Step program until it reaches a different source line.\nstep [N]: enters functions that have line information.", true },
	{ "next", "n", cmd_next, "Step program, proceeding through subroutine calls.\nnext [N]", true },
	{ "stepi", "si", cmd_stepi, "Step one instruction exactly.\nstepi [N]", true },
	{ "nexti", "ni", cmd_nexti, "Step one instruction, but proceed through subroutine calls.\nnexti [N]", true },
	{ "finish", "fin", cmd_finish, "Execute until selected stack frame returns.\nPrints the value returned." },
	{ "until", "u", cmd_until, "Execute until past the current line or past a LOCATION.\nuntil: like next, but does not go backwards in a loop.\nuntil LOCATION: run until LOCATION or the current frame returns.", true },
	{ "advance", NULL, cmd_advance, "Continue the program up to the given location (same form as args for break command)." },
	{ "signal", NULL, cmd_signal, "Continue program with the specified signal.\nsignal SIG (0 continues without a signal)." },
	{ "kill", "k", cmd_kill, "Kill execution of program being debugged." },
	{ "attach", NULL, cmd_attach, "Attach to a process that was started up outside of rewind.\nattach PID" },
	{ "detach", NULL, cmd_detach, "Detach the process: it keeps running untraced." },
	/* breakpoints */
	{ "break", "b br bre brea", cmd_break, "Set breakpoint at specified location.\nbreak [LOCATION] [thread N] [if CONDITION]\nLOCATION: FUNCTION, FILE:LINE, LINE, FILE:FUNCTION or *ADDRESS." },
	{ "tbreak", "tb", cmd_tbreak, "Set a temporary breakpoint (deleted when hit)." },
	{ "hbreak", NULL, cmd_hbreak, "Set a hardware assisted breakpoint (debug registers)." },
	{ "watch", NULL, cmd_watch, "Set a watchpoint for EXPRESSION: stop after a write that changes its value.\nUses the CPU's debug registers (1/2/4/8-byte pieces, 4 in all)." },
	{ "rwatch", NULL, cmd_rwatch, "Set a read watchpoint for EXPRESSION." },
	{ "awatch", NULL, cmd_awatch, "Set an access (read or write) watchpoint for EXPRESSION." },
	{ "delete", "d", cmd_delete, "Delete all or some breakpoints.\ndelete [N...], delete checkpoint N, delete display N." },
	{ "disable", "disa dis", cmd_disable, "Disable all or some breakpoints." },
	{ "enable", "en", cmd_enable, "Enable all or some breakpoints." },
	{ "condition", NULL, cmd_condition, "Specify breakpoint number N to break only if COND is true.\ncondition N [COND]" },
	{ "ignore", NULL, cmd_ignore, "Set ignore-count of breakpoint number N to COUNT." },
	{ "clear", NULL, cmd_clear, "Clear breakpoint at specified location." },
	/* data */
#if 0 /* needs core/sym values */
	{ "print", "p inspect", cmd_print, "Print value of expression EXP.\nprint[/FMT] EXP: FMT is one of x d u o t c a s f z.\n$N refers to value history, $ to the last value." },
#endif
#if 0 /* needs core/sym values */
	{ "output", NULL, cmd_output, "Like print, but without the $N = and the newline." },
#endif
#if 0 /* needs core/sym values */
	{ "call", NULL, cmd_call, "Call a function in the program.\ncall FUNC(ARGS): prints the returned value unless void." },
#endif
	{ "x", NULL, cmd_x, "Examine memory: x/FMT ADDRESS.\nFMT is a repeat count, a format letter (x d u o t c a s i f) and a size letter (b h w g)." },
#if 0 /* needs core/sym values */
	{ "ptype", NULL, cmd_ptype, "Print definition of type TYPE, or of the type of an expression." },
#endif
#if 0 /* needs core/sym values */
	{ "whatis", NULL, cmd_whatis, "Print data type of expression EXP." },
#endif
#if 0 /* needs core/sym values */
	{ "display", NULL, cmd_display, "Print value of expression EXP each time the program stops." },
#endif
#if 0 /* needs core/sym values */
	{ "undisplay", NULL, cmd_undisplay, "Cancel some expressions to be displayed when program stops." },
#endif
	{ "disassemble", "disas", cmd_disassemble, "Disassemble a specified section of memory.\ndisassemble [ADDR | START,END | START,+LEN]; the current function by default." },
	{ "list", "l", cmd_list, "List specified function or line.\nlist [LINE | FILE:LINE | FUNCTION | FIRST,LAST]", true },
	/* stack */
#if 0 /* needs core/sym values */
	{ "backtrace", "bt where", cmd_backtrace, "Print backtrace of all stack frames.\nbacktrace [N | -N | full]" },
#endif
#if 0 /* needs core/sym values */
	{ "frame", "f", cmd_frame, "Select and print a stack frame.\nframe [N]" },
#endif
#if 0 /* needs core/sym values */
	{ "up", NULL, cmd_up, "Select and print stack frame that called this one.\nup [N]" },
#endif
#if 0 /* needs core/sym values */
	{ "down", "do dow", cmd_down, "Select and print stack frame called by this one.\ndown [N]" },
#endif
	/* checkpoints */
	{ "checkpoint", NULL, cmd_checkpoint, "Checkpoint the program: checkpoint [-f] [NAME].\nA checkpoint is a forked copy of the stopped program (all threads and child\nprocesses); restart N returns to it any number of times. -f takes it even when\nsome resources (a TCP connection, a device) cannot be restored." },
	{ "bookmark", NULL, cmd_bookmark, "Name the current state: bookmark NAME (restart NAME returns to it)." },
	{ "restart", "goto", cmd_restart, "Restore a checkpoint: restart N|NAME.\nThe program becomes what it was then (memory, registers, threads, pids, file\noffsets); continuing starts a new branch, and later checkpoints stay restorable." },
	/* threads, signals */
	{ "thread", "t", cmd_thread, "Use this command to switch between threads.\nthread N" },
	{ "handle", NULL, cmd_handle, "Specify how to handle signals.\nhandle SIG [stop|nostop|print|noprint|pass|nopass]..." },
	/* prefixes */
	{ "info", "i inf", NULL, "Generic command for showing things about the program being debugged.", false, sh_info_cmds },
	{ "set", NULL, cmd_set, "Evaluate expression EXP and assign result to variable VAR, or change a setting.", false, sh_set_cmds },
	{ "show", NULL, cmd_show, "Generic command for showing things about the debugger.", false, sh_show_cmds },
	/* misc */
	{ "file", NULL, cmd_file, "Use FILE as program to be debugged." },
	{ "echo", NULL, cmd_echo, "Print a constant string. Give string as argument.\nC escape sequences may be used." },
	{ "source", NULL, cmd_source, "Read commands from a file named FILE." },
	{ "help", "h", cmd_help, "Print list of commands, or the documentation of one: help CMD." },
	{ "quit", "q exit", cmd_quit, "Exit rewind (the program is killed, or left running if attached)." },
	{ NULL, NULL, NULL, NULL },
};
