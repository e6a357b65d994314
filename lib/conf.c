/*
 * conf: the YAML loader. The file is read whole with libyaml's document API
 * (so every node keeps its line), then walked by one table of keys per
 * mapping. A key's table entry says its kind, where it lives in struct conf
 * and its bounds; defaults are set only in conf_defaults().
 */
#include "conf.h"
#include "keys.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#define MAX_ENDPOINTS 64
#define MAX_MODELS 64
#define MAX_MODEL_NAME 64
#define MAX_WORKERS 256

enum kind {
    K_COUNT,      /* size_t within [min, max] */
    K_INT,        /* int within [min, max] */
    K_LOG_LEVEL,
    K_ENDPOINTS,
    K_MODELS,
    K_BOOL,       /* int, true or false */
    K_STRING,     /* char *, non-empty */
    K_PATH,       /* char *, a file resolved against the config's directory */
    K_KEY,        /* char *, a Z85 key as it is, or else a file like K_PATH */
    K_ENDPOINT,   /* char *, one transport://address */
    K_FRONTEND,   /* broker.frontend, a list like endpoints */
    K_SECTION     /* a nested mapping read with its own table, e.g. limits;
                   * offset, when not 0, is an int set to 1 when given */
};

struct key {
    const char *name;
    enum kind kind;
    size_t offset;            /* into struct conf, for the scalar kinds */
    unsigned long long min, max;
    const struct key *section;
};

#define KIB 1024ULL
#define MIB (1024ULL * 1024ULL)

static const struct key limit_keys[] = {
    { "max_message_bytes", K_COUNT, offsetof(struct conf, limits.max_message_bytes), KIB, 1024 * MIB, NULL },
    { "max_texts",         K_COUNT, offsetof(struct conf, limits.max_texts),         1, 1000000, NULL },
    { "max_text_bytes",    K_COUNT, offsetof(struct conf, limits.max_text_bytes),    1, 1024 * MIB, NULL },
    { "max_json_depth",    K_COUNT, offsetof(struct conf, limits.max_json_depth),    2, 512, NULL },
    { "max_queue",         K_COUNT, offsetof(struct conf, limits.max_queue),         1, 1000000, NULL },
    { "max_sentences",     K_COUNT, offsetof(struct conf, limits.max_sentences),     1, 10000000, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const struct key security_keys[] = {
    { "secret_key",      K_PATH, offsetof(struct conf, security.secret_key), 0, 0, NULL },
    { "authorized_keys", K_PATH, offsetof(struct conf, security.authorized_keys), 0, 0, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const struct key broker_keys[] = {
    { "frontend",     K_FRONTEND, 0, 0, 0, NULL },
    { "backend",      K_ENDPOINT, offsetof(struct conf, broker.backend), 0, 0, NULL },
    { "heartbeat_ms", K_INT, offsetof(struct conf, broker.heartbeat_ms), 100, 60000, NULL },
    { "liveness",     K_INT, offsetof(struct conf, broker.liveness), 2, 100, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const struct key upstream_keys[] = {
    { "endpoint",     K_ENDPOINT, offsetof(struct conf, upstream.endpoint), 0, 0, NULL },
    { "server_key",   K_KEY, offsetof(struct conf, upstream.server_key), 0, 0, NULL },
    { "name",         K_STRING, offsetof(struct conf, upstream.name), 0, 0, NULL },
    { "heartbeat_ms", K_INT, offsetof(struct conf, upstream.heartbeat_ms), 100, 60000, NULL },
    { "liveness",     K_INT, offsetof(struct conf, upstream.liveness), 2, 100, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const struct key top_keys[] = {
    { "endpoints", K_ENDPOINTS, 0, 0, 0, NULL },
    { "workers",   K_INT, offsetof(struct conf, workers), 1, MAX_WORKERS, NULL },
    { "log_level", K_LOG_LEVEL, offsetof(struct conf, log_level), 0, 0, NULL },
    { "limits",    K_SECTION, 0, 0, 0, limit_keys },
    { "models",    K_MODELS, 0, 0, 0, NULL },
    { "allow_plaintext_network", K_BOOL, offsetof(struct conf, allow_plaintext_network), 0, 0, NULL },
    { "security",  K_SECTION, offsetof(struct conf, has_security), 0, 0, security_keys },
    { "broker",    K_SECTION, offsetof(struct conf, has_broker), 0, 0, broker_keys },
    { "upstream",  K_SECTION, offsetof(struct conf, has_upstream), 0, 0, upstream_keys },
    { NULL, 0, 0, 0, 0, NULL }
};

static const char *const level_names[] = { "error", "warn", "info", "debug" };

struct conf *conf_defaults(void)
{
    struct conf *c = xcalloc(1, sizeof *c);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    c->endpoints = xmalloc(sizeof *c->endpoints);
    c->endpoints[0] = xstrdup("tcp://127.0.0.1:5555");
    c->n_endpoints = 1;
    /* One worker more than cores: while a worker waits for the broker to
     * hand it its next request, the spare one keeps that core busy
     * (batches of 100 on 2 cores: 3-5% more sentences/s than 2 workers). */
    c->workers = cores < 1 ? 2 : cores >= MAX_WORKERS ? MAX_WORKERS : (int)cores + 1;
    c->log_level = CONF_LOG_INFO;
    c->limits.max_message_bytes = 16 * MIB;
    c->limits.max_texts = 1000;
    c->limits.max_text_bytes = 1 * MIB;
    c->limits.max_json_depth = 16;
    c->limits.max_queue = 256;
    c->limits.max_sentences = 20000;
    c->broker.heartbeat_ms = 1000;
    c->broker.liveness = 3;
    c->upstream.heartbeat_ms = 1000;
    c->upstream.liveness = 3;
    return c;
}

static void free_list(char ***v, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

static void free_endpoints(struct conf *c)
{
    free_list(&c->endpoints, &c->n_endpoints);
}

void conf_free(struct conf **cp)
{
    struct conf *c;

    if (!cp || !*cp)
        return;
    c = *cp;
    free_endpoints(c);
    for (size_t i = 0; i < c->n_models; i++) {
        free(c->models[i].name);
        free(c->models[i].dir);
    }
    free(c->models);
    free(c->security.secret_key);
    free(c->security.authorized_keys);
    free_list(&c->broker.frontend, &c->broker.n_frontend);
    free(c->broker.backend);
    free(c->upstream.endpoint);
    free(c->upstream.server_key);
    free(c->upstream.name);
    free(c->path);
    free(c);
    *cp = NULL;
}

const char *conf_log_level_name(enum conf_log_level level)
{
    if ((unsigned)level < sizeof level_names / sizeof level_names[0])
        return level_names[level];
    return "?";
}

/* The loader's state: the document, where errors are reported, and the
 * directory relative model paths are resolved against. */
struct loader {
    yaml_document_t *doc;
    const char *path;
    char *base;          /* directory of path, with a trailing '/', or "" */
    char *err;
    size_t errlen;
    /* Where things were given, for the checks made once the whole file
     * is read: each network endpoint (by the string conf keeps) and the
     * sections. */
    struct { const char *ep; const yaml_node_t *node; } net[2 * MAX_ENDPOINTS + 2];
    size_t n_net;
    const yaml_node_t *endpoints_node, *security_node, *broker_node, *upstream_node;
};

static int fail(struct loader *L, const yaml_node_t *node, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(L->err, L->errlen, "%s:%lu: ", L->path,
                     node ? (unsigned long)node->start_mark.line + 1 : 1UL);

    if (n >= 0 && (size_t)n < L->errlen) {
        va_start(ap, fmt);
        vsnprintf(L->err + n, L->errlen - n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static int want_scalar(struct loader *L, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail(L, n, "%s must be a scalar", what);
    return 0;
}

/* Integers are plain decimal scalars: a quoted "8" is a string, and so is a
 * type error, like any other mistake in the file. */
static int parse_count(struct loader *L, const yaml_node_t *n, const char *name,
                       unsigned long long min, unsigned long long max,
                       unsigned long long *out)
{
    const char *s;
    char *end;
    unsigned long long v;

    if (want_scalar(L, n, name) < 0)
        return -1;
    s = scalar(n);
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || *s < '0' || *s > '9')
        return fail(L, n, "%s must be a non-negative integer, not \"%s\"", name, s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end != '\0')
        return fail(L, n, "%s must be a non-negative integer, not \"%s\"", name, s);
    if (errno == ERANGE || v < min || v > max)
        return fail(L, n, "%s is %s; it must be between %llu and %llu", name, s, min, max);
    *out = v;
    return 0;
}

static int load_log_level(struct loader *L, const yaml_node_t *n, enum conf_log_level *out)
{
    if (want_scalar(L, n, "log_level") < 0)
        return -1;
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (strcmp(scalar(n), level_names[i]) == 0) {
            *out = (enum conf_log_level)i;
            return 0;
        }
    return fail(L, n, "log_level must be error, warn, info or debug, not \"%s\"", scalar(n));
}

/* Reads one endpoint string and remembers where it was given. Caller
 * owns *out. */
static int load_endpoint(struct loader *L, const yaml_node_t *e, char **out)
{
    if (want_scalar(L, e, "an endpoint") < 0)
        return -1;
    if (!strstr(scalar(e), "://"))
        return fail(L, e, "endpoint \"%s\" is not of the form transport://address", scalar(e));
    *out = xstrdup(scalar(e));
    if (L->n_net < sizeof L->net / sizeof L->net[0]) {
        L->net[L->n_net].ep = *out;
        L->net[L->n_net++].node = e;
    }
    return 0;
}

/* A list of endpoints into *v, *n (replacing what was there). An empty
 * list is allowed here; whether it makes sense is checked at the end. */
static int load_endpoint_list(struct loader *L, const yaml_node_t *n, const char *what,
                              char ***v, size_t *nv)
{
    yaml_node_item_t *it;
    size_t count;

    if (n->type != YAML_SEQUENCE_NODE)
        return fail(L, n, "%s must be a list of endpoint strings", what);
    count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > MAX_ENDPOINTS)
        return fail(L, n, "%s must list at most %d endpoints", what, MAX_ENDPOINTS);
    free_list(v, nv);
    *v = xcalloc(count ? count : 1, sizeof **v);
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
        if (load_endpoint(L, yaml_document_get_node(L->doc, *it), &(*v)[(*nv)++]) < 0) {
            (*nv)--;
            return -1;
        }
    return 0;
}

static int load_bool(struct loader *L, const yaml_node_t *n, const char *name, int *out)
{
    if (want_scalar(L, n, name) < 0)
        return -1;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(scalar(n), "true") == 0)
        *out = 1;
    else if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(scalar(n), "false") == 0)
        *out = 0;
    else
        return fail(L, n, "%s must be true or false, not \"%s\"", name, scalar(n));
    return 0;
}

/* A non-empty string into *out (replacing it); a relative K_PATH, or a
 * K_KEY that is not a key itself, is resolved against the config's
 * directory. */
static int load_string(struct loader *L, const yaml_node_t *n, const char *name, enum kind kind, char **out)
{
    const char *s;
    int path;

    if (want_scalar(L, n, name) < 0)
        return -1;
    s = scalar(n);
    if (*s == '\0')
        return fail(L, n, "%s is empty", name);
    path = kind == K_PATH || (kind == K_KEY && !key_from_z85(s, strlen(s), NULL));
    free(*out);
    if (path && *s != '/') {
        size_t nb = strlen(L->base), ns = strlen(s);
        *out = xmalloc(nb + ns + 1);
        memcpy(*out, L->base, nb);
        memcpy(*out + nb, s, ns + 1);
    } else {
        *out = xstrdup(s);
    }
    return 0;
}

int conf_endpoint_is_local(const char *ep)
{
    const char *host, *colon;
    size_t n;

    if (strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "inproc://", 9) == 0)
        return 1;
    if (strncmp(ep, "tcp://", 6) != 0)
        return 0;
    host = ep + 6;
    colon = strrchr(host, ':');
    n = colon ? (size_t)(colon - host) : strlen(host);
    if (n > 4 && strncmp(host, "127.", 4) == 0) {
        for (size_t i = 4; i < n; i++)
            if (!((host[i] >= '0' && host[i] <= '9') || host[i] == '.'))
                return 0;
        return 1;
    }
    return (n == 5 && strncmp(host, "[::1]", 5) == 0) || (n == 9 && strncmp(host, "localhost", 9) == 0) ||
           (n == 2 && strncmp(host, "lo", 2) == 0);
}

static const yaml_node_t *where_net(const struct loader *L, const char *ep, const yaml_node_t *dflt)
{
    for (size_t i = 0; i < L->n_net; i++)
        if (L->net[i].ep == ep)
            return L->net[i].node;
    return dflt;
}

/* The checks that need the whole file: settings that must come together. */
static int check_whole(struct loader *L, struct conf *c, const yaml_node_t *root)
{
    const char *const *lists[2] = { (const char *const *)c->endpoints, (const char *const *)c->broker.frontend };
    size_t nlists[2] = { c->n_endpoints, c->broker.n_frontend };
    const char *singles[2] = { c->broker.backend, c->upstream.endpoint };

    if (c->has_broker) {
        if (c->n_models > 0)
            return fail(L, L->broker_node, "a broker serves no models itself: drop either models or broker");
        if (L->endpoints_node)
            return fail(L, L->endpoints_node, "a broker binds broker.frontend, not endpoints");
        if (c->has_upstream)
            return fail(L, L->upstream_node, "a broker has no upstream");
        if (c->broker.n_frontend == 0)
            return fail(L, L->broker_node, "broker.frontend must list the endpoints clients connect to");
        if (!c->broker.backend)
            return fail(L, L->broker_node, "broker.backend must name the endpoint daemons connect to");
        nlists[0] = 0;
    } else {
        if (c->n_models == 0)
            return fail(L, root, "no models: the models key is required (or a broker section, for stanced --broker)");
        if (c->has_upstream && !c->upstream.endpoint)
            return fail(L, L->upstream_node, "upstream.endpoint must name the broker's back end");
        if (c->n_endpoints == 0 && !c->has_upstream)
            return fail(L, L->endpoints_node, "endpoints must list between 1 and %d endpoints "
                        "(none only for a daemon with an upstream)", MAX_ENDPOINTS);
    }
    if (c->has_security) {
        if (!c->security.secret_key)
            return fail(L, L->security_node, "security.secret_key must name this server's secret key file");
        if (!c->security.authorized_keys && (c->has_broker || c->n_endpoints > 0))
            return fail(L, L->security_node, "security.authorized_keys must name the file of client keys");
        if (c->has_upstream && !c->upstream.server_key)
            return fail(L, L->upstream_node, "upstream.server_key must give the broker's public key when security is set");
        return 0;
    }
    if (c->has_upstream && c->upstream.server_key)
        return fail(L, L->upstream_node, "upstream.server_key needs a security section (this daemon's own key)");
    if (c->allow_plaintext_network)
        return 0;
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < nlists[l]; i++)
            if (!conf_endpoint_is_local(lists[l][i]))
                return fail(L, where_net(L, lists[l][i], root),
                            "endpoint %s is reachable beyond this machine and there is no security "
                            "section: add one (docs/deploy.md) or set allow_plaintext_network: true",
                            lists[l][i]);
    for (int i = 0; i < 2; i++)
        if (singles[i] && !conf_endpoint_is_local(singles[i]))
            return fail(L, where_net(L, singles[i], root),
                        "endpoint %s is reachable beyond this machine and there is no security "
                        "section: add one (docs/deploy.md) or set allow_plaintext_network: true",
                        singles[i]);
    return 0;
}

static int valid_model_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > MAX_MODEL_NAME)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

static int add_model(struct loader *L, struct conf *c, const yaml_node_t *kn, const yaml_node_t *vn)
{
    const char *name, *dir;

    if (want_scalar(L, kn, "a model name") < 0 || want_scalar(L, vn, "a model directory") < 0)
        return -1;
    name = scalar(kn);
    dir = scalar(vn);
    if (!valid_model_name(name))
        return fail(L, kn, "model name \"%s\" must be 1 to %d letters, digits, '_', '-' or '.'",
                    name, MAX_MODEL_NAME);
    if (*dir == '\0')
        return fail(L, vn, "model \"%s\" has an empty directory", name);
    for (size_t i = 0; i < c->n_models; i++)
        if (strcmp(c->models[i].name, name) == 0)
            return fail(L, kn, "model \"%s\" is listed twice", name);
    if (c->n_models == MAX_MODELS)
        return fail(L, kn, "more than %d models", MAX_MODELS);
    c->models[c->n_models].name = xstrdup(name);
    if (*dir == '/') {
        c->models[c->n_models].dir = xstrdup(dir);
    } else {
        size_t nb = strlen(L->base), nd = strlen(dir);
        char *p = xmalloc(nb + nd + 1);
        memcpy(p, L->base, nb);
        memcpy(p + nb, dir, nd + 1);
        c->models[c->n_models].dir = p;
    }
    c->n_models++;
    return 0;
}

/* models: either a mapping name -> directory, or a list of one-pair
 * mappings (for those who like to see the order as a list). */
static int load_models(struct loader *L, struct conf *c, const yaml_node_t *n)
{
    if (c->n_models > 0)
        return fail(L, n, "models is given twice");
    c->models = xcalloc(MAX_MODELS, sizeof *c->models);
    if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
            if (add_model(L, c, yaml_document_get_node(L->doc, p->key),
                          yaml_document_get_node(L->doc, p->value)) < 0)
                return -1;
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
            yaml_node_t *e = yaml_document_get_node(L->doc, *it);
            yaml_node_pair_t *p;
            if (e->type != YAML_MAPPING_NODE ||
                e->data.mapping.pairs.top - e->data.mapping.pairs.start != 1)
                return fail(L, e, "each entry of the models list must be one \"name: directory\" pair");
            p = e->data.mapping.pairs.start;
            if (add_model(L, c, yaml_document_get_node(L->doc, p->key),
                          yaml_document_get_node(L->doc, p->value)) < 0)
                return -1;
        }
    } else {
        return fail(L, n, "models must map model names to bundle directories");
    }
    if (c->n_models == 0)
        return fail(L, n, "models lists no model");
    return 0;
}

static int load_mapping(struct loader *L, struct conf *c, const yaml_node_t *n,
                        const struct key *table, const char *what)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail(L, n, "%s must be a mapping of keys to values", what);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
        const struct key *k;
        unsigned long long v;

        if (want_scalar(L, kn, "a key") < 0)
            return -1;
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *prev = yaml_document_get_node(L->doc, q->key);
            if (prev->type == YAML_SCALAR_NODE && strcmp(scalar(prev), scalar(kn)) == 0)
                return fail(L, kn, "key \"%s\" is given twice", scalar(kn));
        }
        for (k = table; k->name && strcmp(k->name, scalar(kn)) != 0; k++)
            ;
        if (!k->name)
            return fail(L, kn, "unknown key \"%s\" in %s", scalar(kn), what);
        switch (k->kind) {
        case K_COUNT:
            if (parse_count(L, vn, k->name, k->min, k->max, &v) < 0)
                return -1;
            *(size_t *)((char *)c + k->offset) = (size_t)v;
            break;
        case K_INT:
            if (parse_count(L, vn, k->name, k->min, k->max, &v) < 0)
                return -1;
            *(int *)((char *)c + k->offset) = (int)v;
            break;
        case K_LOG_LEVEL:
            if (load_log_level(L, vn, (enum conf_log_level *)((char *)c + k->offset)) < 0)
                return -1;
            break;
        case K_ENDPOINTS:
            L->endpoints_node = vn;
            if (load_endpoint_list(L, vn, "endpoints", &c->endpoints, &c->n_endpoints) < 0)
                return -1;
            break;
        case K_FRONTEND:
            if (load_endpoint_list(L, vn, "frontend", &c->broker.frontend, &c->broker.n_frontend) < 0)
                return -1;
            break;
        case K_ENDPOINT:
            free(*(char **)((char *)c + k->offset));
            *(char **)((char *)c + k->offset) = NULL;
            if (load_endpoint(L, vn, (char **)((char *)c + k->offset)) < 0)
                return -1;
            break;
        case K_BOOL:
            if (load_bool(L, vn, k->name, (int *)((char *)c + k->offset)) < 0)
                return -1;
            break;
        case K_STRING:
        case K_PATH:
        case K_KEY:
            if (load_string(L, vn, k->name, k->kind, (char **)((char *)c + k->offset)) < 0)
                return -1;
            break;
        case K_MODELS:
            if (load_models(L, c, vn) < 0)
                return -1;
            break;
        case K_SECTION:
            if (k->offset)
                *(int *)((char *)c + k->offset) = 1;
            if (k->section == security_keys)
                L->security_node = vn;
            else if (k->section == broker_keys)
                L->broker_node = vn;
            else if (k->section == upstream_keys)
                L->upstream_node = vn;
            if (load_mapping(L, c, vn, k->section, k->name) < 0)
                return -1;
            break;
        }
    }
    return 0;
}

static char *base_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? xstrndup(path, (size_t)(slash - path) + 1) : xstrdup("");
}

/* Parses the first YAML document of f into doc; a second document is an
 * error, since the rest of the file would otherwise be silently ignored. */
static int parse_file(struct loader *L, FILE *f, yaml_document_t *doc)
{
    yaml_parser_t parser;
    yaml_document_t extra;
    int rc = 0;

    if (!yaml_parser_initialize(&parser)) {
        snprintf(L->err, L->errlen, "%s: cannot initialise the YAML parser", L->path);
        return -1;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, doc)) {
        snprintf(L->err, L->errlen, "%s:%lu: YAML syntax error: %s", L->path,
                 (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "unknown");
        yaml_parser_delete(&parser);
        return -1;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        snprintf(L->err, L->errlen, "%s:%lu: YAML syntax error: %s", L->path,
                 (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "unknown");
        rc = -1;
    } else {
        if (yaml_document_get_root_node(&extra)) {
            fail(L, yaml_document_get_root_node(&extra), "only one YAML document is allowed");
            rc = -1;
        }
        yaml_document_delete(&extra);
    }
    yaml_parser_delete(&parser);
    if (rc < 0)
        yaml_document_delete(doc);
    return rc;
}

struct conf *conf_load(const char *path, char *err, size_t errlen)
{
    struct loader L = { .path = path, .err = err, .errlen = errlen };
    yaml_document_t doc;
    yaml_node_t *root;
    struct conf *c;
    FILE *f = fopen(path, "rb");
    int rc;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    rc = parse_file(&L, f, &doc);
    fclose(f);
    if (rc < 0)
        return NULL;
    L.doc = &doc;
    L.base = base_dir(path);
    c = conf_defaults();
    c->path = xstrdup(path);
    root = yaml_document_get_root_node(&doc);
    if (!root)
        rc = fail(&L, NULL, "the file is empty; at least models must be given");
    else
        rc = load_mapping(&L, c, root, top_keys, "the top level");
    if (rc == 0)
        rc = check_whole(&L, c, root);
    yaml_document_delete(&doc);
    free(L.base);
    if (rc < 0)
        conf_free(&c);
    return c;
}
