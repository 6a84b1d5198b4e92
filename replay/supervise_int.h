/* Internal to replay/supervise*.c: the control socket's server side. */
#ifndef REWIND_SUPERVISE_INT_H
#define REWIND_SUPERVISE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "supervise.h"

#define SV_MSG_MAX 65536

/* One request and where to answer it. */
struct sv_req {
	char text[1024];
	struct sockaddr_un from;
	socklen_t fromlen;
};

/* The server: a thread receives datagrams, queues them and pokes wake_fd (the
 * target's, so target_wait returns -EINTR); the supervisor's thread serves them. */
struct sv_ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int wake_fd;
	int stop_fd;
	pthread_t th;
	bool running;
	pthread_mutex_t mu;
	VEC(struct sv_req) q;
};

/* Bind path (mode 0600) and start the thread. 0 or -errno (err says why). */
int svc_open(struct sv_ctl *c, const char *path, int wake_fd, struct sbuf *err);
/* Next queued request, false if none. */
bool svc_pop(struct sv_ctl *c, struct sv_req *out);
/* Answer "STATUS TEXT" to an address (best effort: the requester may be gone). */
void svc_send(struct sv_ctl *c, const struct sockaddr_un *to, socklen_t tolen, const char *status,
	      const char *text);
/* Stop the thread, close and unlink the socket. */
void svc_close(struct sv_ctl *c);

#endif
