/*
 * server: the broker. The main thread owns both ROUTER sockets: it reads
 * client messages, hands each to an idle worker or queues it (answering
 * `busy` when the queue is full), and forwards worker replies back with the
 * client's own envelope. Only cheap checks happen here (frame count); all
 * parsing is done by the workers so the broker never stalls on a request.
 */
#include "server.h"
#include "log.h"
#include "proto.h"
#include "sig.h"
#include "xalloc.h"

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

#define MAX_FRAMES 16                /* frames of one client message that are looked at */
#define MAX_ROUTE_BYTES 1024        /* envelope frames a client may add to its identity */

/* A client message on its way: the routing id ROUTER gave it, the route
 * frame (struct envelope, then the client's own envelope frames between
 * the routing id and the delimiter, each as a 4-byte length and bytes),
 * and the body. */
struct pending {
    zmq_msg_t ident;
    zmq_msg_t route;
    zmq_msg_t body;
};

struct worker_id {
    unsigned char id[MAX_ID];
    size_t len;
};

struct broker {
    struct server *srv;
    void *front, *back;
    struct pending *queue;           /* ring of cap entries */
    size_t cap, head, count;
    struct worker_id *idle;          /* stack of workers waiting for work */
    size_t nidle, nready;
    int stopping;
    uint64_t stop_deadline_ns;
};

static void pending_close(struct pending *p)
{
    zmq_msg_close(&p->ident);
    zmq_msg_close(&p->route);
    zmq_msg_close(&p->body);
}

static void pending_move(struct pending *to, struct pending *from)
{
    zmq_msg_init(&to->ident);
    zmq_msg_move(&to->ident, &from->ident);
    zmq_msg_init(&to->route);
    zmq_msg_move(&to->route, &from->route);
    zmq_msg_init(&to->body);
    zmq_msg_move(&to->body, &from->body);
}

static struct envelope route_envelope(zmq_msg_t *route)
{
    struct envelope e;
    memcpy(&e, zmq_msg_data(route), sizeof e);
    return e;
}

/* Sends the reply body[0..len) back along ident and route, the client's
 * whole envelope. A client that went away, or whose queue is full, loses
 * its reply: ROUTER drops it, and the broker must never block on one. */
static void send_front(struct broker *b, zmq_msg_t *ident, zmq_msg_t *route, const void *body, size_t len)
{
    const unsigned char *r = zmq_msg_data(route);
    size_t rlen = zmq_msg_size(route), at = sizeof(struct envelope);
    struct envelope e = route_envelope(route);
    zmq_msg_t m;

    zmq_msg_init(&m);
    zmq_msg_copy(&m, ident);
    if (zmq_msg_send(&m, b->front, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return;
    }
    while (at + 4 <= rlen) {
        uint32_t n;
        memcpy(&n, r + at, 4);
        zmq_send(b->front, r + at + 4, n, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        at += 4 + n;
    }
    if (e.delimiter)
        zmq_send(b->front, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(b->front, body, len, ZMQ_DONTWAIT);
}

static void reply_error(struct broker *b, struct pending *p, const cJSON *id,
                        enum proto_code code, const char *msg)
{
    size_t len;
    char *s = proto_error_reply(id, code, msg, &len);

    send_front(b, &p->ident, &p->route, s, len);
    free(s);
    stats_record(b->srv->stats, code, 0, stats_now_ns() - route_envelope(&p->route).arrival_ns);
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

/* Receives a whole client message: keeps at most MAX_FRAMES frames in f,
 * discards the rest (so a client cannot make the broker hold arbitrarily
 * many) and returns the total count. */
static size_t recv_message(void *sock, zmq_msg_t *f)
{
    size_t n = 0;
    int more = 1;

    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < MAX_FRAMES) {
            zmq_msg_init(&f[n]);
            zmq_msg_move(&f[n], &m);
        }
        zmq_msg_close(&m);
        n++;
    }
    return n;
}

/* Builds p's route from frames f[1..delim) and moves the routing id and
 * the body f[body] into p. */
static void make_pending(struct pending *p, zmq_msg_t *f, size_t delim, int has_delim, size_t body)
{
    struct envelope e;
    size_t rlen = sizeof e;
    unsigned char *r;

    for (size_t i = 1; i < delim; i++)
        rlen += 4 + zmq_msg_size(&f[i]);
    memset(&e, 0, sizeof e);
    e.arrival_ns = stats_now_ns();
    e.delimiter = (uint8_t)has_delim;
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
static void on_front(struct broker *b)
{
    zmq_msg_t f[MAX_FRAMES];
    size_t n = recv_message(b->front, f), kept = n < MAX_FRAMES ? n : MAX_FRAMES;
    size_t delim = 1, route_bytes = 0, nbody;
    int has_delim = 0;
    struct pending p;
    char msg[128];
    cJSON *id;

    if (n == 0)
        return;
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
    make_pending(&p, f, delim, has_delim, nbody == 1 ? (has_delim ? delim + 1 : 1) : 0);
    for (size_t i = 0; i < kept; i++)
        zmq_msg_close(&f[i]);
    if (nbody != 1 || route_bytes > MAX_ROUTE_BYTES) {
        if (nbody != 1)
            snprintf(msg, sizeof msg, "a request is one frame; this one had %zu", nbody);
        else
            snprintf(msg, sizeof msg, "the envelope is over %d bytes", MAX_ROUTE_BYTES);
        reply_error(b, &p, NULL, PROTO_BAD_REQUEST, msg);
        pending_close(&p);
        return;
    }
    if (submit(b, &p, 0) == 0)
        return;
    id = proto_peek_id(zmq_msg_data(&p.body), zmq_msg_size(&p.body), PEEK_ID_MAX);
    snprintf(msg, sizeof msg, "%zu requests are waiting; retry later", b->count);
    reply_error(b, &p, id, PROTO_BUSY, msg);
    cJSON_Delete(id);
    pending_close(&p);
}

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
        else if (!route_envelope(&f[3]).internal)
            send_front(b, &f[2], &f[3], zmq_msg_data(&f[4]), zmq_msg_size(&f[4]));
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
    zmq_msg_init(&p.ident);  /* empty: no client */
    zmq_msg_init_size(&p.route, sizeof e);
    memcpy(zmq_msg_data(&p.route), &e, sizeof e);
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
     * endpoint, and with them the replies still owed. */
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
                log_info("SIGHUP: reloading models");
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
        zmq_pollitem_t items[3] = {
            { b->back, 0, ZMQ_POLLIN, 0 },
            { NULL, b->srv->signal_fd, ZMQ_POLLIN, 0 },
            { b->front, 0, ZMQ_POLLIN, 0 },
        };
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
    }
}

static void *make_socket(struct server *srv, int type, char *err, size_t errlen)
{
    void *s = zmq_socket(srv->ctx, type);

    if (!s)
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
    return s;
}

static int setup_front(struct server *srv, void *front, char *err, size_t errlen)
{
    int hwm = HWM, linger = FRONT_LINGER_MS;
    int64_t maxmsg = (int64_t)srv->conf->limits.max_message_bytes;

    zmq_setsockopt(front, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(front, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(front, ZMQ_LINGER, &linger, sizeof linger);
    /* A bigger frame makes ZeroMQ drop the connection before we see it:
     * the one limit that cannot be answered with an error reply. */
    zmq_setsockopt(front, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    for (size_t i = 0; i < srv->conf->n_endpoints; i++)
        if (zmq_bind(front, srv->conf->endpoints[i]) < 0) {
            snprintf(err, errlen, "cannot bind %s: %s", srv->conf->endpoints[i], zmq_strerror(errno));
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

enum server_status server_run(struct server *srv, char *err, size_t errlen)
{
    struct broker b;
    pthread_t *threads;
    int nthreads = 0, linger = 0;
    enum server_status status = SERVER_OK;

    memset(&b, 0, sizeof b);
    b.srv = srv;
    /* ZeroMQ's I/O threads and the workers inherit a mask without our
     * signals, so only the main thread runs the handler. */
    sig_block(1);
    srv->ctx = zmq_ctx_new();
    if (!(b.front = make_socket(srv, ZMQ_ROUTER, err, errlen)) ||
        !(b.back = make_socket(srv, ZMQ_ROUTER, err, errlen))) {
        status = SERVER_FAILED;
        goto out;
    }
    zmq_setsockopt(b.back, ZMQ_LINGER, &linger, sizeof linger);
    if (setup_front(srv, b.front, err, errlen) < 0) {
        status = SERVER_BIND_FAILED;
        goto out;
    }
    if (zmq_bind(b.back, SERVER_BACKEND) < 0) {
        snprintf(err, errlen, "cannot bind %s: %s", SERVER_BACKEND, zmq_strerror(errno));
        status = SERVER_FAILED;
        goto out;
    }
    b.cap = srv->conf->limits.max_queue + 1;
    b.queue = xcalloc(b.cap, sizeof *b.queue);
    b.idle = xcalloc((size_t)srv->conf->workers, sizeof *b.idle);
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
        loop(&b);
    }
    stop_workers(&b, threads, nthreads);
    for (size_t i = 0; i < b.count; i++)
        pending_close(&b.queue[(b.head + i) % b.cap]);
    free(threads);
    free(b.queue);
    free(b.idle);
out:
    sig_block(0);
    if (b.front)
        zmq_close(b.front);
    if (b.back)
        zmq_close(b.back);
    zmq_ctx_term(srv->ctx);
    srv->ctx = NULL;
    return status;
}
