/* systable: every x86-64 system call as data — number, name, argument count, how
 * record/replay treats it (its class), flags, and where the kernel writes results
 * into tracee memory (out-parameters). The table itself is replay/systable_tab.c,
 * one line per syscall; regular calls are recorded and replayed from it alone,
 * irregular ones name a family handler (enum sc_family) implemented in
 * replay/systable_out.c.
 *
 * The replay model the classes serve (docs/architecture.md, "Determinism"):
 *   - during replay the process runs natively between syscalls; its descriptor
 *     table is mirrored (each descriptor the recording obtained from a skipped call
 *     exists as a placeholder with the same number), so calls that only shuffle
 *     descriptors (close, dup*) run natively and return what they returned then;
 *   - anything that reads the outside world (files, sockets, clocks, ids, other
 *     processes) is skipped during replay and its result and out-buffers come from
 *     the trace, so a recording replays on another machine;
 *   - anything that acts on the outside world is skipped too: replay never writes
 *     a file or a socket again ("output is not printed twice").
 *
 * Classes (what the recorder and the replayer do):
 *   SC_NATIVE   a function of process state (memory map, signal mask, descriptor
 *               table, thread-local settings). Not trapped while recording; run
 *               natively during replay. E.g. mprotect, munmap, brk, close, dup,
 *               rt_sigprocmask, madvise, set_robust_list.
 *   SC_INPUT    result depends on the world. Trapped; result and out-buffers are
 *               recorded; replay skips the call and writes them back. E.g. read,
 *               recvmsg, poll, clock_gettime, getrandom, getpid, stat, openat,
 *               futex (threads are scheduled from the trace, so a futex wait is
 *               never executed during replay), lseek (SEEK_END depends on the file).
 *   SC_OUTPUT   acts on the world. Trapped; the result (and the few out-buffers,
 *               e.g. splice offsets) are recorded; replay skips the call. Calls
 *               flagged SCF_EMIT (write, writev) carry program output: a replayer
 *               that must reproduce it (`replay --autopilot`) re-emits the bytes
 *               from tracee memory (deterministic at that point), count = recorded
 *               result, when the recorded descriptor was the terminal/stdout/stderr.
 *   SC_MMAP     changes the address space at a kernel-chosen address or from a file
 *               (mmap, shmdt, map_shadow_stack). Trapped (the recorder stores a copy
 *               of a mapped file); replay executes it, file mappings from the stored
 *               copy with MAP_FIXED, and checks the address against the record.
 *               A recorder may let anonymous private mmap through untraced (a
 *               seccomp skip rule on MAP_ANONYMOUS): its placement is deterministic
 *               with ASLR off and an identical layout.
 *   SC_STATE    changes process state the kernel must hold during replay too, but
 *               the result or the change matters to the recorder (set_tid_address
 *               returns a tid, personality, setrlimit/prlimit64 shape the next
 *               exec's layout, prctl, arch_prctl, seccomp). Trapped; replay executes
 *               it and then writes the recorded result back.
 *   SC_PROCESS  creates, replaces or ends tasks: fork, vfork, clone, clone3,
 *               execve, execveat, exit, exit_group. Handled by the task code.
 *   SC_SIGNAL   sends signals or changes dispositions: kill, tkill, tgkill,
 *               rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal (replay skips
 *               them: deliveries come from signal records), rt_sigaction (replay
 *               executes it: the kernel delivers replayed signals), rt_sigsuspend
 *               (the mask swap must be replayed).
 *   SC_UNSUPPORTED cannot be replayed faithfully: the kernel writes tracee memory
 *               asynchronously (io_uring, aio, rseq), or the call reaches beyond the
 *               recording (ptrace, bpf, perf_event_open, process namespaces,
 *               command-dependent admin calls). Flagged SCF_DENY when programs
 *               have a fallback: the recorder makes them fail with -ENOSYS.
 *
 * Positions of out-parameters are argument indexes 0..5. */
#ifndef REWIND_SYSTABLE_H
#define REWIND_SYSTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_TABLE_SIZE 470   /* numbers 0..469 (Linux 6.18); gaps have no name */
#define SC_MAX_OUT 4

enum sc_class {
	SC_NONE,          /* no syscall with this number */
	SC_NATIVE,
	SC_INPUT,
	SC_OUTPUT,
	SC_MMAP,
	SC_STATE,
	SC_PROCESS,
	SC_SIGNAL,
	SC_UNSUPPORTED,
	SC__NCLASS
};

enum sc_flag {
	SCF_NEWFD   = 1 << 0,  /* success creates descriptors: the result, or the int[2] out-buffer
	                          of pipe/pipe2/socketpair; replay makes placeholders of them */
	SCF_BLOCK   = 1 << 1,  /* may block or yield: a scheduling point for the recorder */
	SCF_BUFFER  = 1 << 2,  /* frequent and regular: the in-process agent may log it */
	SCF_NORET   = 1 << 3,  /* does not return to the caller on success */
	SCF_VDSO    = 1 << 4,  /* has a vDSO fast path the recorder forces onto the syscall */
	SCF_EMIT    = 1 << 5,  /* writes program output (see SC_OUTPUT) */
	SCF_DENY    = 1 << 6,  /* the recorder should fail it with -ENOSYS (programs fall back) */
};

/* How big an out-parameter is. */
enum sc_size {
	SZ_NONE,    /* unused slot (the list of out-parameters ends here) */
	SZ_FIXED,   /* n bytes */
	SZ_RET,     /* result × n bytes (n = element size), when the result is > 0 */
	SZ_ARG,     /* args[sarg] × n bytes */
	SZ_PTR,     /* the u32 at args[sarg], read after the call, capped at n bytes
	               (socklen_t *addrlen and similar in-out lengths) */
	SZ_BITS,    /* a bitmap of args[sarg] bits, in whole longs (fd_set, nodemask) */
	SZ_PAGES,   /* one byte per page of args[sarg] bytes (mincore) */
	SZ_IOV,     /* an iovec array at args[arg] with args[sarg] entries; the result
	               (bytes) is spread over the buffers in order */
};

enum sc_out_flag {
	SO_ERR = 1 << 0,       /* written on failure too (remaining time after EINTR) */
};

struct sc_out {
	uint8_t arg;           /* argument that holds the tracee pointer */
	uint8_t how;           /* enum sc_size */
	uint8_t sarg;          /* size argument for SZ_ARG, SZ_PTR, SZ_BITS, SZ_PAGES, SZ_IOV */
	uint8_t flags;         /* enum sc_out_flag */
	uint32_t n;            /* bytes, element size or cap (see enum sc_size) */
};

/* Irregular out-parameters: the family handler that knows them. */
enum sc_family {
	SCH_NONE,
	SCH_IOCTL,        /* by request: _IOC_READ encoding, then known legacy tty/socket requests */
	SCH_FCNTL,        /* F_GETLK/F_OFD_GETLK, F_GETOWN_EX, F_GET_RW_HINT; F_DUPFD* make fds */
	SCH_FUTEX,        /* PI and WAKE_OP/REQUEUE_PI operations write futex words */
	SCH_PRCTL,        /* PR_GET_NAME, PR_GET_PDEATHSIG, PR_GET_TID_ADDRESS, ... */
	SCH_MSGHDR,       /* recvmsg: the msghdr, its name, iovecs and control data */
	SCH_MMSGHDR,      /* recvmmsg (every received entry), sendmmsg (msg_len of each) */
	SCH_MSGRCV,       /* msgrcv: mtype + result bytes */
	SCH_IPCCTL,       /* semctl/shmctl/msgctl STAT and INFO commands */
	SCH_CAPGET,       /* capget: data size by header version */
	SCH_FHANDLE,      /* name_to_handle_at: struct file_handle of variable size */
	SCH_XATTRARGS,    /* getxattrat: value buffer described by struct xattr_args */
	SCH_RESTART,      /* restart_syscall: the out-buffers of the interrupted call */
	SCH__COUNT
};

struct sc_entry {
	const char *name;      /* NULL for a gap */
	uint8_t nargs;
	uint8_t cls;           /* enum sc_class */
	uint8_t fam;           /* enum sc_family */
	uint8_t flags;         /* enum sc_flag */
	struct sc_out out[SC_MAX_OUT];   /* how == SZ_NONE ends the list */
};

/* The entry for syscall nr, or NULL if nr is outside the table or a gap. */
const struct sc_entry *sc_get(long nr);
/* The name of syscall nr, or NULL. */
const char *sc_name(long nr);
/* The number of the syscall called name ("read", "clone3"), or -ENOENT. */
long sc_by_name(const char *name);
/* Class of nr; SC_NONE for unknown numbers. */
enum sc_class sc_class_of(long nr);
/* Short name of a class ("native", "input", ...) and of a family ("ioctl", ...). */
const char *sc_class_name(enum sc_class c);
const char *sc_family_name(enum sc_family f);

/* Whether a call to nr is trapped while recording (every class except SC_NATIVE
 * and SC_NONE). Fills *out (a list of SC_TABLE_SIZE booleans, index = number)
 * when out is non-NULL and returns how many numbers are trapped. */
size_t sc_trapped_set(bool out[SC_TABLE_SIZE]);

/* Whether a successful call (result ret) created descriptors the replayer must
 * materialise: SCF_NEWFD calls, and fcntl F_DUPFD/F_DUPFD_CLOEXEC. Descriptors
 * passed in SCM_RIGHTS control data of recvmsg are found by the msghdr handler's
 * caller. */
bool sc_makes_fd(long nr, const uint64_t args[6], int64_t ret);

/* One tracee memory range written by the kernel. arg is the argument index whose
 * value equals addr (so a trace can name it compactly), or -1. */
struct sc_span {
	uint64_t addr;
	uint64_t len;
	int arg;
};
struct sc_spans {
	struct sc_span *v;
	size_t n, cap;
};

/* Read len bytes of tracee memory at addr into buf; 0 or -errno. */
typedef int (*sc_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* After syscall nr returned ret with arguments args, append to *out the ranges of
 * tracee memory it may have written (a superset is harmless: writing back what was
 * there changes nothing). Pointers that are NULL and empty ranges are skipped.
 * Irregular calls go through their family handler, which reads tracee structures
 * (iovecs, msghdr, headers) with rd. Returns 0; -ENOTSUP when the table cannot
 * describe this call (an unknown ioctl request, restart_syscall, a SysV GETALL):
 * the caller handles it or flags the recording; -E2BIG past 65536 ranges; or the
 * error of rd. */
int sc_outs(long nr, const uint64_t args[6], int64_t ret, sc_read_fn rd, void *ctx,
	    struct sc_spans *out);

#endif
