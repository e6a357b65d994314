/*
 * sig: signals as bytes on a pipe. The handlers only write one byte, so
 * all the work happens in the broker's poll loop, which watches the read
 * end next to its sockets.
 */
#ifndef STANCED_SIG_H
#define STANCED_SIG_H

#include <stddef.h>

#define SIG_STOP 'T'    /* SIGTERM or SIGINT */
#define SIG_RELOAD 'H'  /* SIGHUP */

/* Installs the handlers for SIGTERM, SIGINT and SIGHUP, ignores SIGPIPE,
 * and returns the non-blocking read end of the pipe, or -1 with err
 * filled. */
int sig_init(char *err, size_t errlen);

/* Blocks (how = 1) or unblocks (how = 0) the handled signals in the
 * calling thread, so that threads it creates meanwhile inherit the mask. */
void sig_block(int how);

#endif
