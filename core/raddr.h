/* raddr: an address in a tracee. A distinct type so a tracee pointer is never
 * dereferenced locally by accident; use RADDR(x) to make one and .v to read it. */
#ifndef REWIND_RADDR_H
#define REWIND_RADDR_H

#include <stdint.h>

typedef struct { uint64_t v; } raddr_t;

#define RADDR(x) ((raddr_t){ (uint64_t)(x) })
#define RADDR_NULL RADDR(0)

static inline raddr_t raddr_add(raddr_t a, int64_t off) { return RADDR(a.v + (uint64_t)off); }

#endif
