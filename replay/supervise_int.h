/* Internal to replay/supervise*.c: the control socket's server side. */
#ifndef REWIND_SUPERVISE_INT_H
#define REWIND_SUPERVISE_INT_H

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

/* The server: the socket signals its datagrams (O_ASYNC, SIGIO), whose handler pokes
 * wake_fd (the target's, so target_wait returns -EINTR); the supervisor reads them
 * when it is woken. */
struct sv_ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int wake_fd;
};

/* Bind path (mode 0600) and arm SIGIO. 0 or -errno (err says why). */
int svc_open(struct sv_ctl *c, const char *path, int wake_fd, struct sbuf *err);
/* Next request that arrived, false if none. */
bool svc_pop(struct sv_ctl *c, struct sv_req *out);
/* Answer "STATUS TEXT" to an address (best effort: the requester may be gone). */
void svc_send(struct sv_ctl *c, const struct sockaddr_un *to, socklen_t tolen, const char *status,
	      const char *text);
/* Close and unlink the socket. */
void svc_close(struct sv_ctl *c);

#endif
