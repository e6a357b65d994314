/*
 * sig: the self-pipe. A full pipe means a byte of the same meaning is
 * already waiting, so a failed write in the handler loses nothing.
 */
#include "sig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int pipe_w = -1;

static void on_signal(int signo)
{
    int saved = errno;
    char c = signo == SIGHUP ? SIG_RELOAD : SIG_STOP;
    ssize_t n = write(pipe_w, &c, 1);
    (void)n;
    errno = saved;
}

int sig_init(char *err, size_t errlen)
{
    int fds[2];
    struct sigaction sa;

    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pipe_w = fds[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return fds[0];
}

void sig_block(int how)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(how ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}
