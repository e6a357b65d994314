/*
 * front: the client side of a ROUTER front end, shared by the daemon and
 * the broker. Reads a client message into a struct pending (its routing
 * id, a route frame holding struct envelope and the client's own envelope
 * frames, and the body) and sends replies back along that route, so both
 * accept REQ clients and DEALER clients with or without a delimiter.
 */
#ifndef STANCED_FRONT_H
#define STANCED_FRONT_H

#include <stddef.h>
#include <zmq.h>
#include "server.h"

struct pending {
    zmq_msg_t ident;
    zmq_msg_t route;
    zmq_msg_t body;
};

enum front_status {
    FRONT_NONE = 0,   /* nothing was read */
    FRONT_OK,         /* p holds a request */
    FRONT_BAD         /* p holds a malformed request: answer it bad_request with msg */
};

/* Reads one message from the ROUTER front. With secure, the sender's key
 * name and admin role come from the message's ZAP properties; without,
 * every sender is an admin (the endpoints are loopback or trusted). On
 * FRONT_OK and FRONT_BAD, p holds messages the caller must send or close. */
enum front_status front_read(void *front, int secure, struct pending *p, char *msg, size_t msglen);

/* Sends the reply body[0..len) back along ident and route. Never blocks:
 * a client that went away, or whose queue is full, loses its reply. */
void front_send(void *front, zmq_msg_t *ident, zmq_msg_t *route, const void *body, size_t len);

/* The struct envelope at the start of a route frame. */
struct envelope front_envelope(zmq_msg_t *route);

/* A route frame holding e alone, or e and one extra field (4-byte length,
 * then the bytes), initialised in route. */
void front_make_route(zmq_msg_t *route, const struct envelope *e, const void *extra, size_t extra_len);

/* The first extra field of route (see front_make_route) into *data and
 * *len. Returns 0, or -1 when there is none. */
int front_route_extra(zmq_msg_t *route, const void **data, size_t *len);

void pending_close(struct pending *p);

/* Moves the messages of from into to (which is initialised here). */
void pending_move(struct pending *to, struct pending *from);

/* Receives every frame of one message from sock (flags as for
 * zmq_msg_recv: ZMQ_DONTWAIT or 0), keeping the first max in f
 * (initialised; the caller closes them) and dropping the rest, so that a
 * peer cannot make us hold arbitrarily many. Returns how many were kept,
 * 0 when none was ready; *total, when not NULL, receives how many the
 * message had. */
size_t front_recv_frames(void *sock, int flags, zmq_msg_t *f, size_t max, size_t *total);

#endif
