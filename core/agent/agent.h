/* librewind-agent.so internals: the library rewind preloads into a debuggee.
 *
 * Rules for everything in this directory (the program must not notice the agent):
 * no output, no threads, no signal handlers, no heap, no file descriptors, no
 * state outside the agent's own variables. Exported: rwagent_* symbols, and the
 * libc functions the syscall buffer interposes, which behave as libc's own
 * (-fvisibility=hidden, libffi linked in privately). Syscalls only for the syscall
 * buffer, and only while rewind records or replays (it answered the hello). One
 * file per concern: agent_init.c (discovery), agent_call.c (inferior function
 * calls), agent_sysbuf.c (the recorder's syscall buffer). */
#ifndef REWIND_AGENT_H
#define REWIND_AGENT_H

#include "agent_abi.h"

#define RWAGENT_EXPORT __attribute__((visibility("default")))

extern RWAGENT_EXPORT struct rwagent_info rwagent_info;

/* Perform the call the descriptor describes; status and result go back into it.
 * Called by rwagent_call_entry (agent_call.c) with the thread's own stack. */
void rwagent_call(struct rwagent_call *d);

/* The entry trampoline and its trap, defined in assembly in agent_call.c. */
extern RWAGENT_EXPORT char rwagent_call_entry[], rwagent_call_trap[];

#endif
