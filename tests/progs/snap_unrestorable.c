/* Resources a restore cannot bring back: a TCP connection, an eventfd, an epoll
 * instance, a timerfd, a signalfd, a device (/dev/kmsg) and, when argv[1] names a
 * process, a ptrace link to it. Trap 1 is where the test checkpoints (refused, then
 * forced); after it the program uses each resource live; trap 2 is where the test
 * restores; the restored run uses them again (they are shared with the checkpoint). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "snap_prog.h"

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) < 0)
		return 2;
	int cs = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(cs, (struct sockaddr *)&a, sizeof a) < 0)
		return 2;
	int ss = accept(ls, NULL, NULL);
	int efd = eventfd(0, 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = efd };
	epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	int sfd = signalfd(-1, &m, 0);
	int kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (ss < 0 || efd < 0 || ep < 0 || tfd < 0 || sfd < 0 || kfd < 0)
		return 2;
	if (argc > 1 && ptrace(PTRACE_SEIZE, atoi(argv[1]), 0, 0) < 0)
		return 3;
	printf("start\n");

	SNAP_POINT();                   /* trap 1: checkpoint */
	uint64_t one = 1, v = 0;
	int ok = write(efd, &one, 8) == 8 && epoll_wait(ep, &ev, 1, 1000) == 1 &&
		 read(efd, &v, 8) == 8 && v >= 1;
	printf("eventfd+epoll %s\n", ok ? "usable" : "BROKEN");
	char buf[8] = "";
	ok = write(cs, "ping", 4) == 4 && read(ss, buf, 4) == 4 && !memcmp(buf, "ping", 4);
	printf("tcp %s\n", ok ? "usable" : "BROKEN");
	SNAP_POINT();                   /* trap 2: restore */
	printf("done\n");
	return 0;
}
