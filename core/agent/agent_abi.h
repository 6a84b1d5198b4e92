/* agent_abi: the wire format between rewind and librewind-agent.so.
 *
 * Both sides include this header; it depends on nothing but <stdint.h>. Every
 * address field is an address in the debuggee (the agent dereferences it, rewind
 * writes through /proc/PID/mem). Layout is fixed: fields are 8-byte aligned and
 * sized explicitly, so the same header describes the memory on both sides.
 *
 * Discovery: the agent exports one data symbol, `rwagent_info`. Its constructor
 * fills it (and nothing else); rewind finds it through the agent's .dynsym and
 * reads it from the debuggee to learn the version and the call entry points.
 *
 * A call: rewind writes a `struct rwagent_call` and the tables it points to below
 * the stopped thread's red zone, sets rdi = its address, rsp = 16-byte aligned
 * below it, rip = info.call_entry, and resumes the thread. The entry calls
 * rwagent_call(), which builds ffi types, performs ffi_call and returns into the
 * int3 at info.call_trap; the thread stops with SIGTRAP and pc = call_trap + 1. */
#ifndef REWIND_AGENT_ABI_H
#define REWIND_AGENT_ABI_H

#include <stdint.h>

#define RWAGENT_SONAME "librewind-agent.so"
#define RWAGENT_INFO_SYM "rwagent_info"
#define RWAGENT_VERSION 1u
#define RWAGENT_INFO_MAGIC 0x4f464e4957455257ull  /* "WREWINFO", once initialised */
#define RWAGENT_CALL_MAGIC 0x4c4c4143574552ull    /* "REWCALL" */

/* Exported by the agent; zero until its constructor ran. */
struct rwagent_info {
	uint64_t magic;          /* RWAGENT_INFO_MAGIC */
	uint32_t version;        /* RWAGENT_VERSION */
	uint32_t size;           /* sizeof(struct rwagent_info) */
	uint64_t call_entry;     /* where to point rip (rdi = struct rwagent_call *) */
	uint64_t call_trap;      /* the int3 the entry returns into */
};

/* Type table node kinds. Scalars map to libffi's ffi_type_*; RWT_STRUCT lists its
 * element nodes (earlier indices only, so the table has no cycles). */
enum rwagent_tkind {
	RWT_VOID, RWT_U8, RWT_S8, RWT_U16, RWT_S16, RWT_U32, RWT_S32, RWT_U64, RWT_S64,
	RWT_FLOAT, RWT_DOUBLE, RWT_LDOUBLE, RWT_PTR, RWT_STRUCT,
	RWT__COUNT
};

struct rwagent_type {
	uint16_t kind;           /* enum rwagent_tkind */
	uint16_t align;          /* RWT_STRUCT: alignment libffi must compute */
	uint32_t nelem;          /* RWT_STRUCT: number of elements */
	uint32_t first;          /* RWT_STRUCT: index of its first element in elems[] */
	uint32_t size;           /* RWT_STRUCT: size libffi must compute (checked) */
};

/* Limits the agent enforces (its working memory comes from the thread's stack). */
#define RWAGENT_MAX_TYPES 512u
#define RWAGENT_MAX_ELEMS 4096u
#define RWAGENT_MAX_ARGS 128u

enum {
	RWAGENT_F_VARIADIC = 1u << 0,   /* ffi_prep_cif_var with nfixed fixed arguments */
};

/* Agent status codes (struct rwagent_call.status). */
enum {
	RWAGENT_OK = 0,
	RWAGENT_E_PENDING = 1,   /* written by rewind; the agent never ran */
	RWAGENT_E_RUNNING = 2,   /* ffi_call started and did not return */
	RWAGENT_E_VERSION = 3,   /* magic or version mismatch */
	RWAGENT_E_LIMIT = 4,     /* a count exceeds the limits above */
	RWAGENT_E_TYPE = 5,      /* malformed type table (detail: node index) */
	RWAGENT_E_PREP = 6,      /* ffi_prep_cif failed (detail: ffi_status) */
	RWAGENT_E_LAYOUT = 7,    /* libffi laid out a struct differently (detail: node) */
};

struct rwagent_call {
	uint64_t magic;          /* RWAGENT_CALL_MAGIC */
	uint32_t version;        /* RWAGENT_VERSION */
	uint32_t flags;          /* RWAGENT_F_* */
	uint64_t fn;             /* function to call */
	uint64_t types;          /* struct rwagent_type[ntypes] */
	uint64_t elems;          /* uint32_t[nelems]: element node indices */
	uint64_t argtypes;       /* uint32_t[nargs]: node index of each argument */
	uint64_t argvals;        /* uint64_t[nargs]: address of each argument's bytes */
	uint64_t result;         /* return value buffer (16-aligned, >= 16 bytes) */
	uint32_t ntypes, nelems;
	uint32_t nargs, nfixed;
	uint32_t rettype;        /* node index of the return type */
	int32_t status;          /* out: RWAGENT_OK or RWAGENT_E_* */
	uint32_t detail;         /* out: see the status codes */
	uint32_t reserved;
};

/* ---- The syscall buffer (agent_sysbuf.c; rewind: replay/sysbuf*.c) ----
 *
 * While rewind records, the agent performs the frequent nondeterministic calls the
 * program makes through libc (clock_gettime, gettimeofday, time, read) itself, through
 * the gate: a `syscall; ret` pair at the fixed address RWSB_GATE, the one syscall
 * instruction the recording filter lets through untraced. It appends each call's
 * result and out-bytes to a per-thread buffer. rewind copies new records into the
 * trace at the thread's next stop (no stop per call). A replaying process traps that
 * instruction: rewind gives the call the recorded result (r12 holds the call's
 * sequence number) and the agent appends the
 * same record, so the program's memory is the same in both.
 *
 * The agent asks first (RWSB_NR, RWSB_OP_HELLO): only a process whose rewind answers
 * (with the number of its first call) buffers; anywhere else every call goes to libc
 * as if the agent were not there. Then it maps RWSB_PAGE (two pages,
 * MAP_FIXED_NOREPLACE): the gate's code at RWSB_GATE, and struct rwsb_page after
 * it, where rewind reads where the thread's buffer pointer lives (tls_off from the
 * thread's fs base). */
#define RWSB_PAGE 0x70000000ull         /* below 4 GiB: one range check in BPF */
#define RWSB_GATE RWSB_PAGE             /* the untraced `syscall` (0f 05 c3) */
#define RWSB_DATA (RWSB_PAGE + 0x1000)  /* struct rwsb_page */
#define RWSB_PAGE_MAGIC 0x47415042535752ull   /* "RWSBPAG" */
#define RWSB_BUF_MAGIC 0x46554242535752ull    /* "RWSBBUF" */
#define RWSB_NR 0x5257                  /* rewind's own call: trapped, never logged */
#define RWSB_OP_HELLO 1                 /* while rewind records or replays: the thread's
                                           first sequence number (> 0; numbering goes
                                           on across an exec) */
#define RWSB_OP_FLUSH 2                 /* the buffer is full: take its records now */
#define RWSB_BUF_SIZE (256u << 10)      /* bytes per thread, header included */
#define RWSB_MAX_DATA 4096u             /* a read of more is not buffered */

struct rwsb_page {
	uint64_t magic;          /* RWSB_PAGE_MAGIC */
	int64_t tls_off;         /* the thread's struct rwsb_buf * at fs_base + tls_off */
};

/* A thread's buffer: header, then records up to `used` bytes. */
struct rwsb_buf {
	uint64_t magic;          /* RWSB_BUF_MAGIC */
	uint64_t self;           /* its own address */
	uint32_t size;           /* bytes, header included */
	uint32_t used;           /* bytes of committed records after the header */
	uint64_t first_seq;      /* the sequence number the first record has (or will) */
};

/* One call: the record, its arguments, then npieces pieces (struct rwsb_piece and
 * len bytes, padded to 8). size covers all of it and is a multiple of 8. */
struct rwsb_rec {
	uint32_t size;
	uint16_t nr;
	uint8_t nargs;           /* <= 6 */
	uint8_t npieces;         /* <= 2 */
	int64_t ret;
	uint64_t seq;            /* the thread's call number, from 1 (fork: continues) */
	uint64_t args[];
};

struct rwsb_piece {
	uint64_t addr;           /* where the kernel wrote */
	uint32_t len;
	uint32_t pad;
};

#endif
