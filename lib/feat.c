/*
 * feat: feature extraction and the vocabulary. The hot path never
 * allocates per token: feature occurrences are spans of the normalised text
 * where they can be (only NOT_ words, bigrams across punctuation and
 * character n-grams are built, in a buffer reused across texts), and a
 * text's lookups are batched so that their cache misses overlap.
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
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <svm.h>

#define FEAT_MAX 128  /* longer features are cut: no real n-gram is this long */

void feat_settings_default(struct feat_settings *fs)
{
    *fs = (struct feat_settings){
        .words = 1, .bigrams = 1, .char_min = 0, .char_max = 0, .negation = 1, .punct = 1,
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
    cJSON_AddBoolToObject(j, "punct", fs->punct);
    cJSON_AddStringToObject(j, "tf", feat_tf_name(fs->tf));
    cJSON_AddBoolToObject(j, "idf", fs->idf);
    cJSON_AddBoolToObject(j, "nb", fs->nb);
    cJSON_AddBoolToObject(j, "l2", fs->l2);
    cJSON_AddNumberToObject(j, "min_df", fs->min_df);
    cJSON_AddNumberToObject(j, "mnb", fs->mnb);
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
    fs->punct = 0;  /* bundles from before the setting tokenised this way */
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "features: expected a mapping");
        return -1;
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, j) {
        const char *k = v->string;
        int *flag = strcmp(k, "words") == 0 ? &fs->words : strcmp(k, "bigrams") == 0 ? &fs->bigrams
                  : strcmp(k, "negation") == 0 ? &fs->negation : strcmp(k, "idf") == 0 ? &fs->idf
                  : strcmp(k, "nb") == 0 ? &fs->nb : strcmp(k, "l2") == 0 ? &fs->l2
                  : strcmp(k, "punct") == 0 ? &fs->punct : NULL;
        if (flag) {
            if (!cJSON_IsBool(v))
                goto bad;
            *flag = cJSON_IsTrue(v);
        } else if (strcmp(k, "tf") == 0) {
            int tf = cJSON_IsString(v) ? feat_tf_parse(v->valuestring) : -1;
            if (tf < 0)
                goto bad;
            fs->tf = (enum feat_tf)tf;
        } else if (strcmp(k, "mnb") == 0) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1e6))
                goto bad;
            fs->mnb = v->valuedouble;
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

/* Each feature owns one record of v->stride bytes, a whole number of cache
 * lines and aligned to one: its scale, its string's 64-bit hash, and the
 * row of model weights a bundle attaches (six pairs of a four-label model
 * fill one line). A lookup while scoring reads its slot and then this
 * record, which holds everything scoring needs: two cache misses, and both
 * can be prefetched. It takes the hash's match for the string's (see
 * lookup_all), so the strings themselves stay in the arena, NUL-terminated
 * for vocab_feature, with their length and offset in v->key. */
struct rec {
    double scale;
    uint64_t hash;
    /* then v->width doubles of row */
};

struct key {
    uint32_t len, off;
};

#define LINE 64
#define REC_HEAD sizeof(struct rec)

/* A slot keeps the upper half of the feature's hash beside its id, so a
 * probe that misses is settled without touching the record. */
struct slot {
    uint32_t tag;
    int32_t id;          /* -1: empty */
};

struct vocab {
    size_t n, cap;       /* features, and room in the arrays below */
    unsigned char *rec;  /* n records, LINE-aligned inside rec_raw */
    void *rec_raw;
    size_t stride;       /* bytes per record */
    int width;           /* doubles of row per record */
    int hash_clash;      /* two of the strings share a 64-bit hash */
    struct key *key;
    uint32_t *df;
    double *idf, *nb;
    int classes;         /* class log-count ratios per feature (mnb), or 0 */
    double *ratio;       /* cap x classes */
    double *extra;       /* classes rows of width doubles: the appended features' */
    char (*extra_name)[16];
    char *arena;
    size_t arena_len, arena_cap;
    struct slot *slot;   /* open addressing, linear probing */
    size_t nslots;       /* power of two, at most 3/4 full */
};

static struct rec *rec_of(const struct vocab *v, int32_t id)
{
    return (struct rec *)(void *)(v->rec + (size_t)id * v->stride);
}

static uint64_t load64(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static uint64_t load32(const char *p)
{
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}

/* memcmp(a, b, n) == 0 for the short strings features are, inline: words
 * that overlap at the tail instead of a call and a byte loop, never
 * reading outside either string. */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8)
            if (load64(a + i) != load64(b + i))
                return 0;
        return load64(a + n - 8) == load64(b + n - 8);
    }
    if (n >= 4)
        return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Feature id is the string f[0..n), compared byte for byte. */
static int key_is(const struct vocab *v, int32_t id, const char *f, size_t n)
{
    const struct key *k = &v->key[id];
    return k->len == n && same_bytes(v->arena + k->off, f, n);
}

static uint64_t mix(uint64_t h, uint64_t x)
{
    h = (h ^ x) * 0xff51afd7ed558ccdULL;
    return h ^ (h >> 29);
}

/* Word-at-a-time multiply-xorshift with a splitmix64 finish: several times
 * faster than a byte-serial hash on n-grams, with low bits fit for the
 * slot index and high bits for the tag. The tail is read with overlapping
 * loads rather than copied byte by byte; the length in the seed keeps that
 * unambiguous. Hashes live only in memory, never in a bundle. */
static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL * (n + 1);
    const char *end = s + n;
    if (n >= 8) {
        for (; end - s > 8; s += 8)
            h = mix(h, load64(s));
        h = mix(h, load64(end - 8));
    } else if (n >= 4) {
        h = mix(h, load32(s) | load32(end - 4) << 32);
    } else if (n > 0) {
        h = mix(h, (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << 8 |
                       (uint64_t)(unsigned char)s[n - 1] << 16);
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static struct slot *new_slots(size_t n)
{
    struct slot *t = xmalloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = (struct slot){ 0, -1 };
    return t;
}

static void set_layout(struct vocab *v, int width)
{
    size_t head = REC_HEAD + (size_t)width * sizeof(double);
    v->width = width;
    v->stride = (head + LINE - 1) / LINE * LINE;
}

/* Makes the record area bytes long (plus alignment slack), keeping its
 * first used bytes. */
static void resize_records(struct vocab *v, size_t bytes, size_t used)
{
    size_t shift = v->rec ? (size_t)(v->rec - (unsigned char *)v->rec_raw) : 0;
    v->rec_raw = xrealloc(v->rec_raw, bytes + LINE);
    unsigned char *aligned = (unsigned char *)(((uintptr_t)v->rec_raw + LINE - 1) & ~(uintptr_t)(LINE - 1));
    if (used && (size_t)(aligned - (unsigned char *)v->rec_raw) != shift)
        memmove(aligned, (unsigned char *)v->rec_raw + shift, used);
    v->rec = aligned;
}

struct vocab *vocab_new(void)
{
    struct vocab *v = xcalloc(1, sizeof *v);
    set_layout(v, 0);
    v->nslots = 1024;
    v->slot = new_slots(v->nslots);
    return v;
}

void vocab_free(struct vocab **vp)
{
    struct vocab *v = vp ? *vp : NULL;
    if (!v)
        return;
    free(v->rec_raw); free(v->key); free(v->df); free(v->idf); free(v->nb); free(v->arena); free(v->slot);
    free(v->ratio); free(v->extra); free(v->extra_name);
    free(v);
    *vp = NULL;
}

size_t vocab_size(const struct vocab *v)
{
    return v->n;
}

/* The slot holding f[0..n) (hash h), or the empty slot where it would go,
 * probing from slot i. */
static size_t find_slot(const struct vocab *v, const char *f, size_t n, uint64_t h, size_t i)
{
    size_t mask = v->nslots - 1;
    uint32_t tag = (uint32_t)(h >> 32);
    for (;; i = (i + 1) & mask) {
        const struct slot *sl = &v->slot[i];
        if (sl->id < 0 || (sl->tag == tag && key_is(v, sl->id, f, n)))
            return i;
    }
}

int32_t vocab_lookup(const struct vocab *v, const char *f, size_t n)
{
    uint64_t h = hash_bytes(f, n);
    return v->slot[find_slot(v, f, n, h, (size_t)h & (v->nslots - 1))].id;
}

static void grow_slots(struct vocab *v)
{
    free(v->slot);
    v->nslots *= 2;
    v->slot = new_slots(v->nslots);
    size_t mask = v->nslots - 1;
    for (size_t id = 0; id < v->n; id++) {
        uint64_t h = rec_of(v, (int32_t)id)->hash;
        size_t i = (size_t)h & mask;
        while (v->slot[i].id >= 0)
            i = (i + 1) & mask;
        v->slot[i] = (struct slot){ (uint32_t)(h >> 32), (int32_t)id };
    }
}

int32_t vocab_add(struct vocab *v, const char *f, size_t n)
{
    uint64_t h = hash_bytes(f, n);
    size_t mask = v->nslots - 1, i = find_slot(v, f, n, h, (size_t)h & mask);
    if (v->slot[i].id >= 0)
        return v->slot[i].id;
    /* A string new to the table whose hash an entry already has: scoring
     * must then compare strings (vocabularies are small against 2^64, so
     * this is for correctness, not speed). */
    for (size_t j = (size_t)h & mask; j != i; j = (j + 1) & mask)
        if (v->slot[j].tag == (uint32_t)(h >> 32) && rec_of(v, v->slot[j].id)->hash == h)
            v->hash_clash = 1;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 1024;
        resize_records(v, cap * v->stride, v->n * v->stride);
        v->cap = cap;
        v->key = xrealloc(v->key, cap * sizeof *v->key);
        v->df = xrealloc(v->df, cap * sizeof *v->df);
        v->idf = xrealloc(v->idf, cap * sizeof *v->idf);
        v->nb = xrealloc(v->nb, cap * sizeof *v->nb);
        if (v->classes)
            v->ratio = xrealloc(v->ratio, cap * (size_t)v->classes * sizeof *v->ratio);
    }
    if (v->arena_len + n + 1 > v->arena_cap) {
        v->arena_cap = (v->arena_len + n + 1) * 2;
        v->arena = xrealloc(v->arena, v->arena_cap);
    }
    int32_t id = (int32_t)v->n++;
    memcpy(v->arena + v->arena_len, f, n);
    v->arena[v->arena_len + n] = '\0';
    struct rec *r = rec_of(v, id);
    memset(r, 0, v->stride);
    r->scale = 1.0;
    r->hash = h;
    v->key[id] = (struct key){ (uint32_t)n, (uint32_t)v->arena_len };
    v->arena_len += n + 1;
    v->df[id] = 0;
    v->idf[id] = v->nb[id] = 1.0;
    if (v->classes)
        memset(v->ratio + (size_t)id * v->classes, 0, (size_t)v->classes * sizeof *v->ratio);
    v->slot[i] = (struct slot){ (uint32_t)(h >> 32), id };
    if (v->n * 4 > v->nslots * 3)
        grow_slots(v);
    return id;
}

const char *vocab_feature(const struct vocab *v, int32_t id)
{
    if ((size_t)id >= v->n)
        return v->extra_name[(size_t)id - v->n];
    return v->arena + v->key[id].off;
}

/* Rows for the appended features, all zero, at the current width. */
static void reset_extra_rows(struct vocab *v)
{
    free(v->extra);
    v->extra = xcalloc((size_t)v->classes * (size_t)(v->width ? v->width : 1), sizeof *v->extra);
}

void vocab_set_classes(struct vocab *v, int k)
{
    v->classes = k;
    free(v->ratio);
    v->ratio = xcalloc(v->cap ? v->cap : 1, (size_t)k * sizeof *v->ratio);
    free(v->extra_name);
    v->extra_name = xmalloc((size_t)k * sizeof *v->extra_name);
    for (int c = 0; c < k; c++)
        snprintf(v->extra_name[c], sizeof v->extra_name[c], "mnb:%d", c);
    reset_extra_rows(v);
}

int vocab_classes(const struct vocab *v)
{
    return v->classes;
}

double *vocab_ratios(struct vocab *v, int32_t id)
{
    return v->ratio + (size_t)id * v->classes;
}

double vocab_scale(const struct vocab *v, int32_t id)
{
    return rec_of(v, id)->scale;
}

void vocab_set_weights(struct vocab *v, int32_t id, uint32_t df, double idf, double nb)
{
    v->df[id] = df;
    v->idf[id] = idf;
    v->nb[id] = nb;
    rec_of(v, id)->scale = idf * nb;
}

/* Re-lays the records in place, so that a loaded bundle never holds two
 * copies of them: growing records move last first, shrinking ones first
 * first, and either way no record is overwritten before it has moved.
 * Shrinking leaves cap as it was: the record block could hold more, but
 * df, idf, nb and the ratios hold cap entries. */
void vocab_set_row_width(struct vocab *v, int width)
{
    size_t os = v->stride, n = v->n;
    set_layout(v, width);
    size_t ns = v->stride;
    if (ns > os) {
        resize_records(v, n * ns, n * os);
        v->cap = n;
    }
    if (v->classes)
        reset_extra_rows(v);
    for (size_t k = 0; k < n; k++) {
        size_t id = ns > os ? n - 1 - k : k;
        struct rec head;
        memcpy(&head, v->rec + id * os, sizeof head);
        unsigned char *to = v->rec + id * ns;
        memset(to, 0, ns);
        memcpy(to, &head, sizeof head);
    }
}

double *vocab_row(struct vocab *v, int32_t id)
{
    if ((size_t)id >= v->n)
        return v->extra + ((size_t)id - v->n) * (size_t)v->width;
    return (double *)(void *)((unsigned char *)rec_of(v, id) + REC_HEAD);
}

int vocab_write(const struct vocab *v, FILE *fp, char *err, size_t errlen)
{
    fprintf(fp, "# id\tdf\tidf\tnb\t");
    for (int c = 0; c < v->classes; c++)
        fprintf(fp, "mnb:%d\t", c);
    fprintf(fp, "feature\n");
    for (size_t i = 0; i < v->n; i++) {
        fprintf(fp, "%zu\t%" PRIu32 "\t%.17g\t%.17g\t", i, v->df[i], v->idf[i], v->nb[i]);
        for (int c = 0; c < v->classes; c++)
            fprintf(fp, "%.17g\t", v->ratio[i * (size_t)v->classes + (size_t)c]);
        fprintf(fp, "%s\n", vocab_feature(v, (int32_t)i));
    }
    if (ferror(fp)) {
        snprintf(err, errlen, "cannot write vocabulary: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The value of the plain decimal s ("%.17g" output: at most 19
 * significant digits and a decimal exponent within 27), as strtod would
 * round it: the digits are exact in a long double, as is the power of ten,
 * so one correctly rounded division or multiplication and the rounding to
 * double give strtod's result unless the long double lands exactly halfway
 * between two doubles, which is refused. Returns 0 for anything else (the
 * caller then uses strtod). Reading a bundle's vocabulary spends most of
 * its time converting numbers, and glibc's strtod is exact but slow on
 * 17-digit input. */
static int parse_decimal_fast(const char *s, double *out)
{
#if LDBL_MANT_DIG >= 64
    static const long double pow10[] = {
        1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L, 1e11L, 1e12L, 1e13L,
        1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L,
        1e26L, 1e27L,
    };
    const char *p = s;
    int neg = *p == '-', digits = 0, any = 0, exp10 = 0;
    uint64_t m = 0;
    p += neg;
    for (; *p >= '0' && *p <= '9'; p++, any = 1) {
        m = m * 10 + (uint64_t)(*p - '0');
        digits += m != 0;
    }
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, any = 1, exp10--) {
            m = m * 10 + (uint64_t)(*p - '0');
            digits += m != 0;
        }
    if (!any || digits > 19)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        int eneg = *p == '-', e = 0;
        p += *p == '-' || *p == '+';
        if (*p < '0' || *p > '9')
            return 0;
        for (; *p >= '0' && *p <= '9' && e < 1000; p++)
            e = e * 10 + (*p - '0');
        exp10 += eneg ? -e : e;
    }
    if (*p != '\0' || exp10 < -27 || exp10 > 27)
        return 0;
    long double q = (long double)m;
    q = exp10 < 0 ? q / pow10[-exp10] : q * pow10[exp10];
    double d = (double)q;
    if ((long double)d != q) {
        double other = nextafter(d, q > d ? INFINITY : -INFINITY);
        if (((long double)d + other) / 2 == q)
            return 0;
    }
    *out = neg ? -d : d;
    return 1;
#else
    (void)s;
    (void)out;
    return 0;
#endif
}

static int parse_double(const char *s, double *out)
{
    if (parse_decimal_fast(s, out))
        return 1;
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0' && isfinite(*out);
}

/* The field count of a vocabulary line: 5, or 5 + k with k class ratios. */
#define VOCAB_MAX_FIELDS (5 + VOCAB_MAX_CLASSES)

struct vocab *vocab_read(FILE *fp, const char *path, char *err, size_t errlen)
{
    struct vocab *v = vocab_new();
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int want = 0;        /* fields per line, fixed by the first line */
    while ((len = getline(&line, &cap, fp)) > 0) {
        lineno++;
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (line[0] == '#')
            continue;
        char *field[VOCAB_MAX_FIELDS], *p = line;
        int nf = 0;
        for (; nf < VOCAB_MAX_FIELDS - 1; nf++) {
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = '\0';
            field[nf] = p;
            p = tab + 1;
        }
        field[nf++] = p;
        if (!want && (nf == 5 || nf >= 7)) {
            want = nf;
            if (nf > 5)
                vocab_set_classes(v, nf - 5);
        }
        char *end;
        double idf, nb;
        int ok = nf == want;
        errno = 0;
        unsigned long id = ok ? strtoul(field[0], &end, 10) : 0;
        unsigned long df = ok ? strtoul(field[1], &end, 10) : 0;
        ok = ok && !errno && id == v->n && parse_double(field[2], &idf) && parse_double(field[3], &nb) &&
             field[nf - 1][0] != '\0' && df <= UINT32_MAX;
        double ratio[VOCAB_MAX_FIELDS];
        for (int c = 0; ok && c < nf - 5; c++)
            ok = parse_double(field[4 + c], &ratio[c]);
        if (!ok) {
            snprintf(err, errlen, "%s:%zu: malformed vocabulary line", path, lineno);
            goto fail;
        }
        size_t before = v->n;
        int32_t nid = vocab_add(v, field[nf - 1], strlen(field[nf - 1]));
        if (v->n == before) {
            snprintf(err, errlen, "%s:%zu: duplicate feature", path, lineno);
            goto fail;
        }
        vocab_set_weights(v, nid, (uint32_t)df, idf, nb);
        if (nf > 5)
            memcpy(vocab_ratios(v, nid), ratio, (size_t)(nf - 5) * sizeof *ratio);
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

/* One feature occurrence: its string is off..off+len in the normalised
 * text, or in the scratch's buf when it had to be built (a NOT_ word, a
 * bigram not separated by exactly one space, a character n-gram). Most
 * features are spans of the text, so they are neither copied nor built. */
struct fref {
    uint64_t hash;
    uint32_t off, len;
    uint32_t at;         /* feat_vectorize: slot where the tag matched */
    uint8_t built;
};

struct feat_scratch {
    struct tok *tok;
    size_t tok_cap;
    struct fref *f;
    size_t f_n, f_cap;
    char *buf;           /* the built feature strings of the current text */
    size_t buf_len, buf_cap;
    int32_t *ids;
    double *vals;
    const double **rows;
    size_t ids_cap;
    int32_t *seen;       /* count_ids' table: id -> entry, -1 empty */
    size_t seen_cap;
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
    free(s->tok); free(s->f); free(s->buf); free(s->ids); free(s->vals); free(s->rows);
    free(s->seen);
    free(s);
    *sp = NULL;
}

/* Appends up to FEAT_MAX bytes in all; returns the new length. */
static size_t put(char *buf, size_t at, const char *s, size_t n)
{
    if (at + n > FEAT_MAX)
        n = at < FEAT_MAX ? FEAT_MAX - at : 0;
    memcpy(buf + at, s, n);
    return at + n;
}

static void push(struct feat_scratch *s, const char *base, size_t off, size_t len, int built)
{
    if (s->f_n == s->f_cap) {
        s->f_cap = s->f_cap ? s->f_cap * 2 : 256;
        s->f = xrealloc(s->f, s->f_cap * sizeof *s->f);
    }
    s->f[s->f_n++] = (struct fref){ hash_bytes(base + off, len), (uint32_t)off, (uint32_t)len, 0, (uint8_t)built };
}

/* Room for one more built feature of up to FEAT_MAX bytes. */
static char *build_at(struct feat_scratch *s)
{
    if (s->buf_len + FEAT_MAX + 8 > s->buf_cap) {
        s->buf_cap = (s->buf_len + FEAT_MAX + 8) * 2;
        s->buf = xrealloc(s->buf, s->buf_cap);
    }
    return s->buf + s->buf_len;
}

static void push_built(struct feat_scratch *s, size_t len)
{
    push(s, s->buf, s->buf_len, len, 1);
    s->buf_len += len;
}

static void push_span(struct feat_scratch *s, const char *norm, size_t off, size_t len)
{
    push(s, norm, off, len < FEAT_MAX ? len : FEAT_MAX, 0);
}

static void char_ngrams(const struct feat_settings *fs, struct feat_scratch *s, const char *w, size_t wl)
{
    char padded[FEAT_MAX + 2];
    if (wl > FEAT_MAX - 2)
        wl = FEAT_MAX - 2;
    padded[0] = ' ';
    memcpy(padded + 1, w, wl);
    padded[wl + 1] = ' ';
    size_t pl = wl + 2;
    for (size_t i = 0; i < pl; i++) {
        if (((unsigned char)padded[i] & 0xC0) == 0x80)
            continue;  /* n-grams start on a code point */
        for (size_t k = (size_t)fs->char_min; k <= (size_t)fs->char_max && i + k <= pl; k++) {
            if (i + k < pl && ((unsigned char)padded[i + k] & 0xC0) == 0x80)
                continue;  /* and end on one */
            char *b = build_at(s);
            memcpy(b, "c:", 2);
            memcpy(b + 2, padded + i, k);
            push_built(s, k + 2);
        }
    }
}

/* Fills s->f with the text's feature occurrences, in the order feat_each
 * reports them (the order training assigns ids in). */
static void extract(const struct feat_settings *fs, struct feat_scratch *s, const char *norm, size_t len)
{
    unsigned flags = (fs->negation ? TOK_NEGATION : 0) | (fs->punct ? TOK_PUNCT : 0);
    size_t nt = tok_split(norm, len, flags, s->tok, s->tok_cap);
    if (nt > s->tok_cap) {
        s->tok_cap = nt + 16;
        s->tok = xrealloc(s->tok, s->tok_cap * sizeof *s->tok);
        tok_split(norm, len, flags, s->tok, s->tok_cap);
    }
    s->f_n = 0;
    s->buf_len = 0;
    for (size_t i = 0; i < nt; i++) {
        const struct tok *t = &s->tok[i];
        const char *w = norm + t->start;
        if (fs->words) {
            if (t->negated) {
                char *b = build_at(s);
                push_built(s, put(b, put(b, 0, "NOT_", 4), w, t->len));
            } else {
                push_span(s, norm, t->start, t->len);
            }
        }
        if (fs->bigrams && i + 1 < nt) {
            const struct tok *u = &s->tok[i + 1];
            size_t end = t->start + t->len;
            if (u->start == end + 1 && norm[end] == ' ') {
                push_span(s, norm, t->start, u->start + u->len - t->start);
            } else {
                char *b = build_at(s);
                push_built(s, put(b, put(b, put(b, 0, w, t->len), " ", 1), norm + u->start, u->len));
            }
        }
        if (fs->char_min > 0 && t->len > 1)
            char_ngrams(fs, s, w, t->len);
    }
}

static const char *fref_str(const struct feat_scratch *s, const char *norm, const struct fref *f)
{
    return (f->built ? s->buf : norm) + f->off;
}

void feat_each(const struct feat_settings *fs, struct feat_scratch *s,
               const char *norm, size_t len, feat_fn fn, void *ctx)
{
    extract(fs, s, norm, len);
    for (size_t i = 0; i < s->f_n; i++)
        fn(ctx, fref_str(s, norm, &s->f[i]), s->f[i].len);
}

/* Merges the repeated ids of s->ids[0..n) (a feature the text holds more
 * than once) into one entry each, in order of first occurrence, with its
 * count in s->vals; returns the number of distinct ids. A small table
 * indexed by id does it in one pass: sorting a sentence's ids to find the
 * repeats cost several times more. */
static size_t count_ids(struct feat_scratch *s, size_t n)
{
    unsigned bits = 6;
    while (((size_t)1 << bits) < 2 * n)
        bits++;
    size_t size = (size_t)1 << bits, m = 0;
    if (s->seen_cap < size) {
        s->seen_cap = size;
        s->seen = xrealloc(s->seen, size * sizeof *s->seen);
    }
    memset(s->seen, 0xff, size * sizeof *s->seen);
    for (size_t i = 0; i < n; i++) {
        int32_t id = s->ids[i];
        size_t h = (size_t)(((uint64_t)(uint32_t)id * 0x9e3779b97f4a7c15ULL) >> (64 - bits));
        while (s->seen[h] >= 0 && s->ids[s->seen[h]] != id)
            h = (h + 1) & (size - 1);
        if (s->seen[h] >= 0) {
            s->vals[s->seen[h]] += 1;
        } else {
            s->seen[h] = (int32_t)m;
            s->ids[m] = id;
            s->vals[m++] = 1;
        }
    }
    return m;
}

/* Looks up every feature of the text into s->ids (found ones only, in text
 * order). The lookups run in three passes so that their cache misses
 * overlap instead of queueing: prefetch every slot; probe the slots by tag
 * and prefetch the record of each match; then confirm each match by the
 * full 64-bit hash in its record (a tag collision resumes probing past
 * it). A text's string that is not a feature passes for one only if its
 * hash equals a feature's, about once in 2^64 / (vocabulary size)
 * lookups; for a vocabulary where two features share a hash, strings are
 * compared as well. Comparing every string, as this did before, cost a
 * third cache miss per feature and a tenth of the scoring time. */
static size_t lookup_all(const struct vocab *v, struct feat_scratch *s, const char *norm)
{
    const struct slot *slot = v->slot;
    size_t mask = v->nslots - 1, nc = 0, nid = 0;
    struct fref *f = s->f;
    for (size_t i = 0; i < s->f_n; i++)
        __builtin_prefetch(&slot[f[i].hash & mask]);
    for (size_t i = 0; i < s->f_n; i++) {
        uint32_t tag = (uint32_t)(f[i].hash >> 32);
        for (size_t j = f[i].hash & mask;; j = (j + 1) & mask) {
            if (slot[j].id < 0)
                break;
            if (slot[j].tag == tag) {
                const unsigned char *r = (const unsigned char *)rec_of(v, slot[j].id);
                for (size_t o = 0; o < v->stride; o += LINE)
                    __builtin_prefetch(r + o);
                f[i].at = (uint32_t)j;
                s->ids[nc++] = (int32_t)i;
                break;
            }
        }
    }
    for (size_t c = 0; c < nc; c++) {
        const struct fref *fr = &f[s->ids[c]];
        size_t j = fr->at;
        int32_t id = slot[j].id;
        if (rec_of(v, id)->hash != fr->hash || (v->hash_clash && !key_is(v, id, fref_str(s, norm, fr), fr->len)))
            id = slot[find_slot(v, fref_str(s, norm, fr), fr->len, fr->hash, (j + 1) & mask)].id;
        if (id >= 0)
            s->ids[nid++] = id;
    }
    return nid;
}

struct feat_vec feat_vectorize(const struct feat_settings *fs, const struct vocab *v,
                               struct feat_scratch *s, const char *norm, size_t len)
{
    extract(fs, s, norm, len);
    int classes = fs->mnb > 0 ? v->classes : 0;
    if (s->ids_cap < s->f_n + (size_t)classes) {
        s->ids_cap = s->f_n + 64;
        s->ids = xrealloc(s->ids, s->ids_cap * sizeof *s->ids);
        s->vals = xrealloc(s->vals, s->ids_cap * sizeof *s->vals);
        s->rows = xrealloc(s->rows, s->ids_cap * sizeof *s->rows);
    }

    size_t n = count_ids(s, lookup_all(v, s, norm));
    double norm2 = 0;
    for (size_t i = 0; i < n; i++) {
        double tf = s->vals[i];
        /* log(1) is exactly 0, and most features occur once: skip the call. */
        double x = fs->tf == FEAT_TF_BINARY ? 1.0 : fs->tf == FEAT_TF_LOG ? (tf == 1 ? 1.0 : 1.0 + log(tf)) : tf;
        const struct rec *r = rec_of(v, s->ids[i]);
        x *= r->scale;
        s->vals[i] = x;
        s->rows[i] = v->width ? (const double *)(const void *)((const unsigned char *)r + REC_HEAD) : NULL;
        norm2 += x * x;
    }
    if (fs->l2 && norm2 > 0) {
        double inv = 1.0 / sqrt(norm2);
        for (size_t i = 0; i < n; i++)
            s->vals[i] *= inv;
    }
    if (classes) {
        double odds[VOCAB_MAX_CLASSES] = { 0 };
        for (size_t i = 0; i < n; i++) {
            const double *r = v->ratio + (size_t)s->ids[i] * (size_t)classes;
            for (int c = 0; c < classes; c++)
                odds[c] += r[c];
        }
        for (int c = 0; c < classes; c++, n++) {
            s->ids[n] = (int32_t)(v->n + (size_t)c);
            s->vals[n] = tanh(odds[c] / fs->mnb);
            s->rows[n] = v->width ? v->extra + (size_t)c * (size_t)v->width : NULL;
        }
    }
    return (struct feat_vec){ s->ids, s->vals, s->rows, n };
}

static int by_index(const void *a, const void *b)
{
    int x = ((const struct svm_node *)a)->index, y = ((const struct svm_node *)b)->index;
    return (x > y) - (x < y);
}

void feat_vec_nodes(const struct feat_vec *v, struct svm_node *out)
{
    for (size_t i = 0; i < v->n; i++)
        out[i] = (struct svm_node){ v->id[i] + 1, v->val[i] };
    if (v->n > 1)
        qsort(out, v->n, sizeof *out, by_index);
    out[v->n].index = -1;
}
