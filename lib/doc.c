/*
 * doc: split, score, summarise. score_explain only explains the text last
 * scored with a scratch, so each unit is explained right after it is scored
 * with each model, before the next score_text call.
 */
#include "doc.h"
#include "speaker.h"
#include "split.h"
#include "text.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int all_space(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
              s[i] == '\f' || s[i] == '\v'))
            return 0;
    return 1;
}

static void argmax(struct score_result *r, int nlabels)
{
    r->label = 0;
    for (int i = 1; i < nlabels; i++)
        if (r->prob[i] > r->prob[r->label])
            r->label = i;
}

void doc_free(struct doc_result **dp)
{
    struct doc_result *d;

    if (!dp || !*dp)
        return;
    d = *dp;
    free(d->speaker_res_block);
    free(d->names);
    free(d->speakers);
    free(d->counts);
    free(d);
    *dp = NULL;
}

/* A result for n units in one zeroed allocation: the struct, then the
 * units, then their rows: nmodels scores each and, when asked, nmodels
 * explanations of room for k reasons each way. The summary is the one
 * unit's own scores when the text is not split, else nmodels more rows.
 * One allocation per text matters in a batch, where every text is a
 * single unit. (Every part holds only pointers, sizes and doubles, so each
 * stays aligned.) */
static struct doc_result *new_doc(const struct doc_model *models, size_t nm, int split, size_t n, size_t k)
{
    size_t cells = n * nm, nres = cells + (split ? nm : 0);
    struct doc_result *d = xcalloc(1, sizeof *d + n * sizeof *d->units + nres * sizeof *d->units->res +
                                          (k ? cells * (sizeof *d->units->explain + 2 * k * sizeof(struct score_reason)) : 0));
    struct score_result *res;
    struct doc_explain *explain;
    struct score_reason *reasons;

    d->models = models;
    d->nmodels = nm;
    d->split = split;
    d->units = (struct doc_unit *)(d + 1);
    d->nunits = n;
    res = (struct score_result *)(d->units + n);
    explain = (struct doc_explain *)(res + nres);
    reasons = (struct score_reason *)(explain + (k ? cells : 0));
    d->summary = split ? res + cells : res;
    for (size_t i = 0; i < n; i++) {
        d->units[i].res = res + i * nm;
        if (!k)
            continue;
        d->units[i].explain = explain + i * nm;
        for (size_t m = 0; m < nm; m++) {
            d->units[i].explain[m].pro = reasons + ((i * nm + m) * 2) * k;
            d->units[i].explain[m].con = d->units[i].explain[m].pro + k;
        }
    }
    return d;
}

/* Scores unit u with every model and, when asked, explains each score. */
static int score_unit(struct doc_result *d, struct doc_unit *u, const struct doc_options *opt,
                      struct score_scratch *s, char *err, size_t errlen)
{
    char why[256];

    for (size_t m = 0; m < d->nmodels; m++) {
        const struct bundle *b = d->models[m].bundle;
        struct doc_explain *e;

        if (score_text(b, s, d->text + u->start, u->end - u->start, &u->res[m], err, errlen) < 0)
            return -1;
        if (!opt->explain)
            continue;
        e = &u->explain[m];
        /* A model that cannot be explained is reported as such, not as a
         * failed request: the scores are still right. */
        e->available = score_explain(b, s, u->res[m].label, opt->explain,
                                     e->pro, &e->npro, e->con, &e->ncon, why, sizeof why) == 0;
        if (!e->available)
            e->npro = e->ncon = 0;
    }
    return 0;
}

static size_t span_len(struct speaker_span sp)
{
    return sp.end - sp.start;
}

static size_t hash_bytes(const char *s, size_t n)
{
    size_t h = 14695981039346656037u;    /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

/* Gathers the distinct names among the n sentences' speakers who[], in
 * order of first appearance, into d->speakers (names copied once into
 * d->names), and sets each unit's speaker and speaker_of[i] to its
 * speaker's index, or SIZE_MAX. A hash keeps this linear however many
 * speakers a hostile document names. */
static void gather_speakers(struct doc_result *d, const struct speaker_span *who, size_t *speaker_of)
{
    size_t n = d->nunits, cap = 16, bytes = 0;
    struct speaker_span *first;    /* the first span of each speaker */
    size_t *slot;                  /* speaker index + 1; 0 when empty */
    char *p;

    while (cap < 2 * n)
        cap *= 2;
    slot = xcalloc(cap, sizeof *slot);
    first = xcalloc(n, sizeof *first);
    for (size_t i = 0; i < n; i++) {
        size_t len = span_len(who[i]), k;
        const char *name = d->text + who[i].start;

        speaker_of[i] = SIZE_MAX;
        if (!SPEAKER_FOUND(who[i]))
            continue;
        for (k = hash_bytes(name, len) & (cap - 1); slot[k]; k = (k + 1) & (cap - 1)) {
            struct speaker_span f = first[slot[k] - 1];
            if (span_len(f) == len && memcmp(d->text + f.start, name, len) == 0)
                break;
        }
        if (!slot[k]) {
            first[d->nspeakers] = who[i];
            slot[k] = ++d->nspeakers;
            bytes += len + 1;
        }
        speaker_of[i] = slot[k] - 1;
    }
    d->speakers = xcalloc(d->nspeakers ? d->nspeakers : 1, sizeof *d->speakers);
    d->names = p = xmalloc(bytes ? bytes : 1);
    for (size_t k = 0; k < d->nspeakers; k++) {
        memcpy(p, d->text + first[k].start, span_len(first[k]));
        p[span_len(first[k])] = '\0';
        d->speakers[k].name = p;
        p += span_len(first[k]) + 1;
    }
    for (size_t i = 0; i < n; i++)
        if (speaker_of[i] != SIZE_MAX)
            d->units[i].speaker = d->speakers[speaker_of[i]].name;
    free(first);
    free(slot);
}

/* Fills the document summary, the label counts and the speakers' scores
 * from the scored sentences. */
static void summarise(struct doc_result *d, const size_t *speaker_of)
{
    size_t ns = d->nspeakers * d->nmodels;

    d->speaker_res_block = xcalloc(ns ? ns : 1, sizeof *d->speaker_res_block);
    d->counts = xcalloc(d->nmodels, sizeof *d->counts);
    for (size_t k = 0; k < d->nspeakers; k++)
        d->speakers[k].res = d->speaker_res_block + k * d->nmodels;
    for (size_t i = 0; i < d->nunits; i++) {
        struct doc_speaker *sp = speaker_of[i] == SIZE_MAX ? NULL : &d->speakers[speaker_of[i]];

        if (sp)
            sp->sentences++;
        for (size_t m = 0; m < d->nmodels; m++) {
            int nl = bundle_label_count(d->models[m].bundle);
            d->counts[m][d->units[i].res[m].label]++;
            for (int l = 0; l < nl; l++) {
                d->summary[m].prob[l] += d->units[i].res[m].prob[l];
                if (sp)
                    sp->res[m].prob[l] += d->units[i].res[m].prob[l];
            }
        }
    }
    for (size_t m = 0; m < d->nmodels; m++) {
        int nl = bundle_label_count(d->models[m].bundle);
        for (int l = 0; l < nl; l++)
            d->summary[m].prob[l] /= (double)d->nunits;
        argmax(&d->summary[m], nl);
        for (size_t k = 0; k < d->nspeakers; k++) {
            for (int l = 0; l < nl; l++)
                d->speakers[k].res[m].prob[l] /= (double)d->speakers[k].sentences;
            argmax(&d->speakers[k].res[m], nl);
        }
    }
}

/* Attributes and scores the n sentences of d, which has a unit for each. */
static enum doc_status analyze_split(struct doc_result *d, const struct sentence *sents,
                                     const struct doc_options *opt, struct score_scratch *s,
                                     char *err, size_t errlen)
{
    size_t n = d->nunits;
    struct speaker_span *who;
    size_t *speaker_of;
    enum doc_status st = DOC_OK;

    for (size_t i = 0; i < n; i++) {
        d->units[i].start = sents[i].start;
        d->units[i].end = sents[i].end;
        d->units[i].char_start = sents[i].char_start;
        d->units[i].char_end = sents[i].char_end;
    }
    who = xcalloc(n, sizeof *who);
    speaker_of = xcalloc(n, sizeof *speaker_of);
    speaker_find(d->text, d->len, sents, n, who);
    gather_speakers(d, who, speaker_of);
    free(who);
    for (size_t i = 0; i < n && st == DOC_OK; i++)
        if (score_unit(d, &d->units[i], opt, s, err, errlen) < 0)
            st = DOC_FAILED;
    if (st == DOC_OK)
        summarise(d, speaker_of);
    free(speaker_of);
    return st;
}

enum doc_status doc_analyze(const char *text, size_t len,
                            const struct doc_model *models, size_t nmodels,
                            const struct doc_options *opt, struct score_scratch *s,
                            struct doc_result **out, char *err, size_t errlen)
{
    struct doc_result *d;
    struct sentence *sents = NULL;
    size_t n = 1, bad;
    enum doc_status st;

    *out = NULL;
    if (!text_is_valid_utf8(text, len, &bad)) {
        snprintf(err, errlen, "invalid UTF-8 (or a NUL) at byte %zu", bad);
        return DOC_BAD_UTF8;
    }
    if (all_space(text, len)) {
        snprintf(err, errlen, "the text is empty");
        return DOC_EMPTY;
    }
    if (opt->split) {
        n = split_sentences(text, len, &sents);
        if (n == 0) {
            snprintf(err, errlen, "the text holds no sentence");
            return DOC_EMPTY;
        }
        if (n > opt->max_sentences) {
            free(sents);
            snprintf(err, errlen, "the text holds %zu sentences; the limit is %zu", n, opt->max_sentences);
            return DOC_TOO_MANY_SENTENCES;
        }
    }
    d = new_doc(models, nmodels, opt->split, n, opt->explain);
    d->text = text;
    d->len = len;
    if (opt->split) {
        st = analyze_split(d, sents, opt, s, err, errlen);
        free(sents);
    } else {
        d->units[0].end = len;
        d->units[0].char_end = text_char_count(text, len);
        st = score_unit(d, &d->units[0], opt, s, err, errlen) < 0 ? DOC_FAILED : DOC_OK;
    }
    if (st != DOC_OK)
        doc_free(&d);
    *out = d;
    return st;
}
