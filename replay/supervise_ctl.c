/* The control socket of a `rewind run` session: the server thread, the client
 * request and the discovery of running sessions. */
#include "supervise_int.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

int sv_control_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	if (xdg && *xdg && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid())
		snprintf(buf, len, "%s/rewind", xdg);
	else
		snprintf(buf, len, "/tmp/rewind-%u", (unsigned)getuid());
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(buf, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) {
		pr_err(LM_NEST, "%s is not a directory of ours closed to others", buf);
		return -EPERM;
	}
	return 0;
}

static int sigio_wake = -1;

static void on_sigio(int sig)
{
	int saved = errno;
	uint64_t one = 1;
	(void)sig;
	if (sigio_wake >= 0 && write(sigio_wake, &one, sizeof one) < 0)
		(void)0;
	errno = saved;
}

int svc_open(struct sv_ctl *c, const char *path, int wake_fd, struct sbuf *err)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->wake_fd = wake_fd;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path) {
		sbuf_printf(err, "control socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		int e = -errno;
		sbuf_printf(err, "control socket: %s", strerror(errno));
		return e;
	}
	int big = SV_MSG_MAX * 4;
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	unlink(path);   /* a dead session's (our pid: it cannot be alive) */
	mode_t old = umask(0177);
	int r = bind(c->fd, (struct sockaddr *)&a, sizeof a);
	umask(old);
	if (r < 0) {
		int e = -errno;
		sbuf_printf(err, "cannot bind the control socket %s: %s", path, strerror(errno));
		svc_close(c);
		return e;
	}
	snprintf(c->path, sizeof c->path, "%s", path);
	chmod(path, 0600);
	sigio_wake = wake_fd;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigio;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGIO, &sa, NULL) < 0 || fcntl(c->fd, F_SETOWN, getpid()) < 0 ||
	    fcntl(c->fd, F_SETFL, O_NONBLOCK | O_ASYNC) < 0) {
		int e = -errno;
		sbuf_printf(err, "control socket: cannot arm SIGIO: %s", strerror(errno));
		svc_close(c);
		return e;
	}
	return 0;
}

bool svc_pop(struct sv_ctl *c, struct sv_req *out)
{
	memset(out, 0, sizeof *out);
	out->fromlen = sizeof out->from;
	ssize_t k = recvfrom(c->fd, out->text, sizeof out->text - 1, MSG_DONTWAIT,
			     (struct sockaddr *)&out->from, &out->fromlen);
	if (k <= 0)
		return false;
	out->text[k] = 0;
	return true;
}

void svc_send(struct sv_ctl *c, const struct sockaddr_un *to, socklen_t tolen, const char *status,
	      const char *text)
{
	size_t len = strlen(status) + 1 + strlen(text);
	char *msg = xasprintf("%s %s", status, text);
	if (len > SV_MSG_MAX)
		len = SV_MSG_MAX;
	if (sendto(c->fd, msg, len, MSG_DONTWAIT, (const struct sockaddr *)to, tolen) < 0)
		pr_debug(LM_NEST, "control: answer not delivered: %s", strerror(errno));
	free(msg);
}

void svc_close(struct sv_ctl *c)
{
	if (c->fd >= 0) {
		signal(SIGIO, SIG_IGN);
		sigio_wake = -1;
		close(c->fd);
	}
	c->fd = -1;
	if (c->path[0])
		unlink(c->path);
	c->path[0] = 0;
}

/* ---- client ---- */

int sv_request(const char *path, const char *request, struct sbuf *reply, int timeout_ms)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path)
		return -ENAMETOOLONG;
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int e = 0;
	/* An autobound (abstract) address of our own, for the answer. */
	struct sockaddr_un me = { .sun_family = AF_UNIX };
	if (bind(fd, (struct sockaddr *)&me, sizeof(sa_family_t)) < 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	char *msg = xasprintf("%s %d %s", SV_MAGIC, (int)getpid(), request);
	if (send(fd, msg, strlen(msg), 0) < 0)
		e = -errno;
	free(msg);
	char *buf = xmalloc(SV_MSG_MAX + 1);
	while (!e) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			e = r < 0 ? -errno : -ETIMEDOUT;
			break;
		}
		ssize_t k = recv(fd, buf, SV_MSG_MAX, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			e = -errno;
			break;
		}
		buf[k] = 0;
		char *sp = strchr(buf, ' ');
		const char *text = sp ? sp + 1 : "";
		if (sp)
			*sp = 0;
		if (!strcmp(buf, "ok") || !strcmp(buf, "error")) {
			sbuf_puts(reply, text);
			e = !strcmp(buf, "ok");
			break;
		}
		if (!strcmp(buf, "restored")) {
			/* This process was restored while it waited for its checkpoint. */
			sbuf_printf(reply, "restored %s", text);
			e = 2;
			break;
		}
	}
	free(buf);
	close(fd);
	return e;
}

int sv_sessions(struct sbuf *paths)
{
	char dir[256];
	if (sv_control_dir(dir, sizeof dir) < 0)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".sock"))
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		struct sbuf r = { 0 };
		int e = sv_request(path, "ping", &r, 1000);
		if (e == 1) {
			sbuf_printf(paths, "%s\n", path);
			n++;
		} else if (e == -ECONNREFUSED) {
			unlink(path);   /* a session that died without cleaning up */
		}
		sbuf_free(&r);
		free(path);
	}
	closedir(d);
	return n;
}
