/* `rewind run`: the session driver. It launches the command with the nested-tracer
 * seccomp filter, feeds every event to core/nest, and serves checkpoint requests:
 * quiesce (nest), snapshot of every process (core/snapshot), the emulation state and
 * the terminal's settings; restore puts the three back and tells the foreground
 * program to redraw (SIGWINCH). */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "core/log.h"
#include "core/nest.h"
#include "core/snapshot.h"
#include "replay/seccomp.h"

/* One checkpoint of the session. */
struct sv_ckpt {
	int id;
	char *name;
	struct snapshot *snap;
	struct nest_state *ns;
	bool has_tio;
	struct termios tio;
	pid_t fg;                     /* foreground process group then */
	uint64_t taken_ns;
	unsigned nprocs;
	bool answer;                  /* asked for from inside: answer again at restore */
	struct sockaddr_un client;
	socklen_t clientlen;
	struct sv_ckpt *next;
};

struct sv {
	struct target tg;
	struct nest *nest;
	struct sv_ctl ctl;
	bool ctl_open;
	struct seccomp_prog prog;
	pid_t top;
	int tty;                      /* the controlling terminal, -1 if none */
	struct sv_ckpt *ckpts;
	int next_id;
	bool done;
	int status;
	uint64_t winch_at;            /* when to put the terminal's size back (0: never) */
	struct winsize winch;
};

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* In the command before its exec: the filter (with its user-notification listener,
 * sent to rewind over sock) and nothing else. Only syscalls. */
struct child_arg {
	const struct seccomp_prog *prog;
	int sock;
};

static int child_setup(void *arg)
{
	const struct child_arg *c = arg;
	struct sock_fprog fp = { .len = (unsigned short)c->prog->len, .filter = c->prog->insns };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* Once rewind has read a call, a signal must not interrupt it: rewind may already
	 * have done what it asks (a PTRACE_CONT), and a restart would do it twice. */
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER |
			  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &fp);
	if (fd < 0)
		return -errno;
	char byte = 0;
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof ctl };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	int ifd = (int)fd;
	memcpy(CMSG_DATA(cm), &ifd, sizeof ifd);
	if (sendmsg(c->sock, &m, 0) < 0)
		return -errno;
	close(ifd);
	close(c->sock);
	return 0;
}

static int recv_listener(int sock)
{
	char byte;
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof ctl };
	if (recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
		return -errno;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	return fd;
}

/* Trap nest's syscalls: the waits at a ptrace stop (RET_TRACE, data = the number), the
 * others through the listener (RET_USER_NOTIF, patched into the generated program). */
static int build_filter(struct seccomp_prog *prog)
{
	struct seccomp_rule rules[16];
	for (size_t i = 0; i < nest_ntrapped; i++) {
		rules[i] = (struct seccomp_rule){ .nr = nest_trapped[i],
						  .data = (uint16_t)nest_trapped[i], .skip_arg = -1 };
		/* A wait that may go to the listener is built as a skip rule (its argument
		 * test then RET_ALLOW), whose RET_ALLOW is patched below. */
		nest_wait_by_listener(nest_trapped[i], &rules[i].skip_arg, &rules[i].skip_mask,
				      &rules[i].skip_value);
	}
	struct seccomp_opts o = { .rules = rules, .nrules = nest_ntrapped, .trace_foreign = true };
	int e = seccomp_build(&o, prog);
	struct sock_filter *f = prog->insns;
	for (size_t i = 0; !e && i < prog->len; i++) {
		if (f[i].code != (BPF_RET | BPF_K) ||
		    (f[i].k & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_TRACE)
			continue;
		int nr = (int)(f[i].k & SECCOMP_RET_DATA), arg;
		uint32_t mask, value;
		if (nest_by_listener(nr))
			f[i].k = SECCOMP_RET_USER_NOTIF;
		else if (nest_wait_by_listener(nr, &arg, &mask, &value) && i >= 2 &&
			 f[i - 1].code == (BPF_RET | BPF_K) && f[i - 1].k == SECCOMP_RET_ALLOW &&
			 f[i - 2].code == (BPF_JMP | BPF_JEQ | BPF_K) && f[i - 2].k == value)
			f[i - 1].k = SECCOMP_RET_USER_NOTIF;   /* the skip rule's match */
	}
	return e;
}

static struct sv_ckpt *find_ckpt(struct sv *s, const char *what)
{
	char *end;
	long id = strtol(what, &end, 10);
	for (struct sv_ckpt *c = s->ckpts; c; c = c->next)
		if ((*what && !*end && c->id == id) || (c->name && !strcmp(c->name, what)))
			return c;
	return NULL;
}

static void free_ckpt(struct sv *s, struct sv_ckpt *c)
{
	snap_drop(&s->tg, c->snap);
	nest_state_free(c->ns);
	free(c->name);
	free(c);
}

/* Unlink and free dead incarnations (a restore leaves them in the list). */
static void forget_dead(struct sv *s)
{
	for (struct proc *p = s->tg.procs, *n; p; p = n) {
		n = p->next;
		if (p->dead && !p->snapshot)
			target_forget(&s->tg, p);
	}
}

static unsigned live_procs(struct sv *s)
{
	unsigned k = 0;
	for (struct proc *p = s->tg.procs; p; p = p->next)
		k += !p->dead && !p->snapshot;
	return k;
}

static void checkpoint(struct sv *s, const char *name, bool force, const struct sv_req *r,
		       bool inside, struct sbuf *out, bool *ok)
{
	if (name && find_ckpt(s, name)) {
		sbuf_printf(out, "a checkpoint named \"%s\" exists already", name);
		return;
	}
	struct sbuf why = { 0 };
	struct snapshot *snap = NULL;
	uint64_t t0 = now_ns();
	int e = nest_quiesce(s->nest, &why);
	struct sv_ckpt *c = xcalloc(1, sizeof *c);
	c->has_tio = s->tty >= 0 && tcgetattr(s->tty, &c->tio) == 0;
	c->fg = s->tty >= 0 ? tcgetpgrp(s->tty) : -1;
	if (e == 0) {
		struct snap_opts o = { .force = force };
		e = snap_take(&s->tg, &o, &snap, &why);
		nest_prepared(s->nest);
		if (e == 0)
			c->ns = nest_save(s->nest);
	}
	nest_resume_all(s->nest);
	if (e < 0) {
		sbuf_printf(out, "cannot checkpoint: %s%s%s", strerror(-e), why.len ? "\n" : "",
			    sbuf_str(&why));
		sbuf_free(&why);
		free(c);
		return;
	}
	c->id = s->next_id++;
	c->name = name ? xstrdup(name) : NULL;
	c->snap = snap;
	c->taken_ns = now_ns();
	c->nprocs = live_procs(s);
	if (inside) {
		c->answer = true;
		c->client = r->from;
		c->clientlen = r->fromlen;
	}
	struct sv_ckpt **pp = &s->ckpts;
	while (*pp)
		pp = &(*pp)->next;
	*pp = c;
	sbuf_printf(out, "checkpoint %d%s%s%s taken (%u processes, %.1f ms)", c->id,
		    name ? " (" : "", name ? name : "", name ? ")" : "", c->nprocs,
		    (double)(c->taken_ns - t0) / 1e6);
	if (why.len)
		sbuf_printf(out, "\nmarked: %s", sbuf_str(&why));
	sbuf_free(&why);
	*ok = true;
}

/* Make the foreground program redraw: readline (gdb's prompt) and full-screen programs
 * redraw on SIGWINCH when the size changed, so the terminal is narrowed by a column now
 * (the kernel sends SIGWINCH) and widened back a moment later (once more), from the
 * event loop, which must run meanwhile for the signal to reach a traced program. */
static void redraw(struct sv *s)
{
	struct winsize ws;
	if (ioctl(s->tty, TIOCGWINSZ, &ws) < 0 || ws.ws_col < 2) {
		if (s->tty >= 0 && tcgetpgrp(s->tty) > 0)
			kill(-tcgetpgrp(s->tty), SIGWINCH);
		return;
	}
	s->winch = ws;
	ws.ws_col--;
	ioctl(s->tty, TIOCSWINSZ, &ws);
	s->winch_at = now_ns() + 150 * 1000000ull;
}

static void restore(struct sv *s, const char *what, struct sbuf *out, bool *ok)
{
	struct sv_ckpt *c = find_ckpt(s, what);
	if (!c) {
		sbuf_printf(out, "no checkpoint %s", what);
		return;
	}
	struct sbuf why = { 0 };
	uint64_t t0 = now_ns();
	int e = snap_restore(&s->tg, c->snap, &why);
	forget_dead(s);
	if (e < 0) {
		sbuf_printf(out, "cannot restore checkpoint %d: %s\n%s", c->id, strerror(-e),
			    sbuf_str(&why));
		sbuf_free(&why);
		return;
	}
	nest_load(s->nest, c->ns, &why);
	if (why.len)
		pr_warn(LM_NEST, "restore of checkpoint %d: %s", c->id, sbuf_str(&why));
	if (c->has_tio) {
		/* The terminal as the programs left it then, the same foreground job, and a
		 * nudge to redraw (readline, full-screen programs). */
		tcsetattr(s->tty, TCSANOW, &c->tio);
		if (c->fg > 0 && tcsetpgrp(s->tty, c->fg) < 0)
			pr_debug(LM_NEST, "tcsetpgrp %d: %s", c->fg, strerror(errno));
	}
	nest_resume_all(s->nest);
	if (c->has_tio)
		redraw(s);
	if (c->answer) {
		char id[16];
		snprintf(id, sizeof id, "%d", c->id);
		svc_send(&s->ctl, &c->client, c->clientlen, "restored", id);
	}
	sbuf_printf(out, "restored checkpoint %d%s%s%s (%.1f ms)", c->id, c->name ? " (" : "",
		    c->name ? c->name : "", c->name ? ")" : "", (double)(now_ns() - t0) / 1e6);
	if (why.len)
		sbuf_printf(out, "\n%s", sbuf_str(&why));
	sbuf_free(&why);
	*ok = true;
}

static void list(struct sv *s, struct sbuf *out)
{
	uint64_t now = now_ns();
	if (!s->ckpts)
		sbuf_puts(out, "no checkpoints");
	for (struct sv_ckpt *c = s->ckpts; c; c = c->next)
		sbuf_printf(out, "%s%-3d %-16s %8.1fs ago  %u processes  %.1f MiB%s", c == s->ckpts ?
			    "" : "\n", c->id, c->name ? c->name : "-",
			    (double)(now - c->taken_ns) / 1e9, c->nprocs,
			    (double)snap_private_bytes(c->snap) / (1 << 20),
			    snap_marks(c->snap) ? "  (marked)" : "");
}

/* Serve one request. */
static void serve(struct sv *s, struct sv_req *r)
{
	char *save, *magic = strtok_r(r->text, " \n", &save);
	char *pid = strtok_r(NULL, " \n", &save), *cmd = strtok_r(NULL, " \n", &save);
	char *arg = strtok_r(NULL, "\n", &save);
	struct sbuf out = { 0 };
	bool ok = false;
	if (arg)
		arg = str_trim(arg);
	if (arg && !*arg)
		arg = NULL;
	if (!magic || strcmp(magic, SV_MAGIC) || !pid || !cmd) {
		svc_send(&s->ctl, &r->from, r->fromlen, "error", "malformed request");
		return;
	}
	struct proc *asker = target_find_proc(&s->tg, (pid_t)atoi(pid));
	bool inside = asker && !asker->snapshot;
	pr_debug(LM_NEST, "control: %s %s from %s", cmd, arg ? arg : "", pid);
	if (!strcmp(cmd, "ping")) {
		sbuf_printf(&out, "rewind run, pid %d, command pid %d", (int)getpid(), (int)s->top);
		ok = true;
	} else if (!strcmp(cmd, "checkpoint") || !strcmp(cmd, "checkpoint!")) {
		checkpoint(s, arg, cmd[10] == '!', r, inside, &out, &ok);
	} else if (!strcmp(cmd, "restore") && arg) {
		restore(s, arg, &out, &ok);
		if (ok && inside)
			goto done;   /* the asker is gone (its restored self may hear "restored") */
	} else if (!strcmp(cmd, "list")) {
		list(s, &out);
		ok = true;
	} else if (!strcmp(cmd, "delete") && arg) {
		struct sv_ckpt *c = find_ckpt(s, arg);
		if (!c) {
			sbuf_printf(&out, "no checkpoint %s", arg);
		} else {
			for (struct sv_ckpt **pp = &s->ckpts; *pp; pp = &(*pp)->next)
				if (*pp == c) {
					*pp = c->next;
					break;
				}
			sbuf_printf(&out, "deleted checkpoint %d", c->id);
			free_ckpt(s, c);
			ok = true;
		}
	} else if (!strcmp(cmd, "status")) {
		sbuf_printf(&out, "%u processes, %d checkpoints\n", live_procs(s),
			    s->next_id - 1);
		nest_describe(s->nest, &out);
		ok = true;
	} else {
		sbuf_printf(&out, "unknown request \"%s\" (checkpoint [NAME], restore N|NAME, list, "
			    "delete N|NAME, status)", cmd);
	}
	svc_send(&s->ctl, &r->from, r->fromlen, ok ? "ok" : "error", sbuf_str(&out));
done:
	sbuf_free(&out);
}

static void serve_all(struct sv *s)
{
	struct sv_req r;
	while (svc_pop(&s->ctl, &r))
		serve(s, &r);
	/* Exits met while stopping everyone for a checkpoint (the command's too). */
	for (struct proc *p = s->tg.procs, *next; p; p = next) {
		next = p->next;
		if (!p->dead || p->snapshot)
			continue;
		if (p->pid == s->top && !s->done) {
			s->status = p->wstatus;
			s->done = true;
		}
		target_forget(&s->tg, p);
	}
}

/* Empty a signalfd or eventfd (one read takes all a signalfd holds for SIGCHLD, which
 * is pending at most once). */
static void drain(int fd)
{
	char buf[1024];
	if (read(fd, buf, sizeof buf) < 0 && errno != EAGAIN)
		pr_debug(LM_NEST, "fd %d: %s", fd, strerror(errno));
}

/* Events, answers to the listener's calls and control requests, until the command
 * ends. target_wait() is only asked for what is ready; the waiting is done here, on
 * the target's SIGCHLD signalfd, its wake fd (control requests) and the listener. */
static void loop(struct sv *s)
{
	while (!s->done) {
		int timeout = -1;
		if (s->winch_at) {
			uint64_t now = now_ns();
			if (now >= s->winch_at) {
				ioctl(s->tty, TIOCSWINSZ, &s->winch);
				s->winch_at = 0;
			} else {
				timeout = (int)((s->winch_at - now) / 1000000) + 1;
			}
		}
		struct tev ev;
		int r = target_wait(&s->tg, &ev, 0);
		if (r > 0) {
			nest_handle(s->nest, &ev);
			if (ev.kind == TEV_GROUP_STOP && ev.proc && ev.proc->pid == s->top &&
			    ev.tid == s->top &&
			    (ev.sig == SIGTSTP || ev.sig == SIGTTIN || ev.sig == SIGTTOU)) {
				/* The command stopped for job control (^Z): so does rewind, which
				 * its shell waits for; the shell's SIGCONT reaches both. */
				raise(SIGSTOP);
			}
			if (ev.kind == TEV_EXITED && ev.proc && !ev.proc->snapshot) {
				if (ev.proc->pid == s->top) {
					s->status = ev.status;
					s->done = true;
				}
				target_forget(&s->tg, ev.proc);
			}
			continue;
		}
		if (r < 0 && r != -EDEADLK && r != -EINTR) {
			pr_err(LM_NEST, "waiting for the session's processes: %s", strerror(-r));
			break;
		}
		if (r == -EDEADLK && !live_procs(s) && !nest_serve_listener(s->nest))
			break;
		struct pollfd pfd[3] = { { s->tg.sigfd, POLLIN, 0 }, { s->tg.wake_fd, POLLIN, 0 },
					 { nest_listener(s->nest), POLLIN, 0 } };
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[2].revents & POLLIN)
			nest_serve_listener(s->nest);
		if (pfd[0].revents & POLLIN)
			drain(s->tg.sigfd);
		if (pfd[1].revents & POLLIN) {
			drain(s->tg.wake_fd);
			serve_all(s);
		}
	}
}

int sv_run(const struct sv_opts *o, int *status, struct sbuf *err)
{
	struct sv *s = xcalloc(1, sizeof *s);
	char path[256];
	int e;
	s->next_id = 1;
	s->tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if ((e = target_init(&s->tg)) < 0) {
		sbuf_printf(err, "cannot initialise: %s", strerror(-e));
		goto out;
	}
	nest_new(&s->tg, &s->nest);
	if ((e = build_filter(&s->prog)) < 0) {
		sbuf_printf(err, "cannot build the seccomp filter: %s", strerror(-e));
		goto out;
	}
	if (o->control) {
		snprintf(path, sizeof path, "%s", o->control);
	} else {
		char dir[200];
		if ((e = sv_control_dir(dir, sizeof dir)) < 0) {
			sbuf_printf(err, "no directory for the control socket: %s", strerror(-e));
			goto out;
		}
		snprintf(path, sizeof path, "%s/%d.sock", dir, (int)getpid());
	}
	if ((e = svc_open(&s->ctl, path, s->tg.wake_fd, err)) < 0)
		goto out;
	s->ctl_open = true;
	/* The command gets the terminal; rewind ignores what the keyboard sends it (it
	 * stops when the command does), and may set the terminal from the background. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	extern char **environ;
	VEC(char *) env = { 0 };
	for (char **v = environ; *v; v++)
		if (strncmp(*v, SV_ENV "=", sizeof SV_ENV))
			vec_push(&env, *v);
	char *mine = xasprintf("%s=%s", SV_ENV, path);
	vec_push(&env, mine);
	vec_push(&env, NULL);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		e = -errno;
		sbuf_printf(err, "socketpair: %s", strerror(errno));
		goto out;
	}
	struct child_arg ca = { &s->prog, sv[1] };
	struct launch_spec ls = { .argv = o->argv, .envp = env.v, .keep_aslr = true,
				  .exitkill = true, .child_setup = child_setup, .child_arg = &ca };
	struct proc *top = NULL;
	e = target_launch(&s->tg, &ls, &top);
	free(mine);
	vec_free(&env);
	close(sv[1]);
	int lfd = e < 0 ? e : recv_listener(sv[0]);
	close(sv[0]);
	if (e < 0) {
		sbuf_printf(err, "%s: %s", o->argv[0], strerror(-e));
		goto out;
	}
	if (lfd < 0) {
		e = lfd;
		sbuf_printf(err, "%s: no seccomp listener from the command: %s", o->argv[0],
			    strerror(-e));
		goto out;
	}
	nest_set_listener(s->nest, lfd);
	s->top = top->pid;
	nest_adopt(s->nest, top);
	if (o->ready)
		o->ready(o->ctx, top->pid, path);
	nest_resume_all(s->nest);
	loop(s);
	*status = s->status;
	/* What the command left running goes on, untraced. */
	for (struct proc *p = s->tg.procs; p; p = p->next)
		if (!p->dead && !p->snapshot)
			target_detach(&s->tg, p);
	e = 0;
out:
	while (s->ckpts) {
		struct sv_ckpt *c = s->ckpts;
		s->ckpts = c->next;
		free_ckpt(s, c);
	}
	if (s->ctl_open)
		svc_close(&s->ctl);
	nest_free(s->nest);
	target_fini(&s->tg);
	seccomp_prog_free(&s->prog);
	if (s->tty >= 0)
		close(s->tty);
	free(s);
	return e;
}
