/*
 * broker: the load-balancing broker. One thread owns a ROUTER for clients
 * (the same front end as a daemon's, front.h) and a ROUTER for daemons.
 * A daemon announces how many requests it takes at once; a request goes
 * only to a daemon with a free slot (round robin among them) or waits in
 * the queue. Requests keep their body until answered, so when a daemon
 * says BYE, or falls silent for `liveness` heartbeats, or cannot be sent
 * to, what it held goes back to the head of the queue for the others.
 */
#include "broker.h"
#include "front.h"
#include "log.h"
#include "proto.h"
#include "sig.h"
#include "stats.h"
#include "upstream.h"
#include "xalloc.h"
#include "zap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define HWM 1000
#define SHUTDOWN_GRACE_MS 10000
#define PEEK_MAX 4096          /* bodies up to this size are checked for a broker op */
#define PEEK_ID_MAX 65536
#define MAX_TRIES 3            /* daemons a request may outlive before it is failed */
#define MAX_PEER_ID 256
#define BACK_FRAMES 8

struct peer {
    unsigned char id[MAX_PEER_ID];    /* its routing id on the back end */
    size_t idlen;
    char name[KEY_MAX_NAME + 1];
    int capacity, in_flight;
    int draining;                     /* said DRAIN: nothing more for it */
    uint64_t expires_ns;              /* dropped when silent until then */
    uint64_t joined_ns, answered;
};

struct job {
    uint64_t id;
    struct pending p;
    struct peer *peer;                /* the daemon working on it, or NULL while queued */
    int tries;
    struct job *next;                 /* in the queue */
};

struct brk {
    struct server *srv;
    const struct conf_broker *cb;
    void *front, *back;
    struct peer **peers;
    size_t npeers, cap_peers, rr;
    struct job *head, *tail;          /* the queue; requeued jobs go to the head */
    size_t queued;
    struct job **flight;              /* jobs at daemons */
    size_t nflight, cap_flight;
    uint64_t next_id, requeued, next_beat_ns;
    int stopping;
    uint64_t stop_deadline_ns;
};

static uint64_t hb_ns(const struct brk *b)
{
    return (uint64_t)b->cb->heartbeat_ms * 1000000ULL;
}

/* ---- the queue and the jobs at daemons ---- */

static void push_back(struct brk *b, struct job *j)
{
    j->next = NULL;
    if (b->tail)
        b->tail->next = j;
    else
        b->head = j;
    b->tail = j;
    b->queued++;
}

static void push_front(struct brk *b, struct job *j)
{
    j->next = b->head;
    b->head = j;
    if (!b->tail)
        b->tail = j;
    b->queued++;
}

static struct job *pop_front(struct brk *b)
{
    struct job *j = b->head;

    if (j) {
        b->head = j->next;
        if (!b->head)
            b->tail = NULL;
        b->queued--;
    }
    return j;
}

static void job_free(struct job *j)
{
    pending_close(&j->p);
    free(j);
}

static void flight_add(struct brk *b, struct job *j)
{
    if (b->nflight == b->cap_flight) {
        b->cap_flight = b->cap_flight ? 2 * b->cap_flight : 64;
        b->flight = xrealloc(b->flight, b->cap_flight * sizeof *b->flight);
    }
    b->flight[b->nflight++] = j;
}

static void flight_remove(struct brk *b, size_t i)
{
    b->flight[i] = b->flight[--b->nflight];
}

static void reply_error(struct brk *b, struct job *j, enum proto_code code, const char *msg)
{
    size_t len;
    cJSON *id = proto_peek_id(zmq_msg_data(&j->p.body), zmq_msg_size(&j->p.body), PEEK_ID_MAX);
    char *s = proto_error_reply(id, code, msg, &len);

    front_send(b->front, &j->p.ident, &j->p.route, s, len);
    stats_record(b->srv->stats, code, 0, stats_now_ns() - front_envelope(&j->p.route).arrival_ns);
    free(s);
    cJSON_Delete(id);
}

/* ---- daemons ---- */

static struct peer *find_peer(struct brk *b, zmq_msg_t *id, size_t *at)
{
    for (size_t i = 0; i < b->npeers; i++)
        if (b->peers[i]->idlen == zmq_msg_size(id) && memcmp(b->peers[i]->id, zmq_msg_data(id), b->peers[i]->idlen) == 0) {
            if (at)
                *at = i;
            return b->peers[i];
        }
    return NULL;
}

/* Takes back every job p holds: to the head of the queue, or failed when
 * it has already outlived MAX_TRIES daemons. */
static void take_back(struct brk *b, struct peer *p)
{
    for (size_t i = b->nflight; i-- > 0;) {
        struct job *j = b->flight[i];
        if (j->peer != p)
            continue;
        flight_remove(b, i);
        j->peer = NULL;
        p->in_flight--;
        if (j->tries >= MAX_TRIES) {
            char msg[160];
            snprintf(msg, sizeof msg, "%d daemons stopped answering while working on this request", j->tries);
            reply_error(b, j, PROTO_UNAVAILABLE, msg);
            job_free(j);
        } else {
            b->requeued++;
            push_front(b, j);
        }
    }
}

static void drop_peer(struct brk *b, size_t at, const char *why)
{
    struct peer *p = b->peers[at];
    int held = p->in_flight;

    take_back(b, p);
    log_warn("daemon \"%s\" dropped: %s; %d request%s requeued; %zu daemon%s left", p->name, why,
             held, held == 1 ? "" : "s", b->npeers - 1, b->npeers - 1 == 1 ? "" : "s");
    b->peers[at] = b->peers[--b->npeers];
    free(p);
}

static int back_send(struct brk *b, struct peer *p, const char *cmd, int more)
{
    if (zmq_send(b->back, p->id, p->idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    zmq_send(b->back, UP_PROTOCOL, strlen(UP_PROTOCOL), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(b->back, cmd, strlen(cmd), (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    return 0;
}

/* The next daemon with a free slot after the last one used, or NULL. */
static struct peer *pick(struct brk *b, size_t *at)
{
    for (size_t k = 0; k < b->npeers; k++) {
        size_t i = (b->rr + 1 + k) % b->npeers;
        struct peer *p = b->peers[i];
        if (!p->draining && p->in_flight < p->capacity) {
            b->rr = i;
            *at = i;
            return p;
        }
    }
    return NULL;
}

/* Sends queued jobs to daemons with free slots, for as long as both last. */
static void dispatch(struct brk *b)
{
    struct peer *p;
    size_t at;

    while (b->head && (p = pick(b, &at))) {
        struct job *j = pop_front(b);
        struct envelope e = front_envelope(&j->p.route);
        zmq_msg_t body;

        if (back_send(b, p, UP_REQUEST, 1) < 0) {
            /* Unroutable (ZMQ_ROUTER_MANDATORY): it is gone already. */
            push_front(b, j);
            drop_peer(b, at, "its connection is gone");
            continue;
        }
        zmq_send(b->back, &j->id, UP_ID_BYTES, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(b->back, e.admin ? "yes" : "no", e.admin ? 3 : 2, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(b->back, e.user, strlen(e.user), ZMQ_SNDMORE | ZMQ_DONTWAIT);
        /* A copy shares the buffer: the body stays here for a requeue. */
        zmq_msg_init(&body);
        zmq_msg_copy(&body, &j->p.body);
        if (zmq_msg_send(&body, b->back, ZMQ_DONTWAIT) < 0)
            zmq_msg_close(&body);
        j->peer = p;
        j->tries++;
        p->in_flight++;
        flight_add(b, j);
    }
}

static int frame_is(zmq_msg_t *m, const char *s)
{
    return zmq_msg_size(m) == strlen(s) && memcmp(zmq_msg_data(m), s, strlen(s)) == 0;
}

static void on_ready(struct brk *b, zmq_msg_t *f, size_t n)
{
    struct peer *p;
    char cap[16], *end;
    long v;

    if (n != 5) {
        log_warn("back end: a READY of %zu frames", n);
        return;
    }
    snprintf(cap, sizeof cap, "%.*s", (int)zmq_msg_size(&f[3]), (const char *)zmq_msg_data(&f[3]));
    v = strtol(cap, &end, 10);
    if (*end || v < 1 || v > 100000 || zmq_msg_size(&f[0]) > MAX_PEER_ID) {
        log_warn("back end: a READY with a bad capacity \"%s\"", cap);
        return;
    }
    if (!(p = find_peer(b, &f[0], NULL))) {
        if (b->npeers == b->cap_peers) {
            b->cap_peers = b->cap_peers ? 2 * b->cap_peers : 16;
            b->peers = xrealloc(b->peers, b->cap_peers * sizeof *b->peers);
        }
        p = b->peers[b->npeers++] = xcalloc(1, sizeof *p);
        p->idlen = zmq_msg_size(&f[0]);
        memcpy(p->id, zmq_msg_data(&f[0]), p->idlen);
        p->joined_ns = stats_now_ns();
    }
    p->capacity = (int)v;
    p->draining = 0;
    snprintf(p->name, sizeof p->name, "%.*s", (int)(zmq_msg_size(&f[4]) < KEY_MAX_NAME ? zmq_msg_size(&f[4]) : KEY_MAX_NAME),
             (const char *)zmq_msg_data(&f[4]));
    p->expires_ns = stats_now_ns() + hb_ns(b) * (uint64_t)b->cb->liveness;
    log_info("daemon \"%s\" joined, taking %d request%s at once; %zu daemon%s", p->name, p->capacity,
             p->capacity == 1 ? "" : "s", b->npeers, b->npeers == 1 ? "" : "s");
}

static void on_reply(struct brk *b, struct peer *p, zmq_msg_t *f, size_t n)
{
    uint64_t id;

    if (n != 5 || zmq_msg_size(&f[3]) != UP_ID_BYTES)
        return;
    memcpy(&id, zmq_msg_data(&f[3]), UP_ID_BYTES);
    for (size_t i = 0; i < b->nflight; i++) {
        struct job *j = b->flight[i];
        if (j->id != id)
            continue;
        if (j->peer != p)
            return;  /* requeued meanwhile and given to another: that one answers */
        front_send(b->front, &j->p.ident, &j->p.route, zmq_msg_data(&f[4]), zmq_msg_size(&f[4]));
        stats_record(b->srv->stats, PROTO_OK, 0, stats_now_ns() - front_envelope(&j->p.route).arrival_ns);
        flight_remove(b, i);
        p->in_flight--;
        p->answered++;
        job_free(j);
        return;
    }
}

/* A daemon's message: [routing id, UP_PROTOCOL, command, ...]. */
static void on_back(struct brk *b)
{
    zmq_msg_t f[BACK_FRAMES];
    size_t n, at;
    struct peer *p;

    n = front_recv_frames(b->back, ZMQ_DONTWAIT, f, BACK_FRAMES, NULL);
    if (n < 3 || !frame_is(&f[1], UP_PROTOCOL)) {
        if (n > 0)
            log_warn("back end: a message that is not of the upstream protocol");
        goto out;
    }
    if (frame_is(&f[2], UP_READY)) {
        on_ready(b, f, n);
        goto out;
    }
    if (!(p = find_peer(b, &f[0], &at)))
        goto out;  /* dropped earlier; it reconnects and says READY once it misses our heartbeats */
    p->expires_ns = stats_now_ns() + hb_ns(b) * (uint64_t)b->cb->liveness;
    if (frame_is(&f[2], UP_REPLY)) {
        on_reply(b, p, f, n);
    } else if (frame_is(&f[2], UP_DRAIN)) {
        p->draining = 1;
        log_info("daemon \"%s\" is stopping: no new requests for it", p->name);
    } else if (frame_is(&f[2], UP_BYE)) {
        drop_peer(b, at, "it stopped");
    } else if (!frame_is(&f[2], UP_HEARTBEAT)) {
        log_warn("back end: an unknown command from \"%s\"", p->name);
    }
out:
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

/* Heartbeats to every daemon when due, and drops the silent ones.
 * Returns the milliseconds until the next tick. */
static long tick(struct brk *b)
{
    uint64_t now = stats_now_ns();
    char why[96];

    for (size_t i = b->npeers; i-- > 0;)
        if (now >= b->peers[i]->expires_ns) {
            snprintf(why, sizeof why, "no heartbeat for %d ms", b->cb->heartbeat_ms * b->cb->liveness);
            drop_peer(b, i, why);
        }
    if (now >= b->next_beat_ns) {
        for (size_t i = b->npeers; i-- > 0;)
            if (back_send(b, b->peers[i], UP_HEARTBEAT, 0) < 0)
                drop_peer(b, i, "its connection is gone");
        b->next_beat_ns = now + hb_ns(b);
    }
    return (long)((b->next_beat_ns - now) / 1000000ULL) + 1;
}

/* ---- clients ---- */

static cJSON *render_stats(struct brk *b)
{
    cJSON *s = stats_render(b->srv->stats), *o = cJSON_AddObjectToObject(s, "broker"), *arr;
    uint64_t now = stats_now_ns();

    cJSON_AddNumberToObject(o, "queued", (double)b->queued);
    cJSON_AddNumberToObject(o, "in_flight", (double)b->nflight);
    cJSON_AddNumberToObject(o, "requeued", (double)b->requeued);
    arr = cJSON_AddArrayToObject(o, "daemons");
    for (size_t i = 0; i < b->npeers; i++) {
        struct peer *p = b->peers[i];
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "name", p->name);
        cJSON_AddNumberToObject(d, "capacity", p->capacity);
        cJSON_AddNumberToObject(d, "in_flight", p->in_flight);
        cJSON_AddNumberToObject(d, "answered", (double)p->answered);
        cJSON_AddBoolToObject(d, "draining", p->draining);
        cJSON_AddNumberToObject(d, "joined_s_ago", (double)(now - p->joined_ns) / 1e9);
        cJSON_AddItemToArray(arr, d);
    }
    return s;
}

/* Answers the ops that are the broker's own (stats, reload) and returns
 * 1, or returns 0 for a request a daemon must answer. Only small bodies
 * that mention "op" are parsed; the rest cannot be a broker op. */
static int own_op(struct brk *b, struct pending *p)
{
    const struct conf_limits *cl = &b->srv->conf->limits;
    struct proto_limits lim = { cl->max_message_bytes, cl->max_texts, cl->max_text_bytes, cl->max_json_depth };
    const char *body = zmq_msg_data(&p->body);
    size_t len = zmq_msg_size(&p->body), rlen;
    struct envelope e = front_envelope(&p->route);
    struct proto_request req;
    char err[256], *s = NULL;
    enum proto_code code;
    int own = 0;

    if (len > PEEK_MAX || !memmem(body, len, "\"op\"", 4))
        return 0;
    code = proto_parse(body, len, &lim, &req, err, sizeof err);
    if (code == PROTO_OK && (req.op == PROTO_OP_STATS || req.op == PROTO_OP_RELOAD)) {
        own = 1;
        if (!e.admin) {
            log_warn("refused %s from %s: the key has no admin role",
                     req.op == PROTO_OP_STATS ? "stats" : "reload", e.user[0] ? e.user : "?");
            snprintf(err, sizeof err, "the %s op needs a key with the admin role",
                     req.op == PROTO_OP_STATS ? "stats" : "reload");
            code = PROTO_FORBIDDEN;
        } else if (req.op == PROTO_OP_RELOAD) {
            snprintf(err, sizeof err, "a broker has no models: reload each daemon (SIGHUP, or "
                     "the reload op on its own endpoint)");
            code = PROTO_BAD_REQUEST;
        } else {
            cJSON *r = proto_reply_new(req.id);
            cJSON_AddItemToObject(r, "stats", render_stats(b));
            s = proto_print(r, &rlen);
            cJSON_Delete(r);
        }
        if (!s)
            s = proto_error_reply(req.id, code, err, &rlen);
        front_send(b->front, &p->ident, &p->route, s, rlen);
        stats_record(b->srv->stats, s && code == PROTO_OK ? PROTO_OK : code, 0, stats_now_ns() - e.arrival_ns);
        free(s);
    }
    proto_request_clear(&req);
    return own;
}

static void on_front(struct brk *b)
{
    struct job *j = xcalloc(1, sizeof *j);
    char msg[128];

    switch (front_read(b->front, b->srv->conf->has_security, &j->p, msg, sizeof msg)) {
    case FRONT_NONE:
        free(j);
        return;
    case FRONT_BAD:
        reply_error(b, j, PROTO_BAD_REQUEST, msg);
        job_free(j);
        return;
    case FRONT_OK:
        break;
    }
    if (own_op(b, &j->p)) {
        job_free(j);
        return;
    }
    if (b->queued >= b->srv->conf->limits.max_queue) {
        snprintf(msg, sizeof msg, "%zu requests are waiting for a daemon; retry later", b->queued);
        reply_error(b, j, PROTO_BUSY, msg);
        job_free(j);
        return;
    }
    j->id = ++b->next_id;
    push_back(b, j);
    dispatch(b);
}

/* ---- the loop ---- */

/* SIGHUP: a broker has no models, but its authorized keys are the ones
 * that matter most, since every client and daemon comes through it. */
static void reload_keys(struct brk *b)
{
    const char *path = b->srv->conf->security.authorized_keys;
    struct keyring *fresh;
    char err[512], summary[128];

    if (!b->srv->keys) {
        log_info("SIGHUP: a broker without security has nothing to reload; signal the daemons");
        return;
    }
    if (!(fresh = keyring_load(path, err, sizeof err))) {
        log_error("SIGHUP: reload failed, the old authorized keys stay in force: %s", err);
        return;
    }
    keyring_summary(fresh, summary, sizeof summary);
    zap_keys_swap(b->srv->keys, &fresh);
    log_info("SIGHUP: reloaded %s from %s; the daemons reload their models on their own SIGHUP",
             summary, path);
}

static void on_signal_pipe(struct brk *b)
{
    char buf[64];
    ssize_t n;

    while ((n = read(b->srv->signal_fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == SIG_STOP && !b->stopping) {
                b->stopping = 1;
                b->stop_deadline_ns = stats_now_ns() + SHUTDOWN_GRACE_MS * 1000000ULL;
                log_info("stopping: %zu queued, %zu at daemons", b->queued, b->nflight);
            } else if (buf[i] == SIG_RELOAD) {
                reload_keys(b);
            }
        }
}

static void loop(struct brk *b)
{
    for (;;) {
        zmq_pollitem_t items[3] = {
            { b->back, 0, ZMQ_POLLIN, 0 },
            { NULL, b->srv->signal_fd, ZMQ_POLLIN, 0 },
            { b->front, 0, ZMQ_POLLIN, 0 },
        };
        long timeout = tick(b);
        int rc;

        if (b->stopping) {
            uint64_t now = stats_now_ns();
            if (b->queued == 0 && b->nflight == 0)
                return;
            if (now >= b->stop_deadline_ns) {
                log_warn("stopping: %zu requests were not answered in time", b->queued + b->nflight);
                return;
            }
            if ((long)((b->stop_deadline_ns - now) / 1000000ULL) + 1 < timeout)
                timeout = (long)((b->stop_deadline_ns - now) / 1000000ULL) + 1;
        }
        rc = zmq_poll(items, b->stopping ? 2 : 3, timeout);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            log_error("zmq_poll: %s", zmq_strerror(errno));
            return;
        }
        if (items[1].revents & ZMQ_POLLIN)
            on_signal_pipe(b);
        if (items[0].revents & ZMQ_POLLIN)
            on_back(b);
        if (!b->stopping && (items[2].revents & ZMQ_POLLIN))
            on_front(b);
        dispatch(b);
    }
}

static int setup_back(struct brk *b, char *err, size_t errlen)
{
    int hwm = HWM, linger = 0, one = 1;
    const struct server *srv = b->srv;

    zmq_setsockopt(b->back, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(b->back, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(b->back, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(b->back, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    if (srv->conf->has_security && zap_make_server(b->back, srv->secret, ZAP_DOMAIN_DAEMONS, err, errlen) < 0)
        return -1;
    if (zmq_bind(b->back, b->cb->backend) < 0) {
        snprintf(err, errlen, "cannot bind %s: %s", b->cb->backend, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

enum server_status broker_run(struct server *srv, char *err, size_t errlen)
{
    struct brk b;
    struct zap *zap = NULL;
    enum server_status status = SERVER_OK;
    struct job *j;

    memset(&b, 0, sizeof b);
    b.srv = srv;
    b.cb = &srv->conf->broker;
    sig_block(1);
    srv->ctx = zmq_ctx_new();
    if (srv->conf->has_security && !(zap = zap_start(srv->ctx, srv->keys, err, errlen))) {
        status = SERVER_FAILED;
        goto out;
    }
    b.front = zmq_socket(srv->ctx, ZMQ_ROUTER);
    b.back = zmq_socket(srv->ctx, ZMQ_ROUTER);
    /* ZeroMQ's I/O threads, started with the first socket, keep the mask
     * without our signals. */
    sig_block(0);
    if (!b.front || !b.back) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
        status = SERVER_FAILED;
        goto out;
    }
    if (server_setup_front(srv, b.front, b.cb->frontend, b.cb->n_frontend, err, errlen) < 0 ||
        setup_back(&b, err, errlen) < 0) {
        status = SERVER_BIND_FAILED;
        goto out;
    }
    log_info("broker: clients on %zu endpoint%s, daemons on %s", b.cb->n_frontend,
             b.cb->n_frontend == 1 ? "" : "s", b.cb->backend);
    b.next_beat_ns = stats_now_ns();
    loop(&b);
out:
    sig_block(0);
    while ((j = pop_front(&b)))
        job_free(j);
    for (size_t i = 0; i < b.nflight; i++)
        job_free(b.flight[i]);
    free(b.flight);
    for (size_t i = 0; i < b.npeers; i++)
        free(b.peers[i]);
    free(b.peers);
    if (b.front)
        zmq_close(b.front);
    if (b.back)
        zmq_close(b.back);
    zap_stop(&zap);
    zmq_ctx_term(srv->ctx);
    srv->ctx = NULL;
    return status;
}
