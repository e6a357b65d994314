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

static void free_units(struct doc_unit *u, size_t n, size_t nmodels)
{
    for (size_t i = 0; i < n; i++) {
        free(u[i].speaker);
        free(u[i].res);
        if (u[i].explain)
            for (size_t m = 0; m < nmodels; m++) {
                free(u[i].explain[m].pro);
                free(u[i].explain[m].con);
            }
        free(u[i].explain);
    }
    free(u);
}

void doc_free(struct doc_result **dp)
{
    struct doc_result *d;

    if (!dp || !*dp)
        return;
    d = *dp;
    free_units(d->units, d->nunits, d->nmodels);
    for (size_t i = 0; i < d->nspeakers; i++) {
        free(d->speakers[i].name);
        free(d->speakers[i].res);
    }
    free(d->speakers);
    free(d->summary);
    free(d->counts);
    free(d);
    *dp = NULL;
}

/* Scores unit u with every model and, when asked, explains each score. */
static int score_unit(struct doc_result *d, struct doc_unit *u, const struct doc_options *opt,
                      struct score_scratch *s, char *err, size_t errlen)
{
    char why[256];

    u->res = xcalloc(d->nmodels, sizeof *u->res);
    if (opt->explain)
        u->explain = xcalloc(d->nmodels, sizeof *u->explain);
    for (size_t m = 0; m < d->nmodels; m++) {
        const struct bundle *b = d->models[m].bundle;
        struct doc_explain *e;

        if (score_text(b, s, d->text + u->start, u->end - u->start, &u->res[m], err, errlen) < 0)
            return -1;
        if (!opt->explain)
            continue;
        e = &u->explain[m];
        e->pro = xcalloc(opt->explain, sizeof *e->pro);
        e->con = xcalloc(opt->explain, sizeof *e->con);
        /* A model that cannot be explained is reported as such, not as a
         * failed request: the scores are still right. */
        e->available = score_explain(b, s, u->res[m].label, opt->explain,
                                     e->pro, &e->npro, e->con, &e->ncon, why, sizeof why) == 0;
        if (!e->available)
            e->npro = e->ncon = 0;
    }
    return 0;
}

/* Fills the document summary, the label counts and the speakers from the
 * scored sentences. */
static void summarise(struct doc_result *d, char **speaker_of)
{
    d->counts = xcalloc(d->nmodels, sizeof *d->counts);
    d->speakers = xcalloc(d->nunits ? d->nunits : 1, sizeof *d->speakers);
    for (size_t i = 0; i < d->nunits; i++) {
        struct doc_speaker *sp = NULL;

        if (speaker_of[i]) {
            for (size_t k = 0; k < d->nspeakers && !sp; k++)
                if (strcmp(d->speakers[k].name, speaker_of[i]) == 0)
                    sp = &d->speakers[k];
            if (!sp) {
                sp = &d->speakers[d->nspeakers++];
                sp->name = xstrdup(speaker_of[i]);
                sp->res = xcalloc(d->nmodels, sizeof *sp->res);
            }
            sp->sentences++;
        }
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

static enum doc_status analyze_split(struct doc_result *d, const struct doc_options *opt,
                                     struct score_scratch *s, char *err, size_t errlen)
{
    struct sentence *sents = NULL;
    size_t n = split_sentences(d->text, d->len, &sents);
    char **speaker_of;

    if (n == 0) {
        free(sents);
        snprintf(err, errlen, "the text holds no sentence");
        return DOC_EMPTY;
    }
    if (n > opt->max_sentences) {
        free(sents);
        snprintf(err, errlen, "the text holds %zu sentences; the limit is %zu", n, opt->max_sentences);
        return DOC_TOO_MANY_SENTENCES;
    }
    speaker_of = xcalloc(n, sizeof *speaker_of);
    speaker_attribute(d->text, d->len, sents, n, speaker_of);
    d->units = xcalloc(n, sizeof *d->units);
    d->nunits = n;
    for (size_t i = 0; i < n; i++) {
        d->units[i].start = sents[i].start;
        d->units[i].end = sents[i].end;
        d->units[i].char_start = sents[i].char_start;
        d->units[i].char_end = sents[i].char_end;
    }
    free(sents);
    for (size_t i = 0; i < n; i++)
        if (score_unit(d, &d->units[i], opt, s, err, errlen) < 0) {
            for (size_t k = 0; k < n; k++)
                free(speaker_of[k]);
            free(speaker_of);
            return DOC_FAILED;
        }
    summarise(d, speaker_of);
    /* The units take over the names; summarise copied what it needed. */
    for (size_t i = 0; i < n; i++)
        d->units[i].speaker = speaker_of[i];
    free(speaker_of);
    return DOC_OK;
}

enum doc_status doc_analyze(const char *text, size_t len,
                            const struct doc_model *models, size_t nmodels,
                            const struct doc_options *opt, struct score_scratch *s,
                            struct doc_result **out, char *err, size_t errlen)
{
    struct doc_result *d;
    enum doc_status st = DOC_OK;
    size_t bad;

    *out = NULL;
    if (!text_is_valid_utf8(text, len, &bad)) {
        snprintf(err, errlen, "invalid UTF-8 (or a NUL) at byte %zu", bad);
        return DOC_BAD_UTF8;
    }
    if (all_space(text, len)) {
        snprintf(err, errlen, "the text is empty");
        return DOC_EMPTY;
    }
    d = xcalloc(1, sizeof *d);
    d->text = text;
    d->len = len;
    d->models = models;
    d->nmodels = nmodels;
    d->split = opt->split;
    d->summary = xcalloc(nmodels ? nmodels : 1, sizeof *d->summary);
    if (opt->split) {
        st = analyze_split(d, opt, s, err, errlen);
    } else {
        d->units = xcalloc(1, sizeof *d->units);
        d->nunits = 1;
        d->units[0].end = len;
        d->units[0].char_end = text_char_count(text, len);
        if (score_unit(d, &d->units[0], opt, s, err, errlen) < 0)
            st = DOC_FAILED;
        else
            memcpy(d->summary, d->units[0].res, nmodels * sizeof *d->summary);
    }
    if (st != DOC_OK)
        doc_free(&d);
    *out = d;
    return st;
}
