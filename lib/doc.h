/*
 * doc: document analysis. A text is split into sentences (or kept whole),
 * every unit is scored with every requested bundle, and the result is
 * summarised per document and per attributed speaker. proto renders a
 * doc_result as JSON; doc itself knows nothing of the wire.
 */
#ifndef STANCE_DOC_H
#define STANCE_DOC_H

#include <stddef.h>
#include "bundle.h"
#include "score.h"

struct doc_model {
    const char *name;             /* the name clients use, e.g. "stance" */
    const struct bundle *bundle;
};

struct doc_explain {
    int available;                /* 0 when the model cannot be explained (not linear) */
    struct score_reason *pro, *con;
    size_t npro, ncon;
};

/* One scored unit: a sentence, or the whole text when not splitting. */
struct doc_unit {
    size_t start, end;            /* byte range in the text */
    size_t char_start, char_end;  /* the same in code points */
    const char *speaker;          /* NULL when no speaker was found */
    struct score_result *res;     /* one per model */
    struct doc_explain *explain;  /* one per model, NULL unless asked */
};

struct doc_speaker {
    const char *name;
    size_t sentences;
    struct score_result *res;     /* one per model: mean of its sentences' scores */
};

struct doc_result {
    const char *text;             /* the text analysed (borrowed) */
    size_t len;
    const struct doc_model *models; /* the models applied (borrowed) */
    size_t nmodels;
    int split;
    struct score_result *summary; /* one per model: the unit's own, or the mean of the sentences */
    size_t (*counts)[BUNDLE_MAX_LABELS]; /* one row per model: sentences per label (split only) */
    struct doc_unit *units;
    size_t nunits;
    struct doc_speaker *speakers; /* in order of first appearance (split only) */
    size_t nspeakers;
    /* The storage behind the pointers above, a few blocks per document
     * rather than a few allocations per sentence (the units, their scores
     * and explanations and the summary share the result's own block): */
    struct score_result *speaker_res_block;
    char *names;                      /* the speaker names, each NUL-terminated */
};

struct doc_options {
    int split;                    /* split into sentences, else score the whole text */
    size_t explain;               /* features for and against per unit; 0 for none */
    size_t max_sentences;         /* more sentences than this is DOC_TOO_MANY_SENTENCES */
};

enum doc_status {
    DOC_OK,
    DOC_BAD_UTF8,                 /* the text is not valid UTF-8 or holds a NUL */
    DOC_EMPTY,                    /* nothing but white space */
    DOC_TOO_MANY_SENTENCES,
    DOC_FAILED                    /* scoring failed; err says why */
};

/* Analyses text[0..len) with the nmodels models, using scratch s (one per
 * thread). On DOC_OK sets *out to a result the caller owns (free with
 * doc_free()); the result borrows text, models and the bundles' feature
 * strings, so it must not outlive them. Otherwise sets *out to NULL and
 * fills err. */
enum doc_status doc_analyze(const char *text, size_t len,
                            const struct doc_model *models, size_t nmodels,
                            const struct doc_options *opt, struct score_scratch *s,
                            struct doc_result **out, char *err, size_t errlen);

/* Frees *d and sets *d to NULL. Accepts NULL and *d == NULL. */
void doc_free(struct doc_result **d);

#endif
