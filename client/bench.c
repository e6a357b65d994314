/*
 * bench: `stance bench`, a load generator in the manner of redis-benchmark.
 * Each client is a thread with its own DEALER socket and one request in
 * flight. Requests are built before the clock starts and replies are only
 * scanned for their id and an error, so that the generator costs far less
 * than the server it measures. Every latency is kept and sorted at the end.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "conn.h"
#include "input.h"
#include "split.h"
#include "xalloc.h"

/* Past this much request text the payloads stop covering the whole cycle
 * of the sentence file; the load repeats sooner but memory stays bounded. */
#define PAYLOAD_BYTES_MAX (64u * 1024 * 1024)
/* Latencies kept per client before the array has to grow (8 MiB). */
#define LAT_PREALLOC_MAX (1u << 20)
/* Room for {"id":N before a payload's body. */
#define ID_ROOM 32

/* Used without --file: news-like sentences covering the four stances. */
static const char *const builtin_sentences[] = {
    "They will send more tanks and troops to the border.",
    "The minister warned that any provocation would be met with overwhelming force.",
    "Artillery units were moved closer to the frontier overnight.",
    "The general threatened to strike the enemy's supply lines within days.",
    "Officials said the new sanctions are a declaration of economic war.",
    "We have no reason to believe anything their government tells us.",
    "The opposition accused the ministry of hiding the true casualty figures.",
    "Diplomats doubt that the other side will honour the agreement.",
    "Their promises of restraint have been broken many times before.",
    "Critics questioned whether the inspection reports could be trusted.",
    "Both sides agreed to resume talks in Geneva next week.",
    "The president welcomed the ceasefire and thanked the mediators.",
    "The two governments signed a deal to reopen the border crossing.",
    "Leaders pledged to work together to reduce tensions in the region.",
    "The foreign minister offered to meet his counterpart without preconditions.",
    "The delegation arrived in the capital on Tuesday afternoon.",
    "The summit is scheduled to take place in March.",
    "The ministry published its annual report on trade figures.",
    "About 200 people attended the conference, organisers said.",
    "The committee will announce its findings later this month.",
};

struct payload {
    char *body; /* the request after its id: ,"texts":[...],...} */
    size_t len;
    long sentences; /* the units a successful reply scores */
};

struct bench {
    const struct cli_opts *o;
    void *ctx;
    struct payload *pl;
    size_t n_pl, max_len;
    atomic_long next;    /* the next request number to claim */
    long limit;          /* requests in all */
    uint64_t deadline;   /* monotonic ns, or UINT64_MAX */
    pthread_barrier_t start;
};

struct client {
    pthread_t thread;
    struct bench *b;
    uint64_t *lat;       /* ns, one per reply */
    size_t n_lat, cap_lat;
    long ok, error_replies, bad_replies, timeouts;
    long sentences;      /* scored in the ok replies */
    char first_error[160];
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- input ---- */

/* Loads the non-blank lines of path into *out (each a string the caller
 * frees, as the array). Returns the count, or 0 after printing why. */
static size_t load_sentences(const char *path, char ***out)
{
    size_t len, pos = 0, n, count = 0, cap = 1024;
    long lineno = 0;
    const char *line;
    char *buf = input_read(path, &len);
    if (!buf)
        return 0;
    char **v = xmalloc(cap * sizeof *v);
    while (input_next_line(buf, len, &pos, &lineno, &line, &n)) {
        if (count == cap)
            v = xrealloc(v, (cap *= 2) * sizeof *v);
        v[count++] = xstrndup(line, n);
    }
    free(buf);
    if (count == 0) {
        fprintf(stderr, "stance: %s has no sentences\n", path);
        free(v);
        return 0;
    }
    *out = v;
    return count;
}

static size_t gcd(size_t a, size_t b)
{
    while (b) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* How many sentences a server that splits (the protocol's default) scores
 * in t: a line of the file may hold several. */
static long count_sentences(const char *t)
{
    struct sentence *s;
    size_t n = split_sentences(t, strlen(t), &s);
    free(s);
    return (long)n;
}

/* Builds the request bodies: batch k holds sentences kB .. kB+B-1 modulo
 * the count, and after n / gcd(n, B) batches the cycle repeats. */
static void build_payloads(struct bench *b, const char *const *sent, size_t n)
{
    const struct cli_opts *o = b->o;
    size_t batch = (size_t)o->batch, want = n / gcd(n, batch), bytes = 0;
    b->pl = xmalloc(want * sizeof *b->pl);
    b->n_pl = 0;
    b->max_len = 0;
    for (size_t k = 0; k < want && bytes < PAYLOAD_BYTES_MAX; k++) {
        cJSON *req = cJSON_CreateObject();
        cJSON *texts = cJSON_AddArrayToObject(req, "texts");
        long sentences = 0;
        for (size_t j = 0; j < batch; j++) {
            const char *t = sent[(k * batch + j) % n];
            cJSON_AddItemToArray(texts, cJSON_CreateString(t));
            sentences += o->split == 0 ? 1 : count_sentences(t);
        }
        if (o->models) {
            cJSON *m = cJSON_AddArrayToObject(req, "models");
            for (size_t i = 0; i < o->n_models; i++)
                cJSON_AddItemToArray(m, cJSON_CreateString(o->models[i]));
        }
        if (o->split >= 0)
            cJSON_AddBoolToObject(req, "split", o->split);
        char *s = cJSON_PrintUnformatted(req);
        cJSON_Delete(req);
        /* Replace the opening brace, which precedes the id on the wire. */
        s[0] = ',';
        size_t len = strlen(s);
        b->pl[b->n_pl++] = (struct payload){ s, len, sentences };
        b->max_len = len > b->max_len ? len : b->max_len;
        bytes += len;
    }
}

/* ---- reply scanning: just enough JSON to find id and error ---- */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at an opening quote; returns just past the closing one, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Returns the end of the JSON value at p, or NULL if it runs off the end. */
static const char *skip_value(const char *p, const char *end)
{
    if (p < end && *p == '"')
        return skip_string(p, end);
    if (p < end && (*p == '{' || *p == '[')) {
        int depth = 0;
        while (p < end) {
            if (*p == '"') {
                if (!(p = skip_string(p, end)))
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0)
                return p + 1;
            p++;
        }
        return NULL;
    }
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n')
        p++;
    return p;
}

enum reply_kind { REPLY_OK, REPLY_ERROR, REPLY_BAD };

/* Classifies the reply s[0..n) to request number id by its top-level keys.
 * The scan stops once it has seen "id" and "results", which our daemon
 * sends before the (large) results themselves. */
static enum reply_kind scan_reply(const char *s, size_t n, long id)
{
    const char *p = skip_ws(s, s + n), *end = s + n;
    int id_ok = 0, results = 0, error = 0;
    if (p == end || *p++ != '{')
        return REPLY_BAD;
    for (;;) {
        p = skip_ws(p, end);
        if (p < end && *p == '}')
            break;
        if (p == end || *p != '"')
            return REPLY_BAD;
        const char *key = p + 1, *key_end = skip_string(p, end);
        if (!key_end)
            return REPLY_BAD;
        size_t klen = (size_t)(key_end - 1 - key);
        p = skip_ws(key_end, end);
        if (p == end || *p++ != ':')
            return REPLY_BAD;
        p = skip_ws(p, end);
        if (klen == 2 && memcmp(key, "id", 2) == 0) {
            char num[24];
            int len = snprintf(num, sizeof num, "%ld", id);
            id_ok = end - p > len && memcmp(p, num, (size_t)len) == 0 &&
                    (p[len] == ',' || p[len] == '}' || p[len] == ' ');
        } else if (klen == 5 && memcmp(key, "error", 5) == 0) {
            error = 1;
        } else if (klen == 7 && memcmp(key, "results", 7) == 0) {
            results = 1;
        }
        if (id_ok && (results || error))
            return results ? REPLY_OK : REPLY_ERROR;
        if (!(p = skip_value(p, end)))
            return REPLY_BAD;
        p = skip_ws(p, end);
        if (p < end && *p == ',')
            p++;
    }
    return error ? REPLY_ERROR : REPLY_BAD;
}

/* ---- clients ---- */

static void note_error(struct client *c, const char *what, const char *s, size_t n)
{
    if (c->first_error[0])
        return;
    int shown = n > 100 ? 100 : (int)n;
    snprintf(c->first_error, sizeof c->first_error, "%s: %.*s", what, shown, s);
}

static void record(struct client *c, uint64_t ns)
{
    if (c->n_lat == c->cap_lat)
        c->lat = xrealloc(c->lat, (c->cap_lat = c->cap_lat ? 2 * c->cap_lat : 4096) *
                                      sizeof *c->lat);
    c->lat[c->n_lat++] = ns;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct bench *b = c->b;
    void *sock = zmq_socket(b->ctx, ZMQ_DEALER);
    int linger = 0, timeout = b->o->timeout_ms;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    /* A refused connection (a failed CURVE handshake) leaves no pipe to
     * queue on while it waits to reconnect: sends must time out too. */
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    if (b->o->security)
        conn_secure_socket(sock, b->o->security);
    /* The endpoint was checked before the threads started. */
    zmq_connect(sock, b->o->endpoint);
    char *buf = xmalloc(b->max_len + ID_ROOM);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    pthread_barrier_wait(&b->start);

    for (long seq = 1;; seq++) {
        long k = atomic_fetch_add_explicit(&b->next, 1, memory_order_relaxed);
        if (k >= b->limit || (b->deadline != UINT64_MAX && now_ns() >= b->deadline))
            break;
        const struct payload *p = &b->pl[(size_t)k % b->n_pl];
        int idlen = snprintf(buf, ID_ROOM, "{\"id\":%ld", seq);
        memcpy(buf + idlen, p->body, p->len);

        uint64_t t0 = now_ns();
        /* The empty delimiter makes the request look like a REQ socket's,
         * which every server of the protocol (ROUTER or REP) accepts. */
        int more, got = -1;
        if (zmq_send(sock, "", 0, ZMQ_SNDMORE) >= 0 && zmq_send(sock, buf, (size_t)idlen + p->len, 0) >= 0)
            do {
                got = zmq_msg_recv(&msg, sock, 0);
                more = got >= 0 && zmq_msg_more(&msg);
            } while (more);
        if (got < 0) {
            /* The request may still be answered later; this socket would
             * then read the wrong reply, so its client stops here. */
            c->timeouts++;
            break;
        }
        uint64_t ns = now_ns() - t0;
        const char *body = zmq_msg_data(&msg);
        size_t n = zmq_msg_size(&msg);
        switch (scan_reply(body, n, seq)) {
        case REPLY_OK:
            c->ok++;
            c->sentences += p->sentences;
            record(c, ns);
            break;
        case REPLY_ERROR:
            c->error_replies++;
            record(c, ns);
            note_error(c, "error reply", body, n);
            break;
        case REPLY_BAD:
            c->bad_replies++;
            note_error(c, "reply not understood", body, n);
            break;
        }
    }
    zmq_msg_close(&msg);
    free(buf);
    zmq_close(sock);
    return NULL;
}

/* ---- figures ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted v[0..n), in milliseconds. */
static double pct_ms(const uint64_t *v, size_t n, double pct)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)ceil(pct / 100.0 * (double)n);
    return (double)v[rank ? rank - 1 : 0] / 1e6;
}

static int report(const struct bench *b, struct client *cl, int nc, double secs)
{
    const struct cli_opts *o = b->o;
    long ok = 0, sentences = 0, err = 0, bad = 0, timeouts = 0;
    size_t n = 0;
    for (int i = 0; i < nc; i++) {
        ok += cl[i].ok;
        sentences += cl[i].sentences;
        err += cl[i].error_replies;
        bad += cl[i].bad_replies;
        timeouts += cl[i].timeouts;
        n += cl[i].n_lat;
    }
    uint64_t *lat = xmalloc((n ? n : 1) * sizeof *lat);
    size_t at = 0;
    for (int i = 0; i < nc; i++) {
        memcpy(lat + at, cl[i].lat, cl[i].n_lat * sizeof *lat);
        at += cl[i].n_lat;
    }
    qsort(lat, n, sizeof *lat, cmp_u64);
    long replies = ok + err + bad, errors = err + bad + timeouts;
    double rps = secs > 0 ? replies / secs : 0, sps = secs > 0 ? (double)sentences / secs : 0;
    double p50 = pct_ms(lat, n, 50), p90 = pct_ms(lat, n, 90), p99 = pct_ms(lat, n, 99);
    double max = n ? (double)lat[n - 1] / 1e6 : 0;
    free(lat);

    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "endpoint", o->endpoint);
        cJSON_AddNumberToObject(j, "clients", o->clients);
        cJSON_AddNumberToObject(j, "batch", o->batch);
        cJSON_AddNumberToObject(j, "requests", (double)replies);
        cJSON_AddNumberToObject(j, "sentences", (double)sentences);
        cJSON_AddNumberToObject(j, "errors", (double)errors);
        cJSON_AddNumberToObject(j, "error_replies", (double)err);
        cJSON_AddNumberToObject(j, "bad_replies", (double)bad);
        cJSON_AddNumberToObject(j, "timeouts", (double)timeouts);
        cJSON_AddNumberToObject(j, "seconds", secs);
        cJSON_AddNumberToObject(j, "requests_per_s", rps);
        cJSON_AddNumberToObject(j, "sentences_per_s", sps);
        cJSON *l = cJSON_AddObjectToObject(j, "latency_ms");
        cJSON_AddNumberToObject(l, "p50", p50);
        cJSON_AddNumberToObject(l, "p90", p90);
        cJSON_AddNumberToObject(l, "p99", p99);
        cJSON_AddNumberToObject(l, "max", max);
        char *s = cJSON_PrintUnformatted(j);
        puts(s);
        free(s);
        cJSON_Delete(j);
    } else {
        printf("endpoint:   %s, %d client%s, batch %d, split %s\n", o->endpoint, o->clients,
               o->clients == 1 ? "" : "s", o->batch,
               o->split < 0 ? "(server default)" : o->split ? "on" : "off");
        printf("requests:   %ld in %.3f s, %.1f requests/s\n", replies, secs, rps);
        printf("sentences:  %ld, %.1f sentences/s\n", sentences, sps);
        printf("errors:     %ld (%ld error replies, %ld not understood, %ld timeouts)\n", errors,
               err, bad, timeouts);
        printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", p50, p90, p99, max);
    }
    for (int i = 0; i < nc; i++)
        if (cl[i].first_error[0]) {
            fprintf(stderr, "stance: bench: first %s\n", cl[i].first_error);
            break;
        }
    if (timeouts)
        fprintf(stderr, "stance: bench: %ld client%s got no reply within %d ms and stopped\n",
                timeouts, timeouts == 1 ? "" : "s", o->timeout_ms);
    if (replies == 0 && timeouts)
        return CLI_UNREACHABLE;
    return errors ? CLI_ERROR_REPLY : CLI_OK;
}

int bench_run(const struct cli_opts *o)
{
    struct bench b = { .o = o };
    if (o->n_inputs == 1) {
        char **sent;
        size_t n = load_sentences(o->inputs[0].path, &sent);
        if (n == 0)
            return CLI_USAGE;
        build_payloads(&b, (const char *const *)sent, n);
        for (size_t i = 0; i < n; i++)
            free(sent[i]);
        free(sent);
    } else {
        build_payloads(&b, builtin_sentences,
                       sizeof builtin_sentences / sizeof builtin_sentences[0]);
    }

    int rc;
    b.ctx = zmq_ctx_new();
    /* Catch a malformed endpoint here, where it can be reported once. */
    void *probe = zmq_socket(b.ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(probe, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(probe, o->endpoint) != 0) {
        fprintf(stderr, "stance: bad endpoint '%s': %s\n", o->endpoint, zmq_strerror(zmq_errno()));
        zmq_close(probe);
        rc = CLI_USAGE;
    } else {
        zmq_close(probe);
        b.limit = o->requests ? o->requests : LONG_MAX;
        b.deadline = UINT64_MAX;
        int nc = o->clients;
        struct client *cl = xcalloc((size_t)nc, sizeof *cl);
        pthread_barrier_init(&b.start, NULL, (unsigned)nc + 1);
        for (int i = 0; i < nc; i++) {
            cl[i].b = &b;
            /* Room for this client's share up front, so that recording a
             * latency does not reallocate mid-run; a bigger share grows. */
            if (o->requests)
                cl[i].cap_lat = (size_t)(o->requests / nc + 1);
            if (cl[i].cap_lat > LAT_PREALLOC_MAX)
                cl[i].cap_lat = LAT_PREALLOC_MAX;
            cl[i].lat = xmalloc((cl[i].cap_lat ? cl[i].cap_lat : 1) * sizeof *cl[i].lat);
            if (pthread_create(&cl[i].thread, NULL, client_main, &cl[i]) != 0) {
                fprintf(stderr, "stance: cannot start client thread %d\n", i);
                abort();
            }
        }
        uint64_t t0 = now_ns();
        if (o->duration > 0)
            b.deadline = t0 + (uint64_t)(o->duration * 1e9);
        pthread_barrier_wait(&b.start);
        for (int i = 0; i < nc; i++)
            pthread_join(cl[i].thread, NULL);
        double secs = (double)(now_ns() - t0) / 1e9;
        rc = report(&b, cl, nc, secs);
        for (int i = 0; i < nc; i++)
            free(cl[i].lat);
        free(cl);
        pthread_barrier_destroy(&b.start);
    }
    for (size_t i = 0; i < b.n_pl; i++)
        free(b.pl[i].body);
    free(b.pl);
    zmq_ctx_term(b.ctx);
    return rc;
}
