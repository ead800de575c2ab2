/* Shared by the guests that wait on files (poll_select, epoll_ops,
 * fd_events): errno names and a sleep in milliseconds. */
#ifndef WAITFILES_H
#define WAITFILES_H
#include <errno.h>
#include <time.h>

/* "ok" for a result >= 0, else errno's name. */
static inline const char *en(long r)
{
	if (r >= 0)
		return "ok";
	switch (errno) {
	case EINTR: return "EINTR";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case ELOOP: return "ELOOP";
	case EPERM: return "EPERM";
	default: return "other";
	}
}

static inline void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}
#endif
