/*
 * proto: request parsing and reply rendering. Hostile bodies are stopped as
 * early as possible: the size cap first, then one linear scan for nesting
 * depth, NULs (cJSON would otherwise recurse on depth and silently cut
 * strings at an escaped NUL) and invalid UTF-8 inside strings, then the
 * parser, then a type check of every field against the fields the
 * operation allows.
 */
#include "proto.h"
#include "swar.h"
#include "text.h"
#include "xalloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const code_names[PROTO_NCODES] = {
    [PROTO_OK] = "ok",
    [PROTO_BAD_JSON] = "bad_json",
    [PROTO_BAD_REQUEST] = "bad_request",
    [PROTO_BAD_UTF8] = "bad_utf8",
    [PROTO_EMPTY_TEXT] = "empty_text",
    [PROTO_TOO_LARGE] = "too_large",
    [PROTO_TOO_MANY_TEXTS] = "too_many_texts",
    [PROTO_UNKNOWN_MODEL] = "unknown_model",
    [PROTO_UNKNOWN_OP] = "unknown_op",
    [PROTO_BUSY] = "busy",
    [PROTO_RELOAD_FAILED] = "reload_failed",
    [PROTO_INTERNAL] = "internal",
    [PROTO_FORBIDDEN] = "forbidden",
    [PROTO_UNAVAILABLE] = "unavailable",
};

const char *proto_code_name(enum proto_code code)
{
    if ((unsigned)code < PROTO_NCODES)
        return code_names[code];
    return "internal";
}

static const struct {
    const char *name;
    enum proto_op op;
} ops[] = {
    { "classify", PROTO_OP_CLASSIFY },
    { "ping", PROTO_OP_PING },
    { "models", PROTO_OP_MODELS },
    { "stats", PROTO_OP_STATS },
    { "reload", PROTO_OP_RELOAD },
};

static const char *const classify_fields[] = { "id", "op", "text", "texts", "models", "split", "explain", NULL };
static const char *const other_fields[] = { "id", "op", NULL };

/* Cuts s before its first invalid sequence. Messages quote client strings
 * (valid UTF-8 by then) with a length cap, and a cap or a full buffer can
 * split a character; a reply must stay valid UTF-8. */
static void trim_utf8(char *s)
{
    size_t bad;

    if (!text_is_valid_utf8(s, strlen(s), &bad))
        s[bad] = '\0';
}

static enum proto_code failf(enum proto_code code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum proto_code failf(enum proto_code code, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    trim_utf8(err);
    return code;
}

/* One pass over the raw bytes: nesting depth outside strings, raw NUL
 * bytes, and \u0000 escapes inside strings fail at once. The offset of
 * the first invalid UTF-8 inside a string goes to *bad_utf8 (else
 * NO_BAD_UTF8) and the scan goes on, so that the request's id can still
 * be read for the error reply. Checking the raw strings is enough: cJSON
 * turns the other escapes into valid UTF-8 or rejects them (a lone
 * surrogate), so every key and string of the parsed tree, and every reply
 * that quotes one, is valid too. */
#define NO_BAD_UTF8 ((size_t)-1)

static enum proto_code prescan(const char *s, size_t len, size_t max_depth, size_t *bad_utf8,
                               char *err, size_t errlen)
{
    size_t depth = 0;
    int in_string = 0;

    *bad_utf8 = NO_BAD_UTF8;

    for (size_t i = 0; i < len; i++) {
        /* Strings, the texts, are nearly all of a request: cross their
         * plain stretches eight bytes at a time. */
        if (in_string)
            for (uint64_t x; i + 8 <= len; i += 8) {
                x = swar_load(s + i);
                if (swar_has(x, '"') | swar_has(x, '\\') | swar_has(x, 0) | swar_high(x))
                    break;
            }
        if (i == len)
            break;
        char c = s[i];
        if (c == '\0')
            return failf(PROTO_BAD_JSON, err, errlen, "NUL byte at byte %zu", i);
        if (in_string) {
            if ((unsigned char)c >= 0x80) {
                size_t n = text_utf8_char_len(s, len, i);
                if (n == 0 && *bad_utf8 == NO_BAD_UTF8)
                    *bad_utf8 = i;
                i += n ? n - 1 : 0;
            } else if (c == '\\') {
                if (i + 5 < len && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0)
                    return failf(PROTO_BAD_UTF8, err, errlen, "\\u0000 at byte %zu: strings may not hold NUL", i);
                i++;
            } else if (c == '"') {
                in_string = 0;
            }
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return failf(PROTO_BAD_JSON, err, errlen, "nested deeper than %zu at byte %zu", max_depth, i);
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return PROTO_OK;
}

/* An id fit to be quoted back: a scalar, and valid UTF-8 when the body
 * held invalid UTF-8 somewhere (the id may be where). */
static int is_quotable_id(const cJSON *id, size_t bad_utf8)
{
    if (cJSON_IsString(id))
        return bad_utf8 == NO_BAD_UTF8 || text_is_valid_utf8(id->valuestring, strlen(id->valuestring), NULL);
    return cJSON_IsNumber(id) || cJSON_IsBool(id) || cJSON_IsNull(id);
}

static cJSON *parse_json(const char *body, size_t len, char *err, size_t errlen, enum proto_code *code)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);

    if (!root) {
        size_t at = end && end >= body ? (size_t)(end - body) : 0;
        *code = failf(PROTO_BAD_JSON, err, errlen, "invalid JSON at byte %zu", at);
        return NULL;
    }
    for (; end < body + len; end++)
        if (!(*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) {
            *code = failf(PROTO_BAD_JSON, err, errlen, "trailing bytes after the JSON value at byte %zu",
                          (size_t)(end - body));
            cJSON_Delete(root);
            return NULL;
        }
    *code = PROTO_OK;
    return root;
}

static int allowed(const char *const *fields, const char *name)
{
    for (; *fields; fields++)
        if (strcmp(*fields, name) == 0)
            return 1;
    return 0;
}

static enum proto_code check_fields(const cJSON *root, const char *const *fields, char *err, size_t errlen)
{
    for (const cJSON *f = root->child; f; f = f->next) {
        if (!allowed(fields, f->string))
            return failf(PROTO_BAD_REQUEST, err, errlen, "unknown field \"%.64s\"", f->string);
        for (const cJSON *g = root->child; g != f; g = g->next)
            if (strcmp(g->string, f->string) == 0)
                return failf(PROTO_BAD_REQUEST, err, errlen, "field \"%.64s\" is given twice", f->string);
    }
    return PROTO_OK;
}

static enum proto_code one_text(struct proto_request *req, const cJSON *t, size_t i,
                                const struct proto_limits *lim, char *err, size_t errlen)
{
    size_t n;

    if (!cJSON_IsString(t))
        return req->batch ? failf(PROTO_BAD_REQUEST, err, errlen, "texts[%zu] must be a string", i)
                          : failf(PROTO_BAD_REQUEST, err, errlen, "text must be a string");
    n = strlen(t->valuestring);
    if (n > lim->max_text_bytes)
        return failf(PROTO_TOO_LARGE, err, errlen, "text %zu is %zu bytes; the limit is %zu",
                     i, n, lim->max_text_bytes);
    if (n == 0)
        return failf(PROTO_EMPTY_TEXT, err, errlen, "text %zu is empty", i);
    req->texts[i] = t->valuestring;
    req->lens[i] = n;
    return PROTO_OK;
}

static enum proto_code parse_classify(struct proto_request *req, const struct proto_limits *lim,
                                      char *err, size_t errlen)
{
    const cJSON *root = req->root;
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "text");
    const cJSON *texts = cJSON_GetObjectItemCaseSensitive(root, "texts");
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(root, "split");
    const cJSON *explain = cJSON_GetObjectItemCaseSensitive(root, "explain");
    enum proto_code code;
    size_t i;

    if (!text == !texts)
        return failf(PROTO_BAD_REQUEST, err, errlen, "give exactly one of text and texts");
    req->split = 1;
    if (split) {
        if (!cJSON_IsBool(split))
            return failf(PROTO_BAD_REQUEST, err, errlen, "split must be true or false");
        req->split = cJSON_IsTrue(split);
    }
    if (explain) {
        double v = explain->valuedouble;
        if (!cJSON_IsNumber(explain) || v < 0 || v > PROTO_MAX_EXPLAIN || v != floor(v))
            return failf(PROTO_BAD_REQUEST, err, errlen, "explain must be an integer from 0 to %d",
                         PROTO_MAX_EXPLAIN);
        req->explain = (size_t)v;
    }
    if (models) {
        size_t n = 0;
        if (!cJSON_IsArray(models))
            return failf(PROTO_BAD_REQUEST, err, errlen, "models must be an array of model names");
        for (const cJSON *m = models->child; m; m = m->next) {
            if (!cJSON_IsString(m))
                return failf(PROTO_BAD_REQUEST, err, errlen, "models[%zu] must be a string", n);
            if (++n > PROTO_MAX_MODELS)
                return failf(PROTO_BAD_REQUEST, err, errlen, "models names more than %d models",
                             PROTO_MAX_MODELS);
        }
        if (n == 0)
            return failf(PROTO_BAD_REQUEST, err, errlen, "models must name at least one model");
        req->models = xcalloc(n, sizeof *req->models);
        for (const cJSON *m = models->child; m; m = m->next) {
            for (i = 0; i < req->nmodels; i++)
                if (strcmp(req->models[i], m->valuestring) == 0)
                    return failf(PROTO_BAD_REQUEST, err, errlen, "model \"%.64s\" is named twice",
                                 m->valuestring);
            req->models[req->nmodels++] = m->valuestring;
        }
    }
    if (text) {
        req->ntexts = 1;
        req->texts = xcalloc(1, sizeof *req->texts);
        req->lens = xcalloc(1, sizeof *req->lens);
        return one_text(req, text, 0, lim, err, errlen);
    }
    req->batch = 1;
    if (!cJSON_IsArray(texts))
        return failf(PROTO_BAD_REQUEST, err, errlen, "texts must be an array of strings");
    for (const cJSON *t = texts->child; t; t = t->next)
        if (++req->ntexts > lim->max_texts)
            return failf(PROTO_TOO_MANY_TEXTS, err, errlen, "more than %zu texts in one batch",
                         lim->max_texts);
    if (req->ntexts == 0)
        return failf(PROTO_BAD_REQUEST, err, errlen, "texts must hold at least one text");
    req->texts = xcalloc(req->ntexts, sizeof *req->texts);
    req->lens = xcalloc(req->ntexts, sizeof *req->lens);
    i = 0;
    for (const cJSON *t = texts->child; t; t = t->next, i++)
        if ((code = one_text(req, t, i, lim, err, errlen)) != PROTO_OK)
            return code;
    return PROTO_OK;
}

enum proto_code proto_parse(const char *body, size_t len, const struct proto_limits *lim,
                            struct proto_request *req, char *err, size_t errlen)
{
    const cJSON *id, *op;
    enum proto_code code;
    size_t bad_utf8;

    memset(req, 0, sizeof *req);
    if (len > lim->max_message_bytes)
        return failf(PROTO_TOO_LARGE, err, errlen, "the message is %zu bytes; the limit is %zu",
                     len, lim->max_message_bytes);
    if ((code = prescan(body, len, lim->max_json_depth, &bad_utf8, err, errlen)) != PROTO_OK)
        return code;
    if (!(req->root = parse_json(body, len, err, errlen, &code)))
        return code;
    if (!cJSON_IsObject(req->root))
        return failf(PROTO_BAD_REQUEST, err, errlen, "the request must be a JSON object");
    id = cJSON_GetObjectItemCaseSensitive(req->root, "id");
    if (id && is_quotable_id(id, bad_utf8))
        req->id = id;
    if (bad_utf8 != NO_BAD_UTF8)
        return failf(PROTO_BAD_UTF8, err, errlen, "invalid UTF-8 in a string at byte %zu", bad_utf8);
    if (id && !req->id)
        return failf(PROTO_BAD_REQUEST, err, errlen, "id must be a string, number, boolean or null");
    op = cJSON_GetObjectItemCaseSensitive(req->root, "op");
    req->op = PROTO_OP_CLASSIFY;
    if (op) {
        size_t i;
        if (!cJSON_IsString(op))
            return failf(PROTO_BAD_REQUEST, err, errlen, "op must be a string");
        for (i = 0; i < sizeof ops / sizeof ops[0] && strcmp(ops[i].name, op->valuestring) != 0; i++)
            ;
        if (i == sizeof ops / sizeof ops[0])
            return failf(PROTO_UNKNOWN_OP, err, errlen, "unknown op \"%.64s\"", op->valuestring);
        req->op = ops[i].op;
    }
    if (req->op != PROTO_OP_CLASSIFY)
        return check_fields(req->root, other_fields, err, errlen);
    if ((code = check_fields(req->root, classify_fields, err, errlen)) != PROTO_OK)
        return code;
    return parse_classify(req, lim, err, errlen);
}

void proto_request_clear(struct proto_request *req)
{
    cJSON_Delete(req->root);
    free(req->texts);
    free(req->lens);
    free(req->models);
    memset(req, 0, sizeof *req);
}

cJSON *proto_peek_id(const char *body, size_t len, size_t max_len)
{
    char err[128];
    enum proto_code code;
    const cJSON *id;
    cJSON *root, *copy = NULL;
    size_t bad_utf8;

    if (len > max_len || prescan(body, len, 64, &bad_utf8, err, sizeof err) != PROTO_OK)
        return NULL;
    if (!(root = parse_json(body, len, err, sizeof err, &code)))
        return NULL;
    id = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (cJSON_IsObject(root) && id && is_quotable_id(id, bad_utf8))
        copy = cJSON_Duplicate(id, 0);
    cJSON_Delete(root);
    return copy;
}

cJSON *proto_reply_new(const cJSON *id)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "id", id ? cJSON_Duplicate(id, 0) : cJSON_CreateNull());
    return r;
}

char *proto_print(const cJSON *reply, size_t *len)
{
    char *s = cJSON_PrintUnformatted(reply);

    /* cJSON returns NULL only when its allocator fails; the client still
     * gets a reply. */
    if (!s)
        s = xstrdup("{\"id\":null,\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
    *len = strlen(s);
    return s;
}

/* ---- the reply writer ---- */

static __attribute__((noinline)) void grow(struct proto_out *o, size_t n)
{
    size_t cap = o->cap ? o->cap : 1024;
    while (o->len + n + 1 > cap)
        cap *= 2;
    o->s = xrealloc(o->s, cap);
    o->cap = cap;
}

/* Room for n more bytes and the NUL. A reply makes tens of small writes
 * per sentence, so the check stays inline and the growing does not. */
static inline char *room(struct proto_out *o, size_t n)
{
    if (o->len + n + 1 > o->cap)
        grow(o, n);
    return o->s + o->len;
}

static inline void put(struct proto_out *o, const char *s, size_t n)
{
    memcpy(room(o, n), s, n);
    o->len += n;
    o->s[o->len] = '\0';
}

#define PUT(o, lit) put(o, lit, sizeof lit - 1)

static inline void put_char(struct proto_out *o, char c)
{
    *room(o, 1) = c;
    o->s[++o->len] = '\0';
}

/* A JSON string escaped as cJSON escapes it: the quote, the backslash and
 * control characters; everything else, UTF-8 included, as it is. Runs of
 * plain bytes are copied whole, as sentences are mostly plain. */
static void put_string(struct proto_out *o, const char *s, size_t n)
{
    size_t i = 0;

    put_char(o, '"');
    while (i < n) {
        size_t j = i;
        for (; j + 8 <= n; j += 8) {
            uint64_t x = swar_load(s + j);
            if (swar_less(x, 0x20) | swar_has(x, '"') | swar_has(x, '\\'))
                break;
        }
        while (j < n && (unsigned char)s[j] >= 0x20 && s[j] != '"' && s[j] != '\\')
            j++;
        put(o, s + i, j - i);
        if (j == n)
            break;
        unsigned char c = (unsigned char)s[j];
        char esc[8];
        switch (c) {
        case '"': put(o, "\\\"", 2); break;
        case '\\': put(o, "\\\\", 2); break;
        case '\b': put(o, "\\b", 2); break;
        case '\f': put(o, "\\f", 2); break;
        case '\n': put(o, "\\n", 2); break;
        case '\r': put(o, "\\r", 2); break;
        case '\t': put(o, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(o, esc, 6);
        }
        i = j + 1;
    }
    put_char(o, '"');
}

/* s quoted, then the character after (':' after a key; '\0' for none).
 * Model and label names, keys and most values need no escaping: those
 * take one write. */
static void put_quoted(struct proto_out *o, const char *s, char after)
{
    size_t n = strlen(s), i = 0;
    char *p;

    for (; i + 8 <= n; i += 8) {
        uint64_t x = swar_load(s + i);
        if (swar_less(x, 0x20) | swar_has(x, '"') | swar_has(x, '\\'))
            break;
    }
    for (; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\') {
            put_string(o, s, n);
            if (after)
                put_char(o, after);
            return;
        }
    p = room(o, n + 3);
    p[0] = '"';
    memcpy(p + 1, s, n);
    p[n + 1] = '"';
    p[n + 2] = after;
    o->len += n + 2 + (after != '\0');
    o->s[o->len] = '\0';
}

static void put_cstring(struct proto_out *o, const char *s)
{
    put_quoted(o, s, '\0');
}

/* "key": */
static void put_key(struct proto_out *o, const char *key)
{
    put_quoted(o, key, ':');
}

static void put_size(struct proto_out *o, size_t v)
{
    char buf[24];
    int i = sizeof buf;

    do
        buf[--i] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    put(o, buf + i, sizeof buf - (size_t)i);
}

/* A probability to six decimals by integer arithmetic: several per
 * sentence, and printf's float conversion is the slow part. */
static void put_probability(struct proto_out *o, double p)
{
    char buf[8];
    long v = lround(p * 1e6);
    int end = 8;

    if (!(v > 0)) {
        put_char(o, '0');
        return;
    }
    if (v >= 1000000) {
        put_char(o, '1');
        return;
    }
    memcpy(buf, "0.", 2);
    for (int i = 7; i >= 2; i--, v /= 10)
        buf[i] = (char)('0' + v % 10);
    while (buf[end - 1] == '0')
        end--;
    put(o, buf, (size_t)end);
}

/* An explanation weight: six significant digits, null when not finite. */
static void put_weight(struct proto_out *o, double x)
{
    char buf[32];

    if (!isfinite(x)) {
        PUT(o, "null");
        return;
    }
    put(o, buf, (size_t)snprintf(buf, sizeof buf, "%.6g", x));
}

/* The id as the request gave it: strings escaped here, the other scalars
 * printed by cJSON so that numbers come out exactly as they always have. */
static void put_id(struct proto_out *o, const cJSON *id)
{
    char buf[64];

    if (!id || cJSON_IsNull(id)) {
        PUT(o, "null");
    } else if (cJSON_IsString(id)) {
        put_cstring(o, id->valuestring);
    } else if (cJSON_PrintPreallocated((cJSON *)id, buf, sizeof buf, 0)) {
        put(o, buf, strlen(buf));
    } else {
        char *s = cJSON_PrintUnformatted(id);
        if (s)
            put(o, s, strlen(s));
        else
            PUT(o, "null");
        free(s);
    }
}

void proto_out_reset(struct proto_out *o, size_t keep)
{
    if (o->cap > keep)
        proto_out_free(o);
    o->len = 0;
    if (o->s)
        o->s[0] = '\0';
}

void proto_out_free(struct proto_out *o)
{
    free(o->s);
    memset(o, 0, sizeof *o);
}

void proto_out_tree(struct proto_out *o, const cJSON *reply)
{
    size_t len;
    char *s = proto_print(reply, &len);

    put(o, s, len);
    free(s);
}

void proto_out_error(struct proto_out *o, const cJSON *id, enum proto_code code, const char *message)
{
    char *msg = xstrdup(message ? message : "");

    trim_utf8(msg);
    PUT(o, "{\"id\":");
    put_id(o, id);
    PUT(o, ",\"error\":{\"code\":");
    put_cstring(o, proto_code_name(code));
    PUT(o, ",\"message\":");
    put_cstring(o, msg);
    PUT(o, "}}");
    free(msg);
}

char *proto_error_reply(const cJSON *id, enum proto_code code, const char *message, size_t *len)
{
    struct proto_out o = { 0 };

    proto_out_error(&o, id, code, message);
    *len = o.len;
    return o.s;
}

void proto_out_results_begin(struct proto_out *o, const cJSON *id)
{
    PUT(o, "{\"id\":");
    put_id(o, id);
    PUT(o, ",\"results\":[");
}

void proto_out_results_end(struct proto_out *o)
{
    PUT(o, "]}");
}

/* {label: p, ...} */
static void put_scores(struct proto_out *o, const struct bundle *b, const struct score_result *r)
{
    put_char(o, '{');
    for (int l = 0; l < bundle_label_count(b); l++) {
        if (l > 0)
            put_char(o, ',');
        put_key(o, bundle_label(b, l));
        put_probability(o, r->prob[l]);
    }
    put_char(o, '}');
}

/* "label":{model:label},"scores":{model:{label:p}} */
static void put_labels(struct proto_out *o, const struct doc_result *d, const struct score_result *res)
{
    PUT(o, "\"label\":{");
    for (size_t m = 0; m < d->nmodels; m++) {
        if (m > 0)
            put_char(o, ',');
        put_key(o, d->models[m].name);
        put_cstring(o, bundle_label(d->models[m].bundle, res[m].label));
    }
    PUT(o, "},\"scores\":{");
    for (size_t m = 0; m < d->nmodels; m++) {
        if (m > 0)
            put_char(o, ',');
        put_key(o, d->models[m].name);
        put_scores(o, d->models[m].bundle, &res[m]);
    }
    put_char(o, '}');
}

/* [[feature, weight], ...] */
static void put_reasons(struct proto_out *o, const struct score_reason *r, size_t n)
{
    put_char(o, '[');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            put_char(o, ',');
        put_char(o, '[');
        put_cstring(o, r[i].feature);
        put_char(o, ',');
        put_weight(o, r[i].weight);
        put_char(o, ']');
    }
    put_char(o, ']');
}

/* ,"explain":{model: {"for": [...], "against": [...]} or null}, when asked */
static void put_explain(struct proto_out *o, const struct doc_result *d, const struct doc_unit *u)
{
    if (!u->explain)
        return;
    PUT(o, ",\"explain\":{");
    for (size_t m = 0; m < d->nmodels; m++) {
        const struct doc_explain *e = &u->explain[m];
        if (m > 0)
            put_char(o, ',');
        put_key(o, d->models[m].name);
        if (!e->available) {
            PUT(o, "null");
            continue;
        }
        PUT(o, "{\"for\":");
        put_reasons(o, e->pro, e->npro);
        PUT(o, ",\"against\":");
        put_reasons(o, e->con, e->ncon);
        put_char(o, '}');
    }
    put_char(o, '}');
}

static void put_sentence(struct proto_out *o, const struct doc_result *d, const struct doc_unit *u)
{
    PUT(o, "{\"text\":");
    put_string(o, d->text + u->start, u->end - u->start);
    PUT(o, ",\"start\":");
    put_size(o, u->start);
    PUT(o, ",\"end\":");
    put_size(o, u->end);
    PUT(o, ",\"char_start\":");
    put_size(o, u->char_start);
    PUT(o, ",\"char_end\":");
    put_size(o, u->char_end);
    PUT(o, ",\"speaker\":");
    if (u->speaker)
        put_cstring(o, u->speaker);
    else
        PUT(o, "null");
    put_char(o, ',');
    put_labels(o, d, u->res);
    put_explain(o, d, u);
    put_char(o, '}');
}

/* "counts":{model:{label:n}},"speakers":{name:{model:{...}}} */
static void put_summary(struct proto_out *o, const struct doc_result *d)
{
    PUT(o, ",\"counts\":{");
    for (size_t m = 0; m < d->nmodels; m++) {
        const struct bundle *b = d->models[m].bundle;
        if (m > 0)
            put_char(o, ',');
        put_key(o, d->models[m].name);
        put_char(o, '{');
        for (int l = 0; l < bundle_label_count(b); l++) {
            if (l > 0)
                put_char(o, ',');
            put_key(o, bundle_label(b, l));
            put_size(o, d->counts[m][l]);
        }
        put_char(o, '}');
    }
    PUT(o, "},\"speakers\":{");
    for (size_t k = 0; k < d->nspeakers; k++) {
        const struct doc_speaker *sp = &d->speakers[k];
        if (k > 0)
            put_char(o, ',');
        put_key(o, sp->name);
        put_char(o, '{');
        for (size_t m = 0; m < d->nmodels; m++) {
            const struct bundle *b = d->models[m].bundle;
            if (m > 0)
                put_char(o, ',');
            put_key(o, d->models[m].name);
            PUT(o, "{\"label\":");
            put_cstring(o, bundle_label(b, sp->res[m].label));
            PUT(o, ",\"scores\":");
            put_scores(o, b, &sp->res[m]);
            PUT(o, ",\"sentences\":");
            put_size(o, sp->sentences);
            put_char(o, '}');
        }
        put_char(o, '}');
    }
    put_char(o, '}');
}

void proto_out_doc(struct proto_out *o, const struct doc_result *d)
{
    if (o->len > 0 && o->s[o->len - 1] != '[')
        put_char(o, ',');
    put_char(o, '{');
    put_labels(o, d, d->summary);
    if (!d->split) {
        put_explain(o, d, &d->units[0]);
        put_char(o, '}');
        return;
    }
    put_summary(o, d);
    PUT(o, ",\"sentences\":[");
    for (size_t i = 0; i < d->nunits; i++) {
        if (i > 0)
            put_char(o, ',');
        put_sentence(o, d, &d->units[i]);
    }
    PUT(o, "]}");
}
