/*
 * score: text in, class probabilities out. For linear models the decision
 * functions (one per class pair, or one per class for one-vs-rest bundles)
 * are collapsed into one weight vector each at load time, so a sentence
 * costs one sparse pass over its features whatever the number of support
 * vectors. One-vs-one probabilities are then made exactly as libsvm's
 * svm_predict_probability makes them; one-vs-rest ones by
 * score_ovr_probabilities below. Other kernels use libsvm.
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
 * svm_predict_probability (one-vs-one) or svm_predict_values (one-vs-rest):
 * the reference the fast path is tested and benchmarked against. */
int score_text_libsvm(const struct bundle *b, struct score_scratch *s,
                      const char *text, size_t len, struct score_result *out,
                      char *err, size_t errlen);

/* The decision values of the text last scored with s: one-vs-one, one per
 * pair in libsvm's pair order (as svm_predict_values writes them);
 * one-vs-rest, one per label in manifest order, positive for the label.
 * Owned by s. */
const double *score_decision_values(const struct score_scratch *s);

struct svm_model;
struct svm_node;

/* One-vs-rest, shared with the trainer so that cross-validation, `eval` and
 * bundles predict alike. A one-vs-rest model predicts the label whose
 * binary model gives the largest decision value, and its probabilities
 * must rank the labels the same way, so each label's sigmoid uses one
 * slope for all labels, and the sigmoids are divided by their sum:
 *   p_i = s_i / sum_j s_j,  s_i = 1 / (1 + exp(-scale * dec_i)).
 * score_ovr_scale gives that slope for the k binary models m[0..k): the
 * mean magnitude of their Platt slopes (libsvm's probA), which is how fast
 * each model's own confidence grows per unit of decision value; 1 when
 * they carry none. Each model's own Platt offset is left out on purpose:
 * per-label offsets would move the most probable label away from the
 * largest decision value. score_ovr_probabilities writes k probabilities
 * into p.
 * score_ovr_decision is binary model m's decision value for x, positive
 * for its label (libsvm label 1) whichever label libsvm lists first. */
double score_ovr_scale(struct svm_model *const *m, int k);
void score_ovr_probabilities(int k, const double *dec, double scale, double *p);
double score_ovr_decision(const struct svm_model *m, const struct svm_node *x);

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
