/*
 * conn: the client's request/reply channel to stanced over a ZeroMQ REQ
 * socket, reopened for each retry. Replies are received whole through zmq_msg_t, whatever their size,
 * and parsed with an explicit length so that a reply need not be
 * NUL-terminated on the wire.
 */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "xalloc.h"

struct conn {
    void *ctx;
    void *sock;
    char *endpoint;
    int timeout_ms;
    int retries;
    int secure;
    struct conn_security sec;
};

int conn_secure_socket(void *sock, const struct conn_security *sec)
{
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, sec->server, KEY_BYTES) < 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, sec->public, KEY_BYTES) < 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec->secret, KEY_BYTES) < 0)
        return -1;
    return 0;
}

/* Opens c->sock and connects it. Returns 0, or -1 with err filled. */
static int open_socket(struct conn *c, char *err, size_t errlen)
{
    int linger = 0;

    c->sock = zmq_socket(c->ctx, ZMQ_REQ);
    if (!c->sock) {
        snprintf(err, errlen, "cannot create a socket: %s", zmq_strerror(errno));
        return -1;
    }
    /* Without this, closing a socket whose request was never delivered
     * (daemon down) would hang the process at exit. */
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
    /* A REQ socket queues a message while its connection is pending, but
     * not while a refused one (a failed CURVE handshake) waits to
     * reconnect: it has no pipe then, and an unbounded send would block
     * for good. */
    zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &c->timeout_ms, sizeof c->timeout_ms);
    if (c->secure && conn_secure_socket(c->sock, &c->sec) < 0) {
        snprintf(err, errlen, "cannot use CURVE: %s", zmq_strerror(errno));
        return -1;
    }
    if (zmq_connect(c->sock, c->endpoint) != 0) {
        snprintf(err, errlen, "bad endpoint '%s': %s", c->endpoint, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

struct conn *conn_open(const char *endpoint, int timeout_ms, int retries,
                       const struct conn_security *sec, char *err, size_t errlen)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->timeout_ms = timeout_ms;
    c->retries = retries;
    c->endpoint = xstrdup(endpoint);
    if (sec) {
        c->secure = 1;
        c->sec = *sec;
    }
    c->ctx = zmq_ctx_new();
    if (!c->ctx) {
        snprintf(err, errlen, "cannot start ZeroMQ: %s", zmq_strerror(errno));
        conn_free(&c);
        return NULL;
    }
    if (open_socket(c, err, errlen) < 0) {
        conn_free(&c);
        return NULL;
    }
    return c;
}

void conn_free(struct conn **c)
{
    if (!c || !*c)
        return;
    if ((*c)->sock)
        zmq_close((*c)->sock);
    if ((*c)->ctx)
        zmq_ctx_term((*c)->ctx);
    free((*c)->endpoint);
    free(*c);
    *c = NULL;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the socket has a message to read, or the deadline passes.
 * Returns 1 when readable, 0 on timeout, -1 on a ZeroMQ error. */
static int wait_readable(void *sock, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left < 0)
            left = 0;
        zmq_pollitem_t item = { .socket = sock, .events = ZMQ_POLLIN };
        int n = zmq_poll(&item, 1, (long)left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* One try: sends body and waits for the reply until the timeout.
 * Returns CONN_OK with *msg received, or CONN_TIMEOUT with err filled. */
static enum conn_status try_once(struct conn *c, const char *body, zmq_msg_t *msg, char *err, size_t errlen)
{
    long long deadline = now_ms() + c->timeout_ms;
    if (zmq_send(c->sock, body, strlen(body), 0) < 0) {
        if (errno == EAGAIN)
            snprintf(err, errlen, "could not send within %d ms", c->timeout_ms);
        else
            snprintf(err, errlen, "cannot send: %s", zmq_strerror(errno));
        return CONN_TIMEOUT;
    }
    int r = wait_readable(c->sock, deadline);
    if (r <= 0) {
        if (r == 0)
            snprintf(err, errlen, "no reply within %d ms", c->timeout_ms);
        else
            snprintf(err, errlen, "cannot receive: %s", zmq_strerror(errno));
        return CONN_TIMEOUT;
    }
    if (zmq_msg_recv(msg, c->sock, 0) < 0) {
        snprintf(err, errlen, "cannot receive: %s", zmq_strerror(errno));
        return CONN_TIMEOUT;
    }
    return CONN_OK;
}

enum conn_status conn_request(struct conn *c, const cJSON *req, cJSON **reply,
                              char *err, size_t errlen)
{
    *reply = NULL;
    char *body = cJSON_PrintUnformatted(req);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    enum conn_status st = CONN_TIMEOUT;
    int tries = 0;
    while (tries <= c->retries) {
        tries++;
        if (c->sock && (st = try_once(c, body, &msg, err, errlen)) == CONN_OK)
            break;
        /* Lazy pirate: a REQ socket that lost its reply cannot send
         * again, and a stale reply must not answer the next request, so
         * each retry starts from a fresh socket. */
        if (c->sock)
            zmq_close(c->sock);
        c->sock = NULL;
        char why[128];
        if (open_socket(c, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s", why);
            break;
        }
    }
    free(body);
    if (st != CONN_OK) {
        if (tries > 1) {
            size_t n = strlen(err);
            snprintf(err + n, errlen > n ? errlen - n : 0, " (%d tries)", tries);
        }
        zmq_msg_close(&msg);
        return CONN_TIMEOUT;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(zmq_msg_data(&msg), zmq_msg_size(&msg), &end, 0);
    size_t size = zmq_msg_size(&msg);
    zmq_msg_close(&msg);
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "the reply (%zu bytes) is not a JSON object", size);
        cJSON_Delete(j);
        return CONN_BAD_REPLY;
    }
    *reply = j;
    return CONN_OK;
}

int conn_reply_error(const cJSON *reply, char *err, size_t errlen)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
    if (!e)
        return 0;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    snprintf(err, errlen, "%s: %s", cJSON_IsString(code) ? code->valuestring : "error",
             cJSON_IsString(msg) ? msg->valuestring : "(no message)");
    return 1;
}
