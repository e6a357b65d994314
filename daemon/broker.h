/*
 * broker: `stanced --broker`, one front door for many daemons. Clients
 * connect to the frontend endpoints as they would to a daemon; daemons
 * connect to the backend and say how many requests they take at once
 * (upstream.h). Each request goes to a daemon with a free slot, in turn;
 * a daemon silent for `liveness` heartbeats is dropped and its requests
 * go to the others, so a daemon dying costs time, not answers.
 */
#ifndef STANCED_BROKER_H
#define STANCED_BROKER_H

#include <stddef.h>
#include "server.h"

/* Binds conf->broker's endpoints and brokers until SIGTERM or SIGINT on
 * srv->signal_fd; srv->models is unused. `stats` requests are answered by
 * the broker itself (its counters and one entry per daemon), `reload` is
 * refused (reload the daemons), everything else goes to a daemon. Returns
 * SERVER_OK, or SERVER_BIND_FAILED / SERVER_FAILED with err filled. */
enum server_status broker_run(struct server *srv, char *err, size_t errlen);

#endif
