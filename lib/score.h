/*
 * score: text in, class probabilities out. For linear models the decision
 * functions (one per class pair, or one per class for one-vs-rest bundles)
 * are collapsed into one weight vector each at load time, so a sentence
 * costs one sparse pass over its features whatever the number of support
 * vectors; the probabilities are then made exactly as libsvm's
 * svm_predict_probability makes them (one-vs-rest: each binary model's,
 * divided by their sum). Other kernels use libsvm.
 */
#ifndef STANCE_SCORE_H
#define STANCE_SCORE_H

#include <stddef.h>
#include "bundle.h"

/* Per-thread working memory, reused across calls so that scoring does not
 * allocate per token. One scratch per thread; it may serve many bundles. */
struct score_scratch;

/* Caller owns the result; free with score_scratch_free(). */
struct score_scratch *score_scratch_new(void);

/* Frees *s and sets *s to NULL. Accepts NULL and *s == NULL. */
void score_scratch_free(struct score_scratch **s);

struct score_result {
    int label;                        /* index of the most probable label */
    double prob[BUNDLE_MAX_LABELS];   /* per label, bundle order, sums to 1 */
};

/* Scores the UTF-8 text[0..len) (normalised internally) with bundle b.
 * Returns 0 and fills *out, or -1 with err filled for invalid UTF-8.
 * Empty text is valid and scores as the model's prior for no features. */
int score_text(const struct bundle *b, struct score_scratch *s,
               const char *text, size_t len, struct score_result *out,
               char *err, size_t errlen);

/* The same as score_text but always through libsvm's own
 * svm_predict_probability: the reference the fast path is tested and
 * benchmarked against. */
int score_text_libsvm(const struct bundle *b, struct score_scratch *s,
                      const char *text, size_t len, struct score_result *out,
                      char *err, size_t errlen);

/* The decision values of the text last scored with s: one-vs-one, one per
 * pair in libsvm's pair order (as svm_predict_values writes them);
 * one-vs-rest, one per label in manifest order, positive for the label.
 * Owned by s. */
const double *score_decision_values(const struct score_scratch *s);

struct score_reason {
    const char *feature;  /* e.g. "w:troops", "b:will not"; owned by the bundle */
    double weight;        /* contribution to the chosen label's decision */
};

/* Explains the text last scored with s and b: up to k features that pushed
 * most towards label and up to k that pushed most against it, strongest
 * first, into pro[] and con[] (room for k each), counts in *npro, *ncon.
 * Returns -1 with err filled when the model is not linear. */
int score_explain(const struct bundle *b, const struct score_scratch *s,
                  int label, size_t k,
                  struct score_reason *pro, size_t *npro,
                  struct score_reason *con, size_t *ncon,
                  char *err, size_t errlen);

#endif
