/*
 * feat: feature extraction and the vocabulary. Feature strings are built
 * in a fixed buffer inside the scratch and looked up by an FNV-1a hash in
 * an open-addressing table, so the hot path never allocates per token.
 *
 * Feature string forms: "troops" (word), "NOT_troops" (word in a negation's
 * scope), "send troops" (bigram), "c: tro" (character n-gram of a word
 * padded with spaces). The tokeniser never emits '_' or spaces inside a
 * word, so the forms cannot collide.
 */
#include "feat.h"
#include "tok.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FEAT_MAX 128  /* longer features are cut: no real n-gram is this long */

void feat_settings_default(struct feat_settings *fs)
{
    *fs = (struct feat_settings){
        .words = 1, .bigrams = 1, .char_min = 0, .char_max = 0, .negation = 1,
        .tf = FEAT_TF_LOG, .idf = 1, .nb = 1, .l2 = 1, .min_df = 1,
    };
}

static const char *const tf_names[] = { "binary", "raw", "log" };

const char *feat_tf_name(enum feat_tf tf)
{
    return tf_names[tf];
}

int feat_tf_parse(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, tf_names[i]) == 0)
            return i;
    return -1;
}

cJSON *feat_settings_to_json(const struct feat_settings *fs)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "words", fs->words);
    cJSON_AddBoolToObject(j, "bigrams", fs->bigrams);
    cJSON *c = cJSON_AddArrayToObject(j, "char_ngrams");
    cJSON_AddItemToArray(c, cJSON_CreateNumber(fs->char_min));
    cJSON_AddItemToArray(c, cJSON_CreateNumber(fs->char_max));
    cJSON_AddBoolToObject(j, "negation", fs->negation);
    cJSON_AddStringToObject(j, "tf", feat_tf_name(fs->tf));
    cJSON_AddBoolToObject(j, "idf", fs->idf);
    cJSON_AddBoolToObject(j, "nb", fs->nb);
    cJSON_AddBoolToObject(j, "l2", fs->l2);
    cJSON_AddNumberToObject(j, "min_df", fs->min_df);
    return j;
}

static int small_int(const cJSON *v, int lo, int hi, int *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble ||
        v->valuedouble < lo || v->valuedouble > hi)
        return -1;
    *out = (int)v->valuedouble;
    return 0;
}

int feat_settings_from_json(const cJSON *j, struct feat_settings *fs, char *err, size_t errlen)
{
    feat_settings_default(fs);
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "features: expected a mapping");
        return -1;
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, j) {
        const char *k = v->string;
        int *flag = strcmp(k, "words") == 0 ? &fs->words : strcmp(k, "bigrams") == 0 ? &fs->bigrams
                  : strcmp(k, "negation") == 0 ? &fs->negation : strcmp(k, "idf") == 0 ? &fs->idf
                  : strcmp(k, "nb") == 0 ? &fs->nb : strcmp(k, "l2") == 0 ? &fs->l2 : NULL;
        if (flag) {
            if (!cJSON_IsBool(v))
                goto bad;
            *flag = cJSON_IsTrue(v);
        } else if (strcmp(k, "tf") == 0) {
            int tf = cJSON_IsString(v) ? feat_tf_parse(v->valuestring) : -1;
            if (tf < 0)
                goto bad;
            fs->tf = (enum feat_tf)tf;
        } else if (strcmp(k, "min_df") == 0) {
            if (small_int(v, 1, 1000000, &fs->min_df) < 0)
                goto bad;
        } else if (strcmp(k, "char_ngrams") == 0) {
            if (cJSON_GetArraySize(v) != 2 || small_int(cJSON_GetArrayItem(v, 0), 0, 8, &fs->char_min) < 0 ||
                small_int(cJSON_GetArrayItem(v, 1), 0, 8, &fs->char_max) < 0 ||
                (fs->char_min == 0) != (fs->char_max == 0) || fs->char_min > fs->char_max)
                goto bad;
        } else {
            snprintf(err, errlen, "features: unknown setting '%s' (made by a newer stance-train?)", k);
            return -1;
        }
        continue;
    bad:
        snprintf(err, errlen, "features: bad value for '%s'", k);
        return -1;
    }
    return 0;
}

/* ---- vocabulary ---- */

/* A slot keeps the upper half of the feature's hash beside its id, so a
 * probe that misses is settled without touching the string; the strings
 * live in one arena, so a hit costs one contiguous compare. */
struct slot {
    uint32_t tag;
    int32_t id;          /* -1: empty */
};

struct vocab {
    size_t n, cap;       /* features, and room in the arrays below */
    uint64_t *hash;
    uint32_t *off, *len; /* each feature's string in the arena */
    uint32_t *df;
    double *idf, *nb, *scale;
    char *arena;
    size_t arena_len, arena_cap;
    struct slot *slot;   /* open addressing */
    size_t nslots;       /* power of two, at least twice n */
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static struct slot *new_slots(size_t n)
{
    struct slot *t = xmalloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = (struct slot){ 0, -1 };
    return t;
}

struct vocab *vocab_new(void)
{
    struct vocab *v = xcalloc(1, sizeof *v);
    v->nslots = 1024;
    v->slot = new_slots(v->nslots);
    return v;
}

void vocab_free(struct vocab **vp)
{
    struct vocab *v = vp ? *vp : NULL;
    if (!v)
        return;
    free(v->hash); free(v->off); free(v->len); free(v->df);
    free(v->idf); free(v->nb); free(v->scale); free(v->arena); free(v->slot);
    free(v);
    *vp = NULL;
}

size_t vocab_size(const struct vocab *v)
{
    return v->n;
}

static size_t find_slot(const struct vocab *v, const char *f, size_t n, uint64_t h)
{
    size_t mask = v->nslots - 1, i = (size_t)h & mask;
    uint32_t tag = (uint32_t)(h >> 32);
    for (;;) {
        const struct slot *sl = &v->slot[i];
        if (sl->id < 0)
            return i;
        if (sl->tag == tag && v->len[sl->id] == n && memcmp(v->arena + v->off[sl->id], f, n) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

int32_t vocab_lookup(const struct vocab *v, const char *f, size_t n)
{
    return v->slot[find_slot(v, f, n, fnv1a(f, n))].id;
}

static void grow_slots(struct vocab *v)
{
    free(v->slot);
    v->nslots *= 2;
    v->slot = new_slots(v->nslots);
    for (size_t id = 0; id < v->n; id++) {
        size_t mask = v->nslots - 1, i = (size_t)v->hash[id] & mask;
        while (v->slot[i].id >= 0)
            i = (i + 1) & mask;
        v->slot[i] = (struct slot){ (uint32_t)(v->hash[id] >> 32), (int32_t)id };
    }
}

int32_t vocab_add(struct vocab *v, const char *f, size_t n)
{
    uint64_t h = fnv1a(f, n);
    size_t i = find_slot(v, f, n, h);
    if (v->slot[i].id >= 0)
        return v->slot[i].id;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1024;
        v->hash = xrealloc(v->hash, v->cap * sizeof *v->hash);
        v->off = xrealloc(v->off, v->cap * sizeof *v->off);
        v->len = xrealloc(v->len, v->cap * sizeof *v->len);
        v->df = xrealloc(v->df, v->cap * sizeof *v->df);
        v->idf = xrealloc(v->idf, v->cap * sizeof *v->idf);
        v->nb = xrealloc(v->nb, v->cap * sizeof *v->nb);
        v->scale = xrealloc(v->scale, v->cap * sizeof *v->scale);
    }
    if (v->arena_len + n + 1 > v->arena_cap) {
        v->arena_cap = (v->arena_len + n + 1) * 2;
        v->arena = xrealloc(v->arena, v->arena_cap);
    }
    int32_t id = (int32_t)v->n++;
    memcpy(v->arena + v->arena_len, f, n);
    v->arena[v->arena_len + n] = '\0';
    v->off[id] = (uint32_t)v->arena_len;
    v->len[id] = (uint32_t)n;
    v->arena_len += n + 1;
    v->hash[id] = h;
    v->df[id] = 0;
    v->idf[id] = v->nb[id] = v->scale[id] = 1.0;
    v->slot[i] = (struct slot){ (uint32_t)(h >> 32), id };
    if (v->n * 2 > v->nslots)
        grow_slots(v);
    return id;
}

const char *vocab_feature(const struct vocab *v, int32_t id)
{
    return v->arena + v->off[id];
}

double vocab_scale(const struct vocab *v, int32_t id)
{
    return v->scale[id];
}

void vocab_set_weights(struct vocab *v, int32_t id, uint32_t df, double idf, double nb)
{
    v->df[id] = df;
    v->idf[id] = idf;
    v->nb[id] = nb;
    v->scale[id] = idf * nb;
}

int vocab_write(const struct vocab *v, FILE *fp, char *err, size_t errlen)
{
    fprintf(fp, "# id\tdf\tidf\tnb\tfeature\n");
    for (size_t i = 0; i < v->n; i++)
        fprintf(fp, "%zu\t%" PRIu32 "\t%.17g\t%.17g\t%s\n", i, v->df[i], v->idf[i], v->nb[i], v->arena + v->off[i]);
    if (ferror(fp)) {
        snprintf(err, errlen, "cannot write vocabulary: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0' && isfinite(*out);
}

struct vocab *vocab_read(FILE *fp, const char *path, char *err, size_t errlen)
{
    struct vocab *v = vocab_new();
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) > 0) {
        lineno++;
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (line[0] == '#')
            continue;
        char *field[5], *p = line;
        int nf = 0;
        for (; nf < 4; nf++) {
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = '\0';
            field[nf] = p;
            p = tab + 1;
        }
        field[nf++] = p;
        char *end;
        double idf, nb;
        errno = 0;
        unsigned long id = nf == 5 ? strtoul(field[0], &end, 10) : 0;
        unsigned long df = nf == 5 ? strtoul(field[1], &end, 10) : 0;
        if (nf != 5 || errno || id != v->n || !parse_double(field[2], &idf) ||
            !parse_double(field[3], &nb) || field[4][0] == '\0' || df > UINT32_MAX) {
            snprintf(err, errlen, "%s:%zu: malformed vocabulary line", path, lineno);
            goto fail;
        }
        size_t before = v->n;
        int32_t nid = vocab_add(v, field[4], strlen(field[4]));
        if (v->n == before) {
            snprintf(err, errlen, "%s:%zu: duplicate feature", path, lineno);
            goto fail;
        }
        vocab_set_weights(v, nid, (uint32_t)df, idf, nb);
    }
    free(line);
    if (ferror(fp)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        vocab_free(&v);
    }
    return v;
fail:
    free(line);
    vocab_free(&v);
    return NULL;
}

/* ---- extraction ---- */

struct feat_scratch {
    struct tok *tok;
    size_t tok_cap;
    int32_t *ids;
    double *vals;
    size_t ids_n, ids_cap;
    char buf[FEAT_MAX + 8];
};

struct feat_scratch *feat_scratch_new(void)
{
    return xcalloc(1, sizeof(struct feat_scratch));
}

void feat_scratch_free(struct feat_scratch **sp)
{
    struct feat_scratch *s = sp ? *sp : NULL;
    if (!s)
        return;
    free(s->tok); free(s->ids); free(s->vals);
    free(s);
    *sp = NULL;
}

/* Appends up to the buffer's room; returns the new length. */
static size_t put(char *buf, size_t at, const char *s, size_t n)
{
    if (at + n > FEAT_MAX)
        n = at < FEAT_MAX ? FEAT_MAX - at : 0;
    memcpy(buf + at, s, n);
    return at + n;
}

static void char_ngrams(const struct feat_settings *fs, struct feat_scratch *s,
                        const char *w, size_t wl, feat_fn fn, void *ctx)
{
    char padded[FEAT_MAX + 2];
    if (wl > FEAT_MAX - 2)
        wl = FEAT_MAX - 2;
    padded[0] = ' ';
    memcpy(padded + 1, w, wl);
    padded[wl + 1] = ' ';
    size_t pl = wl + 2;
    memcpy(s->buf, "c:", 2);
    for (size_t i = 0; i < pl; i++) {
        if (((unsigned char)padded[i] & 0xC0) == 0x80)
            continue;  /* n-grams start on a code point */
        for (size_t k = (size_t)fs->char_min; k <= (size_t)fs->char_max && i + k <= pl; k++) {
            if (i + k < pl && ((unsigned char)padded[i + k] & 0xC0) == 0x80)
                continue;  /* and end on one */
            memcpy(s->buf + 2, padded + i, k);
            fn(ctx, s->buf, k + 2);
        }
    }
}

void feat_each(const struct feat_settings *fs, struct feat_scratch *s,
               const char *norm, size_t len, feat_fn fn, void *ctx)
{
    size_t nt = tok_split(norm, len, fs->negation, s->tok, s->tok_cap);
    if (nt > s->tok_cap) {
        s->tok_cap = nt + 16;
        s->tok = xrealloc(s->tok, s->tok_cap * sizeof *s->tok);
        tok_split(norm, len, fs->negation, s->tok, s->tok_cap);
    }
    for (size_t i = 0; i < nt; i++) {
        const struct tok *t = &s->tok[i];
        const char *w = norm + t->start;
        if (fs->words) {
            size_t n = t->negated ? put(s->buf, 0, "NOT_", 4) : 0;
            n = put(s->buf, n, w, t->len);
            fn(ctx, s->buf, n);
        }
        if (fs->bigrams && i + 1 < nt) {
            const struct tok *u = &s->tok[i + 1];
            size_t n = put(s->buf, 0, w, t->len);
            n = put(s->buf, n, " ", 1);
            n = put(s->buf, n, norm + u->start, u->len);
            fn(ctx, s->buf, n);
        }
        if (fs->char_min > 0 && t->len > 1)
            char_ngrams(fs, s, w, t->len, fn, ctx);
    }
}

struct collect {
    const struct vocab *v;
    struct feat_scratch *s;
};

static void collect_id(void *ctx, const char *f, size_t n)
{
    struct collect *c = ctx;
    int32_t id = vocab_lookup(c->v, f, n);
    if (id < 0)
        return;
    struct feat_scratch *s = c->s;
    if (s->ids_n == s->ids_cap) {
        s->ids_cap = s->ids_cap ? s->ids_cap * 2 : 256;
        s->ids = xrealloc(s->ids, s->ids_cap * sizeof *s->ids);
        s->vals = xrealloc(s->vals, s->ids_cap * sizeof *s->vals);
    }
    s->ids[s->ids_n++] = id;
}

static int cmp_id(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* A sentence has tens of features: insertion sort beats qsort's indirect
 * comparisons there; long texts fall back to qsort. */
static void sort_ids(int32_t *a, size_t n)
{
    if (n > 64) {
        qsort(a, n, sizeof *a, cmp_id);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        int32_t x = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

struct feat_vec feat_vectorize(const struct feat_settings *fs, const struct vocab *v,
                               struct feat_scratch *s, const char *norm, size_t len)
{
    struct collect c = { v, s };
    s->ids_n = 0;
    feat_each(fs, s, norm, len, collect_id, &c);
    sort_ids(s->ids, s->ids_n);

    size_t n = 0;
    double norm2 = 0;
    for (size_t i = 0; i < s->ids_n;) {
        size_t j = i;
        while (j < s->ids_n && s->ids[j] == s->ids[i])
            j++;
        double tf = (double)(j - i);
        double x = fs->tf == FEAT_TF_BINARY ? 1.0 : fs->tf == FEAT_TF_LOG ? 1.0 + log(tf) : tf;
        x *= v->scale[s->ids[i]];
        s->ids[n] = s->ids[i];
        s->vals[n++] = x;
        norm2 += x * x;
        i = j;
    }
    if (fs->l2 && norm2 > 0) {
        double inv = 1.0 / sqrt(norm2);
        for (size_t i = 0; i < n; i++)
            s->vals[i] *= inv;
    }
    return (struct feat_vec){ s->ids, s->vals, n };
}
