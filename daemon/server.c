/*
 * server: the daemon's dispatcher. The main thread owns the ROUTER front
 * end, the inproc back end and, behind a broker, the upstream DEALER: it
 * reads requests from clients and from the broker, hands each to an idle
 * worker or queues it (answering `busy` when the queue is full), and sends
 * worker replies back the way the request came. All parsing is done by
 * the workers so the dispatcher never stalls on a request.
 */
#include "server.h"
#include "front.h"
#include "log.h"
#include "proto.h"
#include "sig.h"
#include "upstream.h"
#include "xalloc.h"
#include "zap.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define HWM 1000                    /* messages per peer queued by ZeroMQ, each way */
#define FRONT_LINGER_MS 2000        /* time given to unsent replies at exit */
#define SHUTDOWN_GRACE_MS 10000     /* time given to requests in flight at SIGTERM */
#define PEEK_ID_MAX 65536           /* bodies up to this size are parsed for a busy reply's id */
#define MAX_ID 256                  /* ZeroMQ routing ids are at most 255 bytes */
#define UP_FRAMES 8                 /* frames of an upstream message that are looked at */
/* While every worker is idle, a request up to this size (a sentence or a
 * few) is answered by the broker itself: handing it to a worker and back
 * costs two thread wake-ups, more than scoring a sentence. Under load the
 * workers take everything, so the front never waits behind scoring. */
#define QUICK_MAX_BYTES 512

struct worker_id {
    unsigned char id[MAX_ID];
    size_t len;
};

struct broker {
    struct server *srv;
    void *front, *back;
    struct pending *queue;           /* ring of cap entries */
    size_t cap, head, count;
    struct answerer *quick;          /* answers small requests while the workers are idle */
    struct worker_id *idle;          /* stack of workers waiting for work */
    size_t nidle, nready;
    int stopping;
    uint64_t stop_deadline_ns;
    /* The upstream broker, when configured. */
    void *up;
    char up_name[KEY_MAX_NAME + 1];
    uint64_t up_heard_ns;            /* last message from the broker */
    uint64_t up_beat_ns;             /* when our next heartbeat is due */
    int up_lost;                     /* the broker is silent; logged once */
};

static int secure(const struct broker *b)
{
    return b->srv->conf->has_security;
}

/* ---- upstream ---- */

static void up_send(struct broker *b, const char *cmd, const void *a, size_t alen,
                    const void *body, size_t blen, int nparts)
{
    zmq_send(b->up, UP_PROTOCOL, strlen(UP_PROTOCOL), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(b->up, cmd, strlen(cmd), (nparts > 0 ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    if (nparts > 0)
        zmq_send(b->up, a, alen, (nparts > 1 ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    if (nparts > 1)
        zmq_send(b->up, body, blen, ZMQ_DONTWAIT);
}

/* Connects a new DEALER to the broker and announces this daemon. */
static int up_open(struct broker *b, char *err, size_t errlen)
{
    const struct conf *c = b->srv->conf;
    int hwm = HWM, linger = 0;
    char capacity[16];

    if (!(b->up = zmq_socket(b->srv->ctx, ZMQ_DEALER))) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
        return -1;
    }
    zmq_setsockopt(b->up, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(b->up, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(b->up, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (c->has_security &&
        (zmq_setsockopt(b->up, ZMQ_CURVE_SERVERKEY, b->srv->upstream_key, KEY_BYTES) < 0 ||
         zmq_setsockopt(b->up, ZMQ_CURVE_PUBLICKEY, b->srv->public, KEY_BYTES) < 0 ||
         zmq_setsockopt(b->up, ZMQ_CURVE_SECRETKEY, b->srv->secret, KEY_BYTES) < 0)) {
        snprintf(err, errlen, "cannot set the CURVE keys of the upstream socket: %s", zmq_strerror(errno));
        return -1;
    }
    if (zmq_connect(b->up, c->upstream.endpoint) < 0) {
        snprintf(err, errlen, "cannot connect to upstream %s: %s", c->upstream.endpoint, zmq_strerror(errno));
        return -1;
    }
    snprintf(capacity, sizeof capacity, "%d", c->workers);
    up_send(b, UP_READY, capacity, strlen(capacity), b->up_name, strlen(b->up_name), 2);
    b->up_heard_ns = b->up_beat_ns = stats_now_ns();
    return 0;
}

/* Drops the connection to a silent broker and makes a fresh one, which
 * announces READY again: the broker may have restarted or given us up. */
static void up_reconnect(struct broker *b)
{
    char err[256];

    zmq_close(b->up);
    b->up = NULL;
    if (up_open(b, err, sizeof err) < 0)
        log_error("upstream: %s", err);
}

/* Sends a reply to a request that came from the broker. */
static void up_reply(struct broker *b, zmq_msg_t *route, const void *body, size_t len)
{
    const void *id;
    size_t idlen;

    if (!b->up || front_route_extra(route, &id, &idlen) < 0)
        return;
    up_send(b, UP_REPLY, id, idlen, body, len, 2);
}

/* ---- dispatching ---- */

/* Sends body back the way the request of route came. */
static void answer(struct broker *b, zmq_msg_t *ident, zmq_msg_t *route, const void *body, size_t len)
{
    struct envelope e = front_envelope(route);

    if (e.internal)
        return;
    if (e.upstream)
        up_reply(b, route, body, len);
    else
        front_send(b->front, ident, route, body, len);
}

static void reply_error(struct broker *b, struct pending *p, const cJSON *id,
                        enum proto_code code, const char *msg)
{
    size_t len;
    char *s = proto_error_reply(id, code, msg, &len);

    answer(b, &p->ident, &p->route, s, len);
    free(s);
    stats_record(b->srv->stats, code, 0, stats_now_ns() - front_envelope(&p->route).arrival_ns);
}

/* Hands p to the idle worker on top of the stack; p's messages are sent. */
static void dispatch(struct broker *b, struct pending *p)
{
    struct worker_id *w = &b->idle[--b->nidle];

    zmq_send(b->back, w->id, w->len, ZMQ_SNDMORE);
    zmq_send(b->back, "", 0, ZMQ_SNDMORE);
    zmq_msg_send(&p->ident, b->back, ZMQ_SNDMORE);
    zmq_msg_send(&p->route, b->back, ZMQ_SNDMORE);
    zmq_msg_send(&p->body, b->back, 0);
}

/* Dispatches p now or queues it, taking its messages either way; internal
 * requests may use the one slot kept beyond max_queue so that a SIGHUP is
 * never refused. Returns -1, p untouched, when the queue is full. */
static int submit(struct broker *b, struct pending *p, int internal)
{
    if (b->nidle > 0 && b->count == 0) {
        dispatch(b, p);
        return 0;
    }
    if (b->count >= b->cap - (internal ? 0 : 1))
        return -1;
    pending_move(&b->queue[(b->head + b->count) % b->cap], p);
    b->count++;
    return 0;
}

static void drain_queue(struct broker *b)
{
    while (b->nidle > 0 && b->count > 0) {
        struct pending *p = &b->queue[b->head];
        b->head = (b->head + 1) % b->cap;
        b->count--;
        dispatch(b, p);
    }
}

/* Submits p, or answers it `busy` when the queue is full. */
static void submit_or_busy(struct broker *b, struct pending *p)
{
    char msg[128];
    cJSON *id;

    if (submit(b, p, 0) == 0)
        return;
    id = proto_peek_id(zmq_msg_data(&p->body), zmq_msg_size(&p->body), PEEK_ID_MAX);
    snprintf(msg, sizeof msg, "%zu requests are waiting; retry later", b->count);
    reply_error(b, p, id, PROTO_BUSY, msg);
    cJSON_Delete(id);
    pending_close(p);
}

/* Answers p here when it is small and every worker is idle; returns 0,
 * p untouched, when it is for a worker. */
static int answer_quick(struct broker *b, struct pending *p)
{
    struct envelope e;
    const char *reply;
    size_t len;

    if (b->nidle < (size_t)b->srv->conf->workers || zmq_msg_size(&p->body) > QUICK_MAX_BYTES)
        return 0;
    e = front_envelope(&p->route);
    reply = answerer_reply(b->quick, zmq_msg_data(&p->body), zmq_msg_size(&p->body), &e, 1, &len);
    if (!reply)
        return 0;
    answer(b, &p->ident, &p->route, reply, len);
    pending_close(p);
    return 1;
}

static void on_front(struct broker *b)
{
    struct pending p;
    char msg[128];

    switch (front_read(b->front, secure(b), &p, msg, sizeof msg)) {
    case FRONT_NONE:
        return;
    case FRONT_BAD:
        reply_error(b, &p, NULL, PROTO_BAD_REQUEST, msg);
        pending_close(&p);
        return;
    case FRONT_OK:
        if (!answer_quick(b, &p))
            submit_or_busy(b, &p);
        return;
    }
}

static int frame_is(zmq_msg_t *m, const char *s)
{
    return zmq_msg_size(m) == strlen(s) && memcmp(zmq_msg_data(m), s, strlen(s)) == 0;
}

/* A message from the broker: a REQUEST or a HEARTBEAT. */
static void on_up(struct broker *b)
{
    zmq_msg_t f[UP_FRAMES];
    size_t n = front_recv_frames(b->up, ZMQ_DONTWAIT, f, UP_FRAMES, NULL);
    if (n == 0)
        return;
    if (n < 2 || !frame_is(&f[0], UP_PROTOCOL)) {
        log_warn("upstream: a message that is not of the upstream protocol");
    } else {
        if (b->up_lost)
            log_info("upstream: the broker at %s answers again", b->srv->conf->upstream.endpoint);
        b->up_lost = 0;
        b->up_heard_ns = stats_now_ns();
        if (frame_is(&f[1], UP_REQUEST) && n == 6 && zmq_msg_size(&f[2]) == UP_ID_BYTES) {
            struct envelope e;
            struct pending p;

            memset(&e, 0, sizeof e);
            e.arrival_ns = b->up_heard_ns;
            e.upstream = 1;
            e.admin = frame_is(&f[3], "yes");
            snprintf(e.user, sizeof e.user, "%.*s", (int)zmq_msg_size(&f[4]), (const char *)zmq_msg_data(&f[4]));
            zmq_msg_init(&p.ident);
            front_make_route(&p.route, &e, zmq_msg_data(&f[2]), UP_ID_BYTES);
            zmq_msg_init(&p.body);
            zmq_msg_move(&p.body, &f[5]);
            submit_or_busy(b, &p);
        } else if (!frame_is(&f[1], UP_HEARTBEAT)) {
            log_warn("upstream: an unexpected %.*s message of %zu frames",
                     (int)zmq_msg_size(&f[1]), (const char *)zmq_msg_data(&f[1]), n);
        }
    }
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

/* Sends a heartbeat when due, and gives up a broker that has been silent
 * for liveness heartbeats. Returns the milliseconds until the next check. */
static long up_tick(struct broker *b)
{
    const struct conf_upstream *u = &b->srv->conf->upstream;
    uint64_t now = stats_now_ns(), hb = (uint64_t)u->heartbeat_ms * 1000000ULL;

    if (now - b->up_heard_ns > hb * (uint64_t)u->liveness) {
        if (!b->up_lost)
            log_warn("upstream: no word from the broker at %s for %d ms; reconnecting until it answers",
                     u->endpoint, u->heartbeat_ms * u->liveness);
        b->up_lost = 1;
        up_reconnect(b);
        now = stats_now_ns();
    }
    if (now >= b->up_beat_ns) {
        up_send(b, UP_HEARTBEAT, NULL, 0, NULL, 0, 0);
        b->up_beat_ns = now + hb;
    }
    return (long)((b->up_beat_ns - now) / 1000000ULL) + 1;
}

/* ---- workers ---- */

static void push_idle(struct broker *b, zmq_msg_t *wid)
{
    struct worker_id *w = &b->idle[b->nidle++];
    w->len = zmq_msg_size(wid) < MAX_ID ? zmq_msg_size(wid) : MAX_ID;
    memcpy(w->id, zmq_msg_data(wid), w->len);
}

/* A worker's message: [worker, "", "READY"] when it starts, or
 * [worker, "", client, envelope, reply] when it has answered. */
static void on_back(struct broker *b)
{
    zmq_msg_t f[5];
    size_t n = 0;
    int more = 1;

    while (more && n < 5) {
        zmq_msg_init(&f[n]);
        if (zmq_msg_recv(&f[n], b->back, 0) < 0) {
            zmq_msg_close(&f[n]);
            break;
        }
        more = zmq_msg_more(&f[n]);
        n++;
    }
    if (n == 3) {
        b->nready++;
        push_idle(b, &f[0]);
    } else if (n == 5) {
        if (zmq_msg_size(&f[3]) < sizeof(struct envelope))
            log_error("internal: a worker sent a short route frame");
        else
            answer(b, &f[2], &f[3], zmq_msg_data(&f[4]), zmq_msg_size(&f[4]));
        push_idle(b, &f[0]);
    } else {
        log_error("internal: a worker sent a message of %zu frames", n);
    }
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
    drain_queue(b);
}

static void request_reload(struct broker *b)
{
    static const char body[] = "{\"op\":\"reload\"}";
    struct envelope e;
    struct pending p;

    memset(&e, 0, sizeof e);
    e.arrival_ns = stats_now_ns();
    e.internal = 1;
    e.admin = 1;
    zmq_msg_init(&p.ident);  /* empty: no client */
    front_make_route(&p.route, &e, NULL, 0);
    zmq_msg_init_size(&p.body, sizeof body - 1);
    memcpy(zmq_msg_data(&p.body), body, sizeof body - 1);
    if (submit(b, &p, 1) < 0) {
        log_warn("SIGHUP ignored: a reload is already waiting");
        pending_close(&p);
    }
}

static void begin_stop(struct broker *b)
{
    if (b->stopping)
        return;
    b->stopping = 1;
    b->stop_deadline_ns = stats_now_ns() + SHUTDOWN_GRACE_MS * 1000000ULL;
    /* Stop accepting by no longer reading the front end. Unbinding would
     * be neater, but it also drops the connections accepted on the
     * endpoint, and with them the replies still owed. The broker is told
     * to send nothing more; what it sent meanwhile it requeues at BYE. */
    if (b->up)
        up_send(b, UP_DRAIN, NULL, 0, NULL, 0, 0);
    log_info("stopping: %zu queued, %zu in flight",
             b->count, (size_t)b->srv->conf->workers - b->nidle);
}

static void on_signal_pipe(struct broker *b)
{
    char buf[64];
    ssize_t n;

    while ((n = read(b->srv->signal_fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == SIG_STOP)
                begin_stop(b);
            else if (buf[i] == SIG_RELOAD && !b->stopping) {
                log_info("SIGHUP: reloading models%s", b->srv->keys ? " and authorized keys" : "");
                request_reload(b);
            }
        }
}

static int idle_all(const struct broker *b)
{
    return b->count == 0 && b->nidle == (size_t)b->srv->conf->workers &&
           b->nready == (size_t)b->srv->conf->workers;
}

static void loop(struct broker *b)
{
    for (;;) {
        zmq_pollitem_t items[4] = {
            { b->back, 0, ZMQ_POLLIN, 0 },
            { NULL, b->srv->signal_fd, ZMQ_POLLIN, 0 },
        };
        int nitems = 2, front_at = -1, up_at = -1;
        long timeout = -1;
        int rc;

        if (b->stopping) {
            uint64_t now = stats_now_ns();
            if (idle_all(b))
                return;
            if (now >= b->stop_deadline_ns) {
                log_warn("stopping: %zu requests did not finish in time",
                         b->count + (size_t)b->srv->conf->workers - b->nidle);
                return;
            }
            timeout = (long)((b->stop_deadline_ns - now) / 1000000ULL) + 1;
        } else {
            if (b->front) {
                items[nitems] = (zmq_pollitem_t){ b->front, 0, ZMQ_POLLIN, 0 };
                front_at = nitems++;
            }
            if (b->up) {
                items[nitems] = (zmq_pollitem_t){ b->up, 0, ZMQ_POLLIN, 0 };
                up_at = nitems++;
            }
        }
        if (b->up) {
            /* Heartbeats go on while stopping, so that the broker waits
             * for the replies still owed instead of requeueing them. */
            long t = up_tick(b);
            if (timeout < 0 || t < timeout)
                timeout = t;
        }
        rc = zmq_poll(items, nitems, timeout);
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
        if (!b->stopping && front_at >= 0 && (items[front_at].revents & ZMQ_POLLIN))
            on_front(b);
        if (!b->stopping && up_at >= 0 && (items[up_at].revents & ZMQ_POLLIN))
            on_up(b);
    }
}

static void *make_socket(struct server *srv, int type, char *err, size_t errlen)
{
    void *s = zmq_socket(srv->ctx, type);

    if (!s)
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
    return s;
}

int server_setup_front(const struct server *srv, void *front, char *const *endpoints, size_t n,
                       char *err, size_t errlen)
{
    int hwm = HWM, linger = FRONT_LINGER_MS;
    int64_t maxmsg = (int64_t)srv->conf->limits.max_message_bytes;

    zmq_setsockopt(front, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(front, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(front, ZMQ_LINGER, &linger, sizeof linger);
    /* A bigger frame makes ZeroMQ drop the connection before we see it:
     * the one limit that cannot be answered with an error reply. */
    zmq_setsockopt(front, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (srv->conf->has_security && zap_make_server(front, srv->secret, ZAP_DOMAIN_CLIENTS, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (zmq_bind(front, endpoints[i]) < 0) {
            snprintf(err, errlen, "cannot bind %s: %s", endpoints[i], zmq_strerror(errno));
            return -1;
        }
    return 0;
}

/* Tells every worker to stop, waiting for the busy ones to become idle
 * first unless the grace time ran out; those are interrupted by shutting
 * the context down, which makes their next ZeroMQ call fail. */
static void stop_workers(struct broker *b, pthread_t *threads, int nthreads)
{
    int forced = !idle_all(b);

    for (size_t i = 0; i < b->nidle; i++) {
        zmq_send(b->back, b->idle[i].id, b->idle[i].len, ZMQ_SNDMORE);
        zmq_send(b->back, "", 0, ZMQ_SNDMORE);
        zmq_send(b->back, "STOP", 4, 0);
    }
    if (forced)
        zmq_ctx_shutdown(b->srv->ctx);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
}

/* The name the broker knows this daemon by: the config's, or host:pid. */
static void upstream_name(const struct conf *c, char *out, size_t outlen)
{
    char host[64];

    if (c->upstream.name) {
        snprintf(out, outlen, "%s", c->upstream.name);
        return;
    }
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "daemon");
    host[sizeof host - 1] = '\0';
    snprintf(out, outlen, "%.40s:%ld", host, (long)getpid());
}

enum server_status server_run(struct server *srv, char *err, size_t errlen)
{
    struct broker b;
    struct zap *zap = NULL;
    pthread_t *threads = NULL;
    int nthreads = 0, linger = 0;
    enum server_status status = SERVER_OK;

    memset(&b, 0, sizeof b);
    b.srv = srv;
    /* ZeroMQ's I/O threads and the workers inherit a mask without our
     * signals, so only the main thread runs the handler. */
    sig_block(1);
    srv->ctx = zmq_ctx_new();
    if (srv->conf->has_security && srv->keys && !(zap = zap_start(srv->ctx, srv->keys, err, errlen))) {
        status = SERVER_FAILED;
        goto out;
    }
    if (!(b.back = make_socket(srv, ZMQ_ROUTER, err, errlen))) {
        status = SERVER_FAILED;
        goto out;
    }
    zmq_setsockopt(b.back, ZMQ_LINGER, &linger, sizeof linger);
    if (srv->conf->n_endpoints > 0) {
        if (!(b.front = make_socket(srv, ZMQ_ROUTER, err, errlen))) {
            status = SERVER_FAILED;
            goto out;
        }
        if (server_setup_front(srv, b.front, srv->conf->endpoints, srv->conf->n_endpoints, err, errlen) < 0) {
            status = SERVER_BIND_FAILED;
            goto out;
        }
    }
    if (zmq_bind(b.back, SERVER_BACKEND) < 0) {
        snprintf(err, errlen, "cannot bind %s: %s", SERVER_BACKEND, zmq_strerror(errno));
        status = SERVER_FAILED;
        goto out;
    }
    if (srv->conf->has_upstream) {
        upstream_name(srv->conf, b.up_name, sizeof b.up_name);
        if (up_open(&b, err, errlen) < 0) {
            status = SERVER_BIND_FAILED;
            goto out;
        }
    }
    b.cap = srv->conf->limits.max_queue + 1;
    b.queue = xcalloc(b.cap, sizeof *b.queue);
    b.idle = xcalloc((size_t)srv->conf->workers, sizeof *b.idle);
    b.quick = answerer_new(srv);
    threads = xcalloc((size_t)srv->conf->workers, sizeof *threads);
    for (; nthreads < srv->conf->workers; nthreads++)
        if (pthread_create(&threads[nthreads], NULL, worker_main, srv) != 0)
            break;
    sig_block(0);
    if (nthreads < srv->conf->workers) {
        snprintf(err, errlen, "could start only %d of %d worker threads", nthreads, srv->conf->workers);
        status = SERVER_FAILED;
        begin_stop(&b);
        b.stop_deadline_ns = stats_now_ns();
    } else {
        log_info("serving on %zu endpoint%s with %d workers", srv->conf->n_endpoints,
                 srv->conf->n_endpoints == 1 ? "" : "s", srv->conf->workers);
        if (b.up)
            log_info("serving through the broker at %s as \"%s\"", srv->conf->upstream.endpoint, b.up_name);
        loop(&b);
    }
    if (b.up)
        up_send(&b, UP_BYE, NULL, 0, NULL, 0, 0);
    stop_workers(&b, threads, nthreads);
    for (size_t i = 0; i < b.count; i++)
        pending_close(&b.queue[(b.head + i) % b.cap]);
out:
    free(threads);
    free(b.queue);
    free(b.idle);
    answerer_free(&b.quick);
    sig_block(0);
    if (b.front)
        zmq_close(b.front);
    if (b.back)
        zmq_close(b.back);
    if (b.up) {
        /* A moment for BYE to leave: the broker then requeues at once
         * what it sent us after DRAIN instead of waiting for silence. */
        int ms = 500;
        zmq_setsockopt(b.up, ZMQ_LINGER, &ms, sizeof ms);
        zmq_close(b.up);
    }
    zap_stop(&zap);
    zmq_ctx_term(srv->ctx);
    srv->ctx = NULL;
    return status;
}
