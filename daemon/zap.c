/*
 * zap: the handler thread. One REP socket on the well-known ZAP endpoint
 * and a PAIR socket on which zap_stop() says "stop". Refusals are logged
 * with the key, at most once a minute per key, since a refused client
 * keeps reconnecting and would otherwise fill the log. A reload may swap
 * the keys while the thread runs (struct zap_keys).
 */
#include "zap.h"
#include "front.h"
#include "log.h"
#include "stats.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_CONTROL "inproc://stanced-zap-control"
#define ZAP_FRAMES 8                 /* a CURVE request has 7 frames */
#define REFUSED_MEMORY 32            /* keys whose last refusal is remembered */
#define REFUSED_LOG_NS (60ULL * 1000000000ULL)

struct refused {
    unsigned char key[KEY_BYTES];
    uint64_t logged_ns;
};

struct zap_keys {
    pthread_mutex_t lock;
    struct keyring *keys;
    const char *path;
};

struct zap {
    pthread_t thread;
    void *rep, *control_in, *control_out;
    struct zap_keys *keys;
    struct refused refused[REFUSED_MEMORY];
    size_t next_refused;
};

struct zap_keys *zap_keys_new(struct keyring **keys, const char *path)
{
    struct zap_keys *zk = xcalloc(1, sizeof *zk);

    pthread_mutex_init(&zk->lock, NULL);
    zk->keys = *keys;
    zk->path = path;
    *keys = NULL;
    return zk;
}

void zap_keys_swap(struct zap_keys *zk, struct keyring **fresh)
{
    struct keyring *old;

    pthread_mutex_lock(&zk->lock);
    old = zk->keys;
    zk->keys = *fresh;
    pthread_mutex_unlock(&zk->lock);
    *fresh = NULL;
    /* The handler copies what it needs under the lock, so nothing can
     * still point into the old keyring. */
    keyring_free(&old);
}

void zap_keys_summary(struct zap_keys *zk, char *out, size_t outlen)
{
    pthread_mutex_lock(&zk->lock);
    keyring_summary(zk->keys, out, outlen);
    pthread_mutex_unlock(&zk->lock);
}

void zap_keys_free(struct zap_keys **zkp)
{
    if (!zkp || !*zkp)
        return;
    keyring_free(&(*zkp)->keys);
    pthread_mutex_destroy(&(*zkp)->lock);
    free(*zkp);
    *zkp = NULL;
}

/* Copies the entry for key into out. Returns 1, or 0 when the key is not
 * listed. */
static int keys_find(struct zap_keys *zk, const unsigned char *key, struct key_entry *out)
{
    const struct key_entry *e;

    pthread_mutex_lock(&zk->lock);
    e = keyring_find(zk->keys, key);
    if (e)
        *out = *e;
    pthread_mutex_unlock(&zk->lock);
    return e != NULL;
}

int zap_make_server(void *sock, const unsigned char secret[KEY_BYTES], const char *domain, char *err, size_t errlen)
{
    int one = 1;

    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) < 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret, KEY_BYTES) < 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) < 0) {
        snprintf(err, errlen, "cannot make a CURVE server socket: %s", zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* Logs the refusal of key unless it was logged within the last minute. */
static void log_refused(struct zap *z, const unsigned char *key, const char *address, const char *why)
{
    uint64_t now = stats_now_ns();
    char z85[KEY_Z85_LEN + 1];
    struct refused *slot = NULL;

    for (size_t i = 0; i < REFUSED_MEMORY; i++)
        if (memcmp(z->refused[i].key, key, KEY_BYTES) == 0 && z->refused[i].logged_ns) {
            slot = &z->refused[i];
            break;
        }
    key_to_z85(key, z85);
    if (slot && now - slot->logged_ns < REFUSED_LOG_NS) {
        log_debug("refused CURVE key %s from %s again", z85, address);
        return;
    }
    if (!slot) {
        slot = &z->refused[z->next_refused];
        z->next_refused = (z->next_refused + 1) % REFUSED_MEMORY;
        memcpy(slot->key, key, KEY_BYTES);
    }
    slot->logged_ns = now;
    log_warn("refused CURVE key %s from %s: %s (repeats are logged once a minute)", z85, address, why);
}

/* The reply's metadata: one ZMTP property, name and value. */
static size_t metadata(unsigned char *out, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);

    out[0] = (unsigned char)nl;
    memcpy(out + 1, name, nl);
    out[1 + nl] = 0;
    out[2 + nl] = 0;
    out[3 + nl] = 0;
    out[4 + nl] = (unsigned char)vl;
    memcpy(out + 5 + nl, value, vl);
    return 5 + nl + vl;
}

static void reply(void *rep, zmq_msg_t *request_id, const char *code, const char *text,
                  const char *user, const unsigned char *meta, size_t metalen)
{
    zmq_send(rep, "1.0", 3, ZMQ_SNDMORE);
    zmq_msg_send(request_id, rep, ZMQ_SNDMORE);
    zmq_send(rep, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(rep, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(rep, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(rep, meta, metalen, 0);
}

static int frame_is(zmq_msg_t *m, const char *s)
{
    return zmq_msg_size(m) == strlen(s) && memcmp(zmq_msg_data(m), s, strlen(s)) == 0;
}

/* Answers one request: [version, request id, domain, address, routing
 * id, mechanism, credentials...]. */
static void handle(struct zap *z)
{
    zmq_msg_t f[ZAP_FRAMES];
    size_t n = front_recv_frames(z->rep, 0, f, ZAP_FRAMES, NULL);
    char address[64] = "?", domain[64] = "";
    unsigned char meta[64];
    struct key_entry e;

    if (n < 6) {
        /* Not a ZAP request; REP still owes a reply to unblock itself. */
        zmq_send(z->rep, "", 0, 0);
        goto out;
    }
    snprintf(address, sizeof address, "%.*s", (int)zmq_msg_size(&f[3]), (const char *)zmq_msg_data(&f[3]));
    snprintf(domain, sizeof domain, "%.*s", (int)zmq_msg_size(&f[2]), (const char *)zmq_msg_data(&f[2]));
    if (!frame_is(&f[0], "1.0")) {
        reply(z->rep, &f[1], "400", "unsupported ZAP version", "", NULL, 0);
    } else if (frame_is(&f[5], "NULL")) {
        /* Only stanced's own in-process sockets run without CURVE. */
        reply(z->rep, &f[1], "200", "OK", "", NULL, 0);
    } else if (!frame_is(&f[5], "CURVE") || n != 7 || zmq_msg_size(&f[6]) != KEY_BYTES) {
        log_warn("refused a %.*s handshake from %s: only CURVE is served",
                 (int)zmq_msg_size(&f[5]), (const char *)zmq_msg_data(&f[5]), address);
        reply(z->rep, &f[1], "400", "CURVE only", "", NULL, 0);
    } else if (!keys_find(z->keys, zmq_msg_data(&f[6]), &e)) {
        char why[400];
        snprintf(why, sizeof why, "not in %s", z->keys->path);
        log_refused(z, zmq_msg_data(&f[6]), address, why);
        reply(z->rep, &f[1], "400", "unknown key", "", NULL, 0);
    } else if (strcmp(domain, ZAP_DOMAIN_DAEMONS) == 0 && !(e.roles & KEY_ROLE_DAEMON)) {
        char why[400];
        snprintf(why, sizeof why, "%s is listed in %s without the daemon role, so it may not "
                 "serve as a daemon", e.name, z->keys->path);
        log_refused(z, zmq_msg_data(&f[6]), address, why);
        reply(z->rep, &f[1], "400", "not a daemon key", "", NULL, 0);
    } else {
        size_t ml = metadata(meta, ZAP_ADMIN_PROPERTY, (e.roles & KEY_ROLE_ADMIN) ? "yes" : "no");
        log_debug("admitted %s (%s) from %s", e.name, e.z85, address);
        reply(z->rep, &f[1], "200", "OK", e.name, meta, ml);
    }
out:
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

static void *zap_main(void *arg)
{
    struct zap *z = arg;

    for (;;) {
        zmq_pollitem_t items[2] = { { z->rep, 0, ZMQ_POLLIN, 0 }, { z->control_in, 0, ZMQ_POLLIN, 0 } };
        if (zmq_poll(items, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            handle(z);
    }
    zmq_close(z->rep);
    zmq_close(z->control_in);
    return NULL;
}

struct zap *zap_start(void *ctx, struct zap_keys *keys, char *err, size_t errlen)
{
    struct zap *z = xcalloc(1, sizeof *z);
    int linger = 0;

    z->keys = keys;
    z->rep = zmq_socket(ctx, ZMQ_REP);
    z->control_in = zmq_socket(ctx, ZMQ_PAIR);
    z->control_out = zmq_socket(ctx, ZMQ_PAIR);
    if (!z->rep || !z->control_in || !z->control_out) {
        snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
        goto fail;
    }
    zmq_setsockopt(z->rep, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(z->control_in, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(z->control_out, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(z->rep, ZAP_ENDPOINT) < 0 || zmq_bind(z->control_in, ZAP_CONTROL) < 0 ||
        zmq_connect(z->control_out, ZAP_CONTROL) < 0) {
        snprintf(err, errlen, "cannot start the ZAP handler: %s", zmq_strerror(errno));
        goto fail;
    }
    if (pthread_create(&z->thread, NULL, zap_main, z) != 0) {
        snprintf(err, errlen, "cannot start the ZAP handler thread");
        goto fail;
    }
    return z;
fail:
    if (z->rep)
        zmq_close(z->rep);
    if (z->control_in)
        zmq_close(z->control_in);
    if (z->control_out)
        zmq_close(z->control_out);
    free(z);
    return NULL;
}

void zap_stop(struct zap **zp)
{
    struct zap *z;

    if (!zp || !*zp)
        return;
    z = *zp;
    zmq_send(z->control_out, "", 0, 0);
    pthread_join(z->thread, NULL);
    zmq_close(z->control_out);
    free(z);
    *zp = NULL;
}
