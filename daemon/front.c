/*
 * front: reading client messages and answering along their envelope. Only
 * cheap checks happen here (frame counts and sizes): parsing the body is
 * left to whoever does the work, so that a front end never stalls on a
 * request.
 */
#include "front.h"
#include "stats.h"
#include "zap.h"

#include <stdio.h>
#include <string.h>

#define MAX_FRAMES 16                /* frames of one client message that are looked at */
#define MAX_ROUTE_BYTES 1024         /* envelope frames a client may add to its identity */

void pending_close(struct pending *p)
{
    zmq_msg_close(&p->ident);
    zmq_msg_close(&p->route);
    zmq_msg_close(&p->body);
}

void pending_move(struct pending *to, struct pending *from)
{
    zmq_msg_init(&to->ident);
    zmq_msg_move(&to->ident, &from->ident);
    zmq_msg_init(&to->route);
    zmq_msg_move(&to->route, &from->route);
    zmq_msg_init(&to->body);
    zmq_msg_move(&to->body, &from->body);
}

struct envelope front_envelope(zmq_msg_t *route)
{
    struct envelope e;
    memcpy(&e, zmq_msg_data(route), sizeof e);
    return e;
}

void front_make_route(zmq_msg_t *route, const struct envelope *e, const void *extra, size_t extra_len)
{
    unsigned char *r;
    uint32_t n = (uint32_t)extra_len;

    zmq_msg_init_size(route, sizeof *e + (extra ? 4 + extra_len : 0));
    r = zmq_msg_data(route);
    memcpy(r, e, sizeof *e);
    if (extra) {
        memcpy(r + sizeof *e, &n, 4);
        memcpy(r + sizeof *e + 4, extra, extra_len);
    }
}

int front_route_extra(zmq_msg_t *route, const void **data, size_t *len)
{
    const unsigned char *r = zmq_msg_data(route);
    size_t rlen = zmq_msg_size(route), at = sizeof(struct envelope);
    uint32_t n;

    if (at + 4 > rlen)
        return -1;
    memcpy(&n, r + at, 4);
    if (at + 4 + n > rlen)
        return -1;
    *data = r + at + 4;
    *len = n;
    return 0;
}

void front_send(void *front, zmq_msg_t *ident, zmq_msg_t *route, const void *body, size_t len)
{
    const unsigned char *r = zmq_msg_data(route);
    size_t rlen = zmq_msg_size(route), at = sizeof(struct envelope);
    struct envelope e = front_envelope(route);
    zmq_msg_t m;

    zmq_msg_init(&m);
    zmq_msg_copy(&m, ident);
    if (zmq_msg_send(&m, front, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return;
    }
    while (at + 4 <= rlen) {
        uint32_t n;
        memcpy(&n, r + at, 4);
        zmq_send(front, r + at + 4, n, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        at += 4 + n;
    }
    if (e.delimiter)
        zmq_send(front, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(front, body, len, ZMQ_DONTWAIT);
}

/* Who sent f: a frame that came over the wire (the routing id is made
 * by ROUTER and carries no ZAP properties). */
static void sender(zmq_msg_t *f, int secure, struct envelope *e)
{
    const char *admin, *user;

    if (!secure) {
        e->admin = 1;
        return;
    }
    admin = zmq_msg_gets(f, ZAP_ADMIN_PROPERTY);
    user = zmq_msg_gets(f, "User-Id");
    e->admin = admin && strcmp(admin, "yes") == 0;
    if (user)
        snprintf(e->user, sizeof e->user, "%s", user);
}

/* Builds p's route from frames f[1..delim) and moves the routing id and
 * the body f[body] into p. */
static void make_pending(struct pending *p, zmq_msg_t *f, size_t nframes, size_t delim, int has_delim,
                         size_t body, int secure)
{
    struct envelope e;
    size_t rlen = sizeof e;
    unsigned char *r;

    for (size_t i = 1; i < delim; i++)
        rlen += 4 + zmq_msg_size(&f[i]);
    memset(&e, 0, sizeof e);
    e.arrival_ns = stats_now_ns();
    e.delimiter = (uint8_t)has_delim;
    sender(&f[nframes > 1 ? nframes - 1 : 0], secure, &e);
    zmq_msg_init_size(&p->route, rlen);
    r = zmq_msg_data(&p->route);
    memcpy(r, &e, sizeof e);
    r += sizeof e;
    for (size_t i = 1; i < delim; i++) {
        uint32_t n = (uint32_t)zmq_msg_size(&f[i]);
        memcpy(r, &n, 4);
        memcpy(r + 4, zmq_msg_data(&f[i]), n);
        r += 4 + n;
    }
    zmq_msg_init(&p->ident);
    zmq_msg_move(&p->ident, &f[0]);
    zmq_msg_init(&p->body);
    if (body)
        zmq_msg_move(&p->body, &f[body]);
}

/* A client message is [routing id, envelope..., "", body] from REQ (whose
 * envelope may hold a correlation id) and from DEALERs imitating it, or
 * [routing id, body] from a plain DEALER. The envelope, everything up to
 * the first empty frame, goes back with the reply. */
enum front_status front_read(void *front, int secure, struct pending *p, char *msg, size_t msglen)
{
    zmq_msg_t f[MAX_FRAMES];
    size_t n, kept = front_recv_frames(front, ZMQ_DONTWAIT, f, MAX_FRAMES, &n);
    size_t delim = 1, route_bytes = 0, nbody;
    int has_delim = 0;

    if (n == 0)
        return FRONT_NONE;
    for (size_t i = 1; i < kept && !has_delim; i++) {
        if (zmq_msg_size(&f[i]) == 0 && i + 1 < n) {
            delim = i;
            has_delim = 1;
        } else {
            route_bytes += zmq_msg_size(&f[i]);
        }
    }
    if (!has_delim)
        route_bytes = 0;
    nbody = n - (has_delim ? delim + 1 : 1);
    if (route_bytes > MAX_ROUTE_BYTES) {
        has_delim = 0;  /* not an envelope we echo: answer the routing id alone */
        delim = 1;
    }
    make_pending(p, f, kept, delim, has_delim, nbody == 1 ? (has_delim ? delim + 1 : 1) : 0, secure);
    for (size_t i = 0; i < kept; i++)
        zmq_msg_close(&f[i]);
    if (nbody != 1) {
        snprintf(msg, msglen, "a request is one frame; this one had %zu", nbody);
        return FRONT_BAD;
    }
    if (route_bytes > MAX_ROUTE_BYTES) {
        snprintf(msg, msglen, "the envelope is over %d bytes", MAX_ROUTE_BYTES);
        return FRONT_BAD;
    }
    return FRONT_OK;
}

size_t front_recv_frames(void *sock, int flags, zmq_msg_t *f, size_t max, size_t *total)
{
    size_t n = 0, kept = 0;
    int more = 1;

    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, flags) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (kept < max) {
            zmq_msg_init(&f[kept]);
            zmq_msg_move(&f[kept++], &m);
        }
        zmq_msg_close(&m);
        n++;
    }
    if (total)
        *total = n;
    return kept;
}
