/*
 * server: the ZeroMQ side of stanced. A ROUTER front end bound to every
 * configured endpoint, an inproc ROUTER back end, N worker threads and,
 * behind a broker, a DEALER to the broker's back end (upstream.h); the
 * main thread dispatches between them (the ZeroMQ guide's load-balancing
 * pattern) with a bounded queue, and answers `busy` when the queue is full.
 */
#ifndef STANCED_SERVER_H
#define STANCED_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include "conf.h"
#include "keys.h"
#include "models.h"
#include "stats.h"
#include "zap.h"

#define SERVER_BACKEND "inproc://stanced-workers"

/* What the broker tells a worker about a request: the start of the route
 * frame between the client's routing id and the body (same process, so
 * raw). The worker sends the route frame back untouched with its reply. */
struct envelope {
    uint64_t arrival_ns;   /* stats_now_ns() when the broker read it */
    uint8_t delimiter;     /* the client sent an empty delimiter frame */
    uint8_t internal;      /* made by the daemon itself (SIGHUP reload): drop the reply */
    uint8_t admin;         /* the sender may use the admin ops (stats, reload) */
    uint8_t upstream;      /* came through the upstream broker: the route holds its request id */
    char user[KEY_MAX_NAME + 1];  /* the sender's key name, "" without security */
};

struct server {
    const struct conf *conf;   /* start-up settings; only models and keys change on reload */
    struct registry *models;
    struct stats *stats;
    void *ctx;                 /* the ZeroMQ context */
    int signal_fd;             /* read end of the signal self-pipe */
    /* With conf->has_security: */
    struct zap_keys *keys;               /* who may connect, swapped on reload; NULL when nothing is bound */
    unsigned char secret[KEY_BYTES];     /* this daemon's own key pair */
    unsigned char public[KEY_BYTES];
    unsigned char upstream_key[KEY_BYTES];  /* the broker's public key */
};

enum server_status { SERVER_OK = 0, SERVER_BIND_FAILED = -1, SERVER_FAILED = -2 };

/* Binds, starts conf->workers workers and brokers until SIGTERM or SIGINT
 * arrives on srv->signal_fd, then stops accepting, lets the requests in
 * flight finish (within a bounded time) and returns SERVER_OK. Returns
 * SERVER_BIND_FAILED or SERVER_FAILED with err filled when it cannot start. */
enum server_status server_run(struct server *srv, char *err, size_t errlen);

/* Sets up a ROUTER front end for clients (high-water marks, linger, the
 * message size limit, CURVE with srv's key when security is on) and binds
 * it to endpoints[0..n). Returns 0, or -1 with err filled. */
int server_setup_front(const struct server *srv, void *front, char *const *endpoints, size_t n,
                       char *err, size_t errlen);

/* The worker thread body; arg is the struct server. */
void *worker_main(void *arg);

/* What answers requests: each worker thread has one, and the broker keeps
 * one to answer small requests itself while the workers are idle
 * (server.c). Caller owns it; free with answerer_free(). */
struct answerer;
struct answerer *answerer_new(struct server *srv);
void answerer_free(struct answerer **a);

/* Answers the request body[0..blen) and records it in the stats (unless
 * env->internal). Returns the reply, *len bytes owned by a and valid until
 * its next call; or, with quick_only, NULL for a request that may take
 * long (a reload), which is then left to a worker, unanswered. */
const char *answerer_reply(struct answerer *a, const void *body, size_t blen, const struct envelope *env,
                           int quick_only, size_t *len);

#endif
