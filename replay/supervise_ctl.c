/* The control socket of a `rewind run` session: the server thread, the client
 * request and the discovery of running sessions. */
#include "supervise_int.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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

static void *server(void *arg)
{
	struct sv_ctl *c = arg;
	for (;;) {
		struct pollfd pfd[2] = { { c->fd, POLLIN, 0 }, { c->stop_fd, POLLIN, 0 } };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		struct sv_req r;
		memset(&r, 0, sizeof r);
		r.fromlen = sizeof r.from;
		ssize_t k = recvfrom(c->fd, r.text, sizeof r.text - 1, MSG_DONTWAIT,
				     (struct sockaddr *)&r.from, &r.fromlen);
		if (k <= 0)
			continue;
		r.text[k] = 0;
		pthread_mutex_lock(&c->mu);
		vec_push(&c->q, r);
		pthread_mutex_unlock(&c->mu);
		uint64_t one = 1;
		if (write(c->wake_fd, &one, sizeof one) < 0)
			pr_debug(LM_NEST, "control: cannot wake the supervisor: %s", strerror(errno));
	}
	return NULL;
}

int svc_open(struct sv_ctl *c, const char *path, int wake_fd, struct sbuf *err)
{
	memset(c, 0, sizeof *c);
	c->fd = c->stop_fd = -1;
	c->wake_fd = wake_fd;
	pthread_mutex_init(&c->mu, NULL);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path) {
		sbuf_printf(err, "control socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	snprintf(c->path, sizeof c->path, "%s", path);
	c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (c->fd < 0 || c->stop_fd < 0) {
		int e = -errno;
		sbuf_printf(err, "control socket: %s", strerror(errno));
		svc_close(c);
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
		c->path[0] = 0;
		svc_close(c);
		return e;
	}
	chmod(path, 0600);
	if ((r = pthread_create(&c->th, NULL, server, c)) != 0) {
		sbuf_printf(err, "control thread: %s", strerror(r));
		svc_close(c);
		return -r;
	}
	c->running = true;
	return 0;
}

bool svc_pop(struct sv_ctl *c, struct sv_req *out)
{
	bool got = false;
	pthread_mutex_lock(&c->mu);
	if (c->q.n) {
		*out = c->q.v[0];
		memmove(c->q.v, c->q.v + 1, (c->q.n - 1) * sizeof *c->q.v);
		c->q.n--;
		got = true;
	}
	pthread_mutex_unlock(&c->mu);
	return got;
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
	if (c->running) {
		uint64_t one = 1;
		if (write(c->stop_fd, &one, sizeof one) == sizeof one)
			pthread_join(c->th, NULL);
		c->running = false;
	}
	if (c->fd >= 0)
		close(c->fd);
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	c->fd = c->stop_fd = -1;
	if (c->path[0])
		unlink(c->path);
	c->path[0] = 0;
	vec_free(&c->q);
	pthread_mutex_destroy(&c->mu);
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
		if (sv_request(path, "ping", &r, 1000) == 1) {
			sbuf_printf(paths, "%s\n", path);
			n++;
		}
		sbuf_free(&r);
		free(path);
	}
	closedir(d);
	return n;
}
