/* rwagent_info: how rewind finds the agent's entry points in a debuggee.
 * The constructor writes this one variable and does nothing else, so loading the
 * agent changes no state the program can observe. */
#include <stdint.h>

#include "agent.h"

RWAGENT_EXPORT struct rwagent_info rwagent_info;

__attribute__((constructor)) static void rwagent_init(void)
{
	rwagent_info.version = RWAGENT_VERSION;
	rwagent_info.size = sizeof rwagent_info;
	rwagent_info.call_entry = (uint64_t)(uintptr_t)rwagent_call_entry;
	rwagent_info.call_trap = (uint64_t)(uintptr_t)rwagent_call_trap;
	/* Last: rewind treats the agent as usable once the magic is there. */
	__atomic_store_n(&rwagent_info.magic, RWAGENT_INFO_MAGIC, __ATOMIC_RELEASE);
}
