/*
 * server: the ZeroMQ side of stanced. A ROUTER front end bound to every
 * configured endpoint, an inproc ROUTER back end, and N worker threads;
 * the main thread brokers between them (the ZeroMQ guide's load-balancing
 * pattern) with a bounded queue, and answers `busy` when the queue is full.
 */
#ifndef STANCED_SERVER_H
#define STANCED_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include "conf.h"
#include "models.h"
#include "stats.h"

#define SERVER_BACKEND "inproc://stanced-workers"

/* What the broker tells a worker about a request: the start of the route
 * frame between the client's routing id and the body (same process, so
 * raw). The worker sends the route frame back untouched with its reply. */
struct envelope {
    uint64_t arrival_ns;   /* stats_now_ns() when the broker read it */
    uint8_t delimiter;     /* the client sent an empty delimiter frame */
    uint8_t internal;      /* made by the daemon itself (SIGHUP reload): drop the reply */
};

struct server {
    const struct conf *conf;   /* start-up settings; only models change on reload */
    struct registry *models;
    struct stats *stats;
    void *ctx;                 /* the ZeroMQ context */
    int signal_fd;             /* read end of the signal self-pipe */
};

enum server_status { SERVER_OK = 0, SERVER_BIND_FAILED = -1, SERVER_FAILED = -2 };

/* Binds, starts conf->workers workers and brokers until SIGTERM or SIGINT
 * arrives on srv->signal_fd, then stops accepting, lets the requests in
 * flight finish (within a bounded time) and returns SERVER_OK. Returns
 * SERVER_BIND_FAILED or SERVER_FAILED with err filled when it cannot start. */
enum server_status server_run(struct server *srv, char *err, size_t errlen);

/* The worker thread body; arg is the struct server. */
void *worker_main(void *arg);

#endif
