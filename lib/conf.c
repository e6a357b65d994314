/*
 * conf: the YAML loader. The file is read whole with libyaml's document API
 * (so every node keeps its line), then walked by one table of keys per
 * mapping. A key's table entry says its kind, where it lives in struct conf
 * and its bounds; defaults are set only in conf_defaults().
 */
#include "conf.h"
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
    K_SECTION     /* a nested mapping read with its own table, e.g. limits */
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

/* A later `security:` section is one more K_SECTION row with its own table. */
static const struct key top_keys[] = {
    { "endpoints", K_ENDPOINTS, 0, 0, 0, NULL },
    { "workers",   K_INT, offsetof(struct conf, workers), 1, MAX_WORKERS, NULL },
    { "log_level", K_LOG_LEVEL, offsetof(struct conf, log_level), 0, 0, NULL },
    { "limits",    K_SECTION, 0, 0, 0, limit_keys },
    { "models",    K_MODELS, 0, 0, 0, NULL },
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
    c->workers = cores < 1 ? 1 : cores > MAX_WORKERS ? MAX_WORKERS : (int)cores;
    c->log_level = CONF_LOG_INFO;
    c->limits.max_message_bytes = 16 * MIB;
    c->limits.max_texts = 1000;
    c->limits.max_text_bytes = 1 * MIB;
    c->limits.max_json_depth = 16;
    c->limits.max_queue = 256;
    c->limits.max_sentences = 20000;
    return c;
}

static void free_endpoints(struct conf *c)
{
    for (size_t i = 0; i < c->n_endpoints; i++)
        free(c->endpoints[i]);
    free(c->endpoints);
    c->endpoints = NULL;
    c->n_endpoints = 0;
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

static int load_endpoints(struct loader *L, struct conf *c, const yaml_node_t *n)
{
    yaml_node_item_t *it;
    size_t count;

    if (n->type != YAML_SEQUENCE_NODE)
        return fail(L, n, "endpoints must be a list of endpoint strings");
    count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0 || count > MAX_ENDPOINTS)
        return fail(L, n, "endpoints must list between 1 and %d endpoints", MAX_ENDPOINTS);
    free_endpoints(c);
    c->endpoints = xcalloc(count, sizeof *c->endpoints);
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = yaml_document_get_node(L->doc, *it);
        if (want_scalar(L, e, "an endpoint") < 0)
            return -1;
        if (!strstr(scalar(e), "://"))
            return fail(L, e, "endpoint \"%s\" is not of the form transport://address", scalar(e));
        c->endpoints[c->n_endpoints++] = xstrdup(scalar(e));
    }
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
            if (load_endpoints(L, c, vn) < 0)
                return -1;
            break;
        case K_MODELS:
            if (load_models(L, c, vn) < 0)
                return -1;
            break;
        case K_SECTION:
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
    struct loader L = { NULL, path, NULL, err, errlen };
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
    if (rc == 0 && c->n_models == 0)
        rc = fail(&L, root, "no models: the models key is required");
    yaml_document_delete(&doc);
    free(L.base);
    if (rc < 0)
        conf_free(&c);
    return c;
}
