/*
 * worker: one thread per configured worker, each with its own REQ socket
 * on the broker's back end and its own scoring scratch. A worker turns one
 * request body into one reply body; every failure on the way becomes an
 * error reply, never a crash or a missing answer.
 */
#include "server.h"
#include "log.h"
#include "proto.h"
#include "text.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct answerer {
    struct server *srv;
    struct score_scratch *scratch;
    struct proto_request req;
    enum proto_code code;       /* outcome, for stats */
    size_t texts;               /* texts classified, for stats */
    struct proto_out out;       /* the reply, its buffer reused from request to request */
    int quick_only;             /* answering in the broker's thread: leave reloads alone */
    int deferred;               /* ...and this request was one */
    char err[512];
};

/* A reply buffer that grew beyond this for one huge request is given back
 * after it, rather than held by an idle worker. */
#define KEEP_REPLY_BYTES (1024 * 1024)

static void fail(struct answerer *a, enum proto_code code)
{
    a->code = code;
    proto_out_reset(&a->out, KEEP_REPLY_BYTES);
    proto_out_error(&a->out, a->req.id, code, a->err);
}

static void finish(struct answerer *a, cJSON *reply)
{
    proto_out_tree(&a->out, reply);
    cJSON_Delete(reply);
}

/* Picks the requested models out of set, in the request's order, or all
 * of them in config order. Returns the count, or 0 with a->err filled when
 * a name is unknown. */
static size_t pick_models(struct answerer *a, const struct modelset *set, struct doc_model *out)
{
    size_t n = 0, len;

    if (!a->req.models) {
        memcpy(out, set->models, set->n * sizeof *out);
        return set->n;
    }
    for (size_t i = 0; i < a->req.nmodels; i++) {
        size_t k;
        for (k = 0; k < set->n && strcmp(set->models[k].name, a->req.models[i]) != 0; k++)
            ;
        if (k == set->n) {
            len = (size_t)snprintf(a->err, sizeof a->err, "unknown model \"%.*s\"; loaded:",
                                   (int)text_prefix_len(a->req.models[i], 64), a->req.models[i]);
            for (k = 0; k < set->n && len < sizeof a->err; k++)
                len += (size_t)snprintf(a->err + len, sizeof a->err - len, " %s", set->models[k].name);
            return 0;
        }
        out[n++] = set->models[k];
    }
    return n;
}

static enum proto_code doc_code(enum doc_status st)
{
    switch (st) {
    case DOC_OK: return PROTO_OK;
    case DOC_BAD_UTF8: return PROTO_BAD_UTF8;
    case DOC_EMPTY: return PROTO_EMPTY_TEXT;
    case DOC_TOO_MANY_SENTENCES: return PROTO_TOO_LARGE;
    case DOC_FAILED: break;
    }
    return PROTO_INTERNAL;
}

static void classify(struct answerer *a)
{
    struct modelset *set = registry_acquire(a->srv->models);
    struct doc_model *models = xcalloc(set->n ? set->n : 1, sizeof *models);
    struct doc_options opt = { a->req.split, a->req.explain, a->srv->conf->limits.max_sentences };
    size_t nmodels = pick_models(a, set, models);

    if (nmodels == 0) {
        fail(a, PROTO_UNKNOWN_MODEL);
        goto done;
    }
    proto_out_results_begin(&a->out, a->req.id);
    for (size_t i = 0; i < a->req.ntexts; i++) {
        struct doc_result *d;
        char why[400];
        enum doc_status st = doc_analyze(a->req.texts[i], a->req.lens[i], models, nmodels,
                                         &opt, a->scratch, &d, why, sizeof why);
        if (st != DOC_OK) {
            if (a->req.batch)
                snprintf(a->err, sizeof a->err, "texts[%zu]: %s", i, why);
            else
                snprintf(a->err, sizeof a->err, "%s", why);
            if (st == DOC_FAILED)
                log_error("internal: scoring failed: %s", why);
            fail(a, doc_code(st));
            goto done;
        }
        /* The sentence budget is per request, shared by its texts. */
        opt.max_sentences -= d->split ? d->nunits : 0;
        proto_out_doc(&a->out, d);
        doc_free(&d);
    }
    proto_out_results_end(&a->out);
    a->texts = a->req.ntexts;
done:
    free(models);
    registry_release(a->srv->models, &set);
}

static void list_models(struct answerer *a)
{
    struct modelset *set = registry_acquire(a->srv->models);
    cJSON *reply = proto_reply_new(a->req.id);
    cJSON *arr = cJSON_AddArrayToObject(reply, "models");

    for (size_t i = 0; i < set->n; i++) {
        cJSON *d = bundle_describe(set->models[i].bundle);
        /* Clients know a model by its config name; the manifest's own
         * name and the directory stay visible next to it. */
        cJSON_AddItemToObject(d, "bundle_name", cJSON_CreateString(bundle_name(set->models[i].bundle)));
        cJSON_DeleteItemFromObjectCaseSensitive(d, "name");
        cJSON_AddItemToObject(d, "name", cJSON_CreateString(set->models[i].name));
        cJSON_AddItemToObject(d, "dir", cJSON_CreateString(bundle_dir(set->models[i].bundle)));
        cJSON_AddItemToArray(arr, d);
    }
    cJSON_AddNumberToObject(reply, "generation", (double)set->generation);
    finish(a, reply);
    registry_release(a->srv->models, &set);
}

/* Two reloads at once could otherwise each swap in what they read, the
 * older keys file last; the registry serialises only its own part. */
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;

/* Reloads the models and, with security, the authorized-keys file named
 * at start-up. Both are read and checked in full before either is swapped
 * in, so a reload changes both or nothing. */
static void reload(struct answerer *a, int internal)
{
    char why[480], summary[128], keys_note[400] = "";
    const char *keys_path = a->srv->keys ? a->srv->conf->security.authorized_keys : NULL;
    struct conf *c;
    struct keyring *keys = NULL;
    struct modelset *set;
    cJSON *reply, *names;
    size_t nkeys = 0;
    int ok;

    pthread_mutex_lock(&reload_lock);
    c = conf_load(a->srv->conf->path, why, sizeof why);
    ok = c && (!keys_path || (keys = keyring_load(keys_path, why, sizeof why))) &&
         registry_reload(a->srv->models, c, why, sizeof why) == 0;
    if (ok && keys) {
        nkeys = keys->n;
        keyring_summary(keys, summary, sizeof summary);
        snprintf(keys_note, sizeof keys_note, " and %s from %s", summary, keys_path);
        zap_keys_swap(a->srv->keys, &keys);
    }
    pthread_mutex_unlock(&reload_lock);
    keyring_free(&keys);
    conf_free(&c);
    if (!ok) {
        log_error("reload failed, the old models%s stay in force: %s", keys_path ? " and keys" : "", why);
        snprintf(a->err, sizeof a->err, "%s", why);
        fail(a, PROTO_RELOAD_FAILED);
        return;
    }
    stats_reloaded(a->srv->stats);
    set = registry_acquire(a->srv->models);
    log_info("reloaded %zu model%s (generation %lu)%s%s", set->n, set->n == 1 ? "" : "s",
             set->generation, keys_note, internal ? " on SIGHUP" : "");
    reply = proto_reply_new(a->req.id);
    cJSON_AddBoolToObject(reply, "ok", 1);
    names = cJSON_AddArrayToObject(reply, "models");
    for (size_t i = 0; i < set->n; i++)
        cJSON_AddItemToArray(names, cJSON_CreateString(set->models[i].name));
    cJSON_AddNumberToObject(reply, "generation", (double)set->generation);
    if (keys_path)
        cJSON_AddNumberToObject(reply, "authorized_keys", (double)nkeys);
    registry_release(a->srv->models, &set);
    finish(a, reply);
}

/* Answers one request body into a->out. */
static void handle(struct answerer *a, const char *body, size_t blen, const struct envelope *env)
{
    const struct conf_limits *cl = &a->srv->conf->limits;
    struct proto_limits lim = { cl->max_message_bytes, cl->max_texts, cl->max_text_bytes, cl->max_json_depth };
    enum proto_code code = proto_parse(body, blen, &lim, &a->req, a->err, sizeof a->err);
    int internal = env->internal;
    cJSON *reply;

    if (code != PROTO_OK) {
        fail(a, code);
        return;
    }
    if ((a->req.op == PROTO_OP_STATS || a->req.op == PROTO_OP_RELOAD) && !env->admin && !internal) {
        const char *op = a->req.op == PROTO_OP_STATS ? "stats" : "reload";
        log_warn("refused %s from %s: the key has no admin role", op, env->user[0] ? env->user : "?");
        snprintf(a->err, sizeof a->err, "the %s op needs a key with the admin role", op);
        fail(a, PROTO_FORBIDDEN);
        return;
    }
    if (a->quick_only && a->req.op == PROTO_OP_RELOAD) {
        a->deferred = 1;
        return;
    }
    switch (a->req.op) {
    case PROTO_OP_CLASSIFY:
        classify(a);
        return;
    case PROTO_OP_PING:
        reply = proto_reply_new(a->req.id);
        cJSON_AddBoolToObject(reply, "ok", 1);
        cJSON_AddNumberToObject(reply, "version", PROTO_VERSION);
        finish(a, reply);
        return;
    case PROTO_OP_MODELS:
        list_models(a);
        return;
    case PROTO_OP_STATS:
        reply = proto_reply_new(a->req.id);
        cJSON_AddItemToObject(reply, "stats", stats_render(a->srv->stats));
        finish(a, reply);
        return;
    case PROTO_OP_RELOAD:
        reload(a, internal);
        return;
    }
    snprintf(a->err, sizeof a->err, "unhandled op");
    fail(a, PROTO_INTERNAL);
}

/* Receives one message of up to 3 frames from the broker. Returns the
 * frame count, or -1 when the context is shutting down. */
static int recv_job(void *sock, zmq_msg_t *f)
{
    int n = 0, more = 1;

    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            if (errno == EINTR)
                continue;
            for (int i = 0; i < n && i < 3; i++)
                zmq_msg_close(&f[i]);
            return -1;
        }
        more = zmq_msg_more(&m);
        if (n < 3) {
            zmq_msg_init(&f[n]);
            zmq_msg_move(&f[n], &m);
        }
        zmq_msg_close(&m);
        n++;
    }
    return n;
}

struct answerer *answerer_new(struct server *srv)
{
    struct answerer *a = xcalloc(1, sizeof *a);
    a->srv = srv;
    a->scratch = score_scratch_new();
    return a;
}

void answerer_free(struct answerer **ap)
{
    struct answerer *a = ap ? *ap : NULL;
    if (!a)
        return;
    proto_out_free(&a->out);
    score_scratch_free(&a->scratch);
    free(a);
    *ap = NULL;
}

const char *answerer_reply(struct answerer *a, const void *body, size_t blen, const struct envelope *env,
                           int quick_only, size_t *len)
{
    a->code = PROTO_OK;
    a->texts = 0;
    a->err[0] = '\0';
    a->quick_only = quick_only;
    a->deferred = 0;
    proto_out_reset(&a->out, KEEP_REPLY_BYTES);
    handle(a, body, blen, env);
    proto_request_clear(&a->req);
    if (a->deferred)
        return NULL;
    if (!env->internal)
        stats_record(a->srv->stats, a->code, a->texts, stats_now_ns() - env->arrival_ns);
    if (a->code != PROTO_OK)
        log_debug("request failed: %s: %s", proto_code_name(a->code), a->err);
    *len = a->out.len;
    return a->out.s;
}

void *worker_main(void *arg)
{
    struct server *srv = arg;
    void *sock = zmq_socket(srv->ctx, ZMQ_REQ);
    struct answerer *a;
    int linger = 0;

    if (!sock) {
        log_error("worker: zmq_socket: %s", zmq_strerror(errno));
        return NULL;
    }
    a = answerer_new(srv);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(sock, SERVER_BACKEND) < 0 || zmq_send(sock, "READY", 5, 0) < 0)
        goto out;
    for (;;) {
        zmq_msg_t f[3];
        struct envelope env;
        const char *reply;
        size_t len;
        int n = recv_job(sock, f);

        if (n < 0)
            break;
        if (n != 3) {
            /* The broker's STOP is one frame; anything else is a bug. */
            for (int i = 0; i < n && i < 3; i++)
                zmq_msg_close(&f[i]);
            break;
        }
        memcpy(&env, zmq_msg_data(&f[1]), sizeof env);
        reply = answerer_reply(a, zmq_msg_data(&f[2]), zmq_msg_size(&f[2]), &env, 0, &len);
        zmq_msg_close(&f[2]);
        if (zmq_msg_send(&f[0], sock, ZMQ_SNDMORE) < 0 || zmq_msg_send(&f[1], sock, ZMQ_SNDMORE) < 0 ||
            zmq_send(sock, reply, len, 0) < 0) {
            zmq_msg_close(&f[0]);
            zmq_msg_close(&f[1]);
            break;
        }
    }
out:
    zmq_close(sock);
    answerer_free(&a);
    return NULL;
}
