/* `rewind gdbserver` (the GDB Remote Serial Protocol server on stdio or a socket) and
 * `rewind gdb` (Debian's gdb, already connected to a fresh server, with the plugin).
 *
 * `rewind gdb -- PROG ARGS` uses extended-remote with the program not yet started:
 * gdb's own `run` (and `start`, `starti`) starts it through the server (vRun), as gdb
 * does natively, and `run` again starts it afresh; `continue` before `run` says the
 * program is not being run, as in gdb. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/infsym.h"
#include "core/log.h"
#include "gdbplug/gdbserver.h"
#include "gdbplug/rsp_conn.h"
#include "replay/record.h"
#include "replay/session.h"
#include "subcmds.h"

int sh_gdbserver_main(int argc, char **argv);
int sh_gdb_main(int argc, char **argv);

/* gdb, the server it starts and the program on this CPU: the recording server pins
 * itself and the program to the CPU it starts on (replay/record.c), and every gdb
 * packet is a round trip to it; across vCPUs each wakeup costs tens of
 * microseconds (a stepi took 2.5x gdb alone, on one CPU 1.3x). */
static void pin_here(void)
{
	int cpu = sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof one, &one) < 0)
		pr_debug(LM_SHELL, "rewind gdb: cannot pin to CPU %d: %s", cpu, strerror(errno));
}

static const char gdbserver_usage[] =
	"usage: rewind gdbserver (--stdio | --listen [HOST]:PORT) [--multi] [--detach-on-exit]\n"
	"                        [--no-record] [--] PROG [ARGS...]\n"
	"       rewind gdbserver (--stdio | --listen [HOST]:PORT) --attach PID\n"
	"       rewind gdbserver (--stdio | --listen [HOST]:PORT) --replay [DIR|NAME]\n"
	"  --stdio           talk to gdb on stdin/stdout (target remote | rewind gdbserver --stdio ...);\n"
	"                    the program's stdin is /dev/null and its stdout goes to stderr\n"
	"  --listen H:P      wait for gdb on a TCP port (port 0: any; the port is printed;\n"
	"                    no host: 127.0.0.1 only, as whoever connects controls the program)\n"
	"  --multi           extended-remote: start PROG on gdb's `run`, stay up after it exits\n"
	"  --tty PATH        with --stdio: the program writes to this terminal (rewind gdb\n"
	"                    passes its own)\n"
	"  --detach-on-exit  when gdb goes away, detach the program instead of killing it\n"
	"                    (a recorded one is then served by a babysitter process)\n"
	"  --attach PID      debug a running process (detached, not killed, at the end)\n"
	"  --replay [DIR]    debug a recording made with `rewind record` (default: the latest):\n"
	"                    it stands at its first instruction; gdb's `run` starts it again\n"
	"  --no-record       do not record the program's inputs (recording is on by default:\n"
	"                    restoring a checkpoint then replays them)\n";

/* The program as the shell finds it: a path, or a name searched in PATH. */
static char *find_program(const char *name)
{
	if (strchr(name, '/') || access(name, F_OK) == 0)
		return xstrdup(name);
	const char *env = getenv("PATH");
	char *path = xstrdup(env ? env : "/usr/bin:/bin"), *found = NULL;
	for (char *save, *d = strtok_r(path, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/%s", d, name);
		if (access(cand, X_OK) == 0)
			found = cand;
		else
			free(cand);
	}
	free(path);
	return found ? found : xstrdup(name);
}

/* In stdio mode the protocol moves off fds 0 and 1, which the program inherits with
 * fd 2: /dev/null for input (gdb owns the terminal), and for output the terminal
 * (tty, else the controlling one: gdb's pipe transport starts us in a session of our
 * own, without one), else a pipe the server copies to its own former stderr (gdb's;
 * a socket pair, which a checkpoint could not restore). The server leaves gdb's
 * process group, so the terminal's ^C reaches gdb only (which sends it as a packet),
 * as with gdbserver; the program stays in the server's group: were it a group
 * leader, its checkpoints (members of its group) would keep its pid busy and a
 * restore could not give it back. Returns 0, with the protocol fds, gdb's stderr and
 * the pipe to copy (-1: none). */
static int stdio_setup(const char *tty, int *in, int *out, int *err_to, int *pump)
{
	*pump = -1;
	*in = fcntl(0, F_DUPFD_CLOEXEC, 3);
	*out = fcntl(1, F_DUPFD_CLOEXEC, 3);
	*err_to = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (*in < 0 || *out < 0 || *err_to < 0)
		return -errno;
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int term = open(tty ? tty : "/dev/tty", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (term >= 0 && !isatty(term)) {
		close(term);
		term = -1;
	}
	int p[2] = { -1, -1 };
	if (term < 0 && pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	int w = term >= 0 ? term : p[1];
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(w, 1) < 0 || dup2(w, 2) < 0)
		return -errno;
	close(nul);
	close(w);
	*pump = p[0];
	signal(SIGINT, SIG_IGN);   /* gdb turns the terminal's ^C into a packet */
	if (getpgrp() != getpid())
		setpgid(0, 0);
	return 0;
}

/* Listen on HOST:PORT, announce the port, accept gdb. Returns the socket or -errno.
 * Without HOST, loopback only: whoever connects controls the program (and runs code
 * as its user), so listening on other interfaces takes an explicit 0.0.0.0 or ::. */
static int listen_accept(const char *spec)
{
	const char *colon = strrchr(spec, ':');
	char host[256] = "";
	const char *port = colon ? colon + 1 : spec;
	if (colon)
		snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	int e = getaddrinfo(*host ? host : "127.0.0.1", *port ? port : "0", &hints, &ai);
	if (e) {
		fprintf(stderr, "rewind gdbserver: %s: %s\n", spec, gai_strerror(e));
		return -EINVAL;
	}
	int ls = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ls < 0 || bind(ls, ai->ai_addr, ai->ai_addrlen) < 0 || listen(ls, 1) < 0) {
		e = -errno;
		fprintf(stderr, "rewind gdbserver: cannot listen on %s: %s\n", spec, strerror(errno));
		freeaddrinfo(ai);
		if (ls >= 0)
			close(ls);
		return e;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(ls, (struct sockaddr *)&ss, &sl);
	int p = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
					 : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	fprintf(stderr, "Listening on port %d\n", p);
	int fd;
	while ((fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
		;
	e = fd < 0 ? -errno : 0;
	close(ls);
	if (fd < 0) {
		fprintf(stderr, "rewind gdbserver: accept: %s\n", strerror(-e));
		return e;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	fprintf(stderr, "Remote debugging from host %s\n", *host ? host : "localhost");
	return fd;
}

/* gdb's pipe transport shows our stderr only while it reads from us: had we exited
 * before its first packet, its write fails ("Broken pipe") and it closes the
 * connection without showing why. So a server that failed to start reads up to the
 * end of that packet (10 s at most) before it leaves; gdb then
 * reads our end-of-file and prints our message. */
static void await_first_packet(int in, int out)
{
	struct rsp_conn *c;
	struct rsp_event ev;
	if (rsp_conn_new(in, out, &c) < 0)
		return;
	rsp_conn_wait(c, 10000, &ev);
	rsp_conn_free(c);
}

int sh_gdbserver_main(int argc, char **argv)
{
	const char *listen_on = NULL, *tty = NULL;
	bool use_stdio = false;
	struct gs_opts o = { 0 };
	pid_t pid = 0;
	bool record = true;
	const char *replay_name = NULL;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "--replay")) {
			o.replay = true;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				replay_name = argv[++i];
		} else if (!strcmp(a, "--no-record")) {
			record = false;
		} else if (!strcmp(a, "--stdio") || !strcmp(a, "-")) {
			use_stdio = true;
		} else if (!strcmp(a, "--listen") && i + 1 < argc) {
			listen_on = argv[++i];
		} else if (!strncmp(a, "--listen=", 9)) {
			listen_on = a + 9;
		} else if (!strcmp(a, "--tty") && i + 1 < argc) {
			tty = argv[++i];
		} else if (!strcmp(a, "--multi")) {
			o.multi = true;
		} else if (!strcmp(a, "--detach-on-exit")) {
			o.detach_on_exit = true;
		} else if (!strcmp(a, "--attach") && i + 1 < argc) {
			pid = (pid_t)atoi(argv[++i]);
			if (pid <= 0) {
				fprintf(stderr, "rewind gdbserver: invalid process id \"%s\"\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(gdbserver_usage, stdout);
			return 0;
		} else if (a[0] == '-') {
			fprintf(stderr, "rewind gdbserver: unknown option \"%s\"\n%s", a, gdbserver_usage);
			return 2;
		} else {
			break;
		}
	}
	if (use_stdio == !!listen_on || (i >= argc && !pid && !o.multi && !o.replay) ||
	    ((pid || o.replay) && i < argc) || (pid && o.replay)) {
		fputs(gdbserver_usage, stderr);
		return 2;
	}
	int in = -1, out = -1;
	o.output_fd = o.output_to = -1;
	if (use_stdio && stdio_setup(tty, &in, &out, &o.output_to, &o.output_fd) < 0) {
		fprintf(stderr, "rewind gdbserver: cannot set up stdio: %s\n", strerror(errno));
		return 1;
	}
	struct session *s = xcalloc(1, sizeof *s);
	if (session_init(s) < 0) {
		fprintf(stderr, "rewind gdbserver: cannot initialise: %s\n", strerror(errno));
		return 1;
	}
	infsym_install(&s->inf);
	if (!record && !o.replay)
		rec_set_enabled(s->rec, &s->inf, false);
	int code = 0;
	struct sbuf err = { 0 };
	struct rec_loaded loaded = { 0 };
	char *replay_dir = NULL;
	if (o.replay) {
		if ((code = replay_load(s, replay_name, &loaded, &replay_dir)))
			goto out;
		rec_set_emit(s->rec, true);   /* the recorded output shows as the replay passes it */
		if (session_launch(s, &err) < 0) {
			fprintf(stderr, "rewind gdbserver: %s\n", sbuf_str(&err));
			code = 1;
			goto out;
		}
		fprintf(stderr, "Replaying %s (%" PRIu64 " events); pid = %d\n", replay_dir,
			loaded.events, s->inf.main->pid);
	} else if (i < argc) {
		char *prog = find_program(argv[i]);
		argv[i] = prog;
		inf_set_program(&s->inf, argv + i);
		free(prog);
		if (!o.multi) {
			if (session_launch(s, &err) < 0) {
				fprintf(stderr, "rewind gdbserver: %s\n", sbuf_str(&err));
				code = 1;
				goto out;
			}
			fprintf(stderr, "Process %s created; pid = %d\n", s->inf.argv[0], s->inf.main->pid);
		}
	} else if (pid) {
		if (session_attach(s, pid, &err) < 0) {
			fprintf(stderr, "rewind gdbserver: %s\n", sbuf_str(&err));
			code = 1;
			goto out;
		}
		fprintf(stderr, "Attached; pid = %d\n", pid);
	}
	if (listen_on) {
		in = out = listen_accept(listen_on);
		if (in < 0) {
			code = 1;
			goto out;
		}
	}
	struct gdbserver *g;
	int e = gs_new(s, in, out, &o, &g);
	if (e < 0) {
		fprintf(stderr, "rewind gdbserver: %s\n", strerror(-e));
		code = 1;
		goto out;
	}
	e = gs_serve(g);
	gs_free(g);
	if (e < 0) {
		fprintf(stderr, "rewind gdbserver: connection failed: %s\n", strerror(-e));
		code = 1;
	}
out:
	if (code && o.output_fd >= 0 && o.output_to >= 0) {
		/* Our own messages went to the program's output pipe (stdio mode): gdb
		 * shows only what reaches its stderr. */
		fflush(stderr);
		fcntl(o.output_fd, F_SETFL, fcntl(o.output_fd, F_GETFL) | O_NONBLOCK);
		char buf[4096];
		ssize_t n;
		while ((n = read(o.output_fd, buf, sizeof buf)) > 0)
			if (write(o.output_to, buf, (size_t)n) != n)
				break;
	}
	if (code && use_stdio && in >= 0)
		await_first_packet(in, out);
	/* Never leave the program stopped behind us. */
	if (inf_alive(&s->inf)) {
		if (s->inf.main->attached || o.detach_on_exit)
			session_detach(s);
		else
			session_kill(s);
	}
	sbuf_free(&err);
	session_fini(s);
	free(s);
	if (o.replay && replay_dir) {
		rec_loaded_free(&loaded);
		free(replay_dir);
	}
	if (in >= 0)
		close(in);
	if (out >= 0 && out != in)
		close(out);
	if (o.output_fd >= 0)
		close(o.output_fd);
	if (o.output_to >= 0)
		close(o.output_to);
	return code;
}

/* ---- rewind gdb ---- */

static const char gdb_usage[] =
	"usage: rewind gdb [--no-record] [GDB OPTIONS...] [--] PROG [ARGS...]\n"
	"       rewind gdb [--no-record] [GDB OPTIONS...] --attach PID\n"
	"       rewind gdb [GDB OPTIONS...] --replay [DIR|NAME]\n"
	"Starts gdb connected to `rewind gdbserver`, with the rewind plugin loaded (\"help rewind\").\n"
	"Use gdb as usual: break, run, next, print, watch, reverse-step, reverse-continue...\n"
	"plus rewind checkpoint/restart/when/goto/last. --replay debugs a recording made with\n"
	"`rewind record` (default: the latest), from its first instruction.\n"
	"REWIND_GDB names another gdb binary.\n";

/* Single-quote s for sh -c. */
static void sh_quote(struct sbuf *b, const char *s)
{
	sbuf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sbuf_puts(b, "'\\''");
		else
			sbuf_putc(b, *s);
	}
	sbuf_putc(b, '\'');
}

static char *find_plugin(const char *self)
{
	const char *env = getenv("REWIND_GDB_PLUGIN");
	if (env && *env)
		return xstrdup(env);
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", self);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	static const char *const cands[] = { "%s/rewind.py", "%s/gdbplug/rewind.py",
					     "%s/../share/rewind/rewind.py" };
	for (size_t k = 0; k < ARRAY_SIZE(cands); k++) {
		char *p = xasprintf(cands[k], dir);
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* gdb options followed by an argument (so that PROG can be told from them). */
static bool takes_arg(const char *a)
{
	static const char *const with_arg[] = {
		"-ex", "--ex", "-eval-command", "--eval-command", "-iex", "--iex",
		"-init-eval-command", "--init-eval-command", "-x", "--x", "-command", "--command",
		"-ix", "--ix", "-init-command", "--init-command", "-cd", "--cd", "-d", "--d",
		"-directory", "--directory", "-s", "--s", "-symbols", "--symbols", "-se", "--se",
		"-b", "-l", "-D", "-data-directory", "--data-directory", "-tty", "--tty",
		"-i", "--i", "-interpreter", "--interpreter",
	};
	if (strchr(a, '='))
		return false;
	for (size_t k = 0; k < ARRAY_SIZE(with_arg); k++)
		if (!strcmp(a, with_arg[k]))
			return true;
	return false;
}

int sh_gdb_main(int argc, char **argv)
{
	VEC(char *) user = { 0 };
	pid_t pid = 0;
	bool record = true, replay = false;
	const char *replay_name = NULL;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--") || !strcmp(a, "--args") || !strcmp(a, "-args")) {
			i++;
			break;
		}
		if (!strcmp(a, "--replay")) {
			replay = true;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				replay_name = argv[++i];
			continue;
		}
		if ((!strcmp(a, "--attach") || !strcmp(a, "-p") || !strcmp(a, "--pid") ||
		     !strcmp(a, "-pid")) && i + 1 < argc) {
			pid = (pid_t)atoi(argv[++i]);
			if (pid <= 0) {
				fprintf(stderr, "rewind gdb: invalid process id \"%s\"\n", argv[i]);
				return 2;
			}
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(gdb_usage, stdout);
			return 0;
		}
		if (!strcmp(a, "--no-record")) {
			record = false;
			continue;
		}
		if (a[0] != '-')
			break;
		vec_push(&user, argv[i]);
		if (takes_arg(a) && i + 1 < argc)
			vec_push(&user, argv[++i]);
	}
	if ((i >= argc) == !(pid || replay) || (pid && replay)) {
		fputs(gdb_usage, stderr);
		return 2;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		fprintf(stderr, "rewind gdb: cannot find the rewind binary: %s\n", strerror(errno));
		return 1;
	}
	self[n] = 0;
	struct sbuf target = { 0 };
	sbuf_puts(&target, "target extended-remote | ");
	sh_quote(&target, self);
	sbuf_puts(&target, record ? " gdbserver" : " gdbserver --no-record");
	const char *tty = isatty(1) ? ttyname(1) : isatty(2) ? ttyname(2) : NULL;
	if (tty) {
		/* gdb starts the server in a session of its own: tell it the terminal. */
		sbuf_puts(&target, " --tty ");
		sh_quote(&target, tty);
	}
	if (pid) {
		sbuf_printf(&target, " --stdio --attach %d", pid);
	} else if (replay) {
		sbuf_puts(&target, " --stdio --replay");
		if (replay_name) {
			/* A directory as the user named it, from gdb's working directory. */
			char *abs = realpath(replay_name, NULL);
			sbuf_putc(&target, ' ');
			sh_quote(&target, abs ? abs : replay_name);
			free(abs);
		}
	} else {
		char *prog = find_program(argv[i]);
		sbuf_puts(&target, " --stdio --multi -- ");
		sh_quote(&target, prog);
		argv[i] = prog;
	}
	char *plugin = find_plugin(self);
	if (!plugin)
		fprintf(stderr, "rewind gdb: rewind.py not found next to %s; the rewind commands "
			"are not available\n", self);
	VEC(char *) av = { 0 };
	const char *gdb = getenv("REWIND_GDB") && *getenv("REWIND_GDB") ? getenv("REWIND_GDB") : "gdb";
	vec_push(&av, (char *)gdb);
	/* Restores of big checkpoints take a while: never time out waiting for a reply. */
	vec_push(&av, "-iex");
	vec_push(&av, "set remotetimeout 10000");
	/* Same machine: read libraries from the local file system without asking. */
	vec_push(&av, "-iex");
	vec_push(&av, "set sysroot /");
	char *source = plugin ? xasprintf("source %s", plugin) : NULL;
	if (source) {
		vec_push(&av, "-ex");
		vec_push(&av, source);
	}
	vec_push(&av, "-ex");
	vec_push(&av, target.s);
	for (size_t k = 0; k < user.n; k++)
		vec_push(&av, user.v[k]);
	if (!pid && !replay) {
		vec_push(&av, "--args");
		for (int k = i; k < argc; k++)
			vec_push(&av, argv[k]);
	}
	vec_push(&av, NULL);
	if (record && !replay)
		pin_here();
	execvp(gdb, av.v);
	fprintf(stderr, "rewind gdb: cannot run %s: %s\n", gdb, strerror(errno));
	return 127;
}
