/*
 * train: fitting feature vocabularies and libsvm models, stratified
 * cross-validation and grid search. Every fit fits its own vocabulary on
 * its own training rows, so IDF and NB weights never see a test fold.
 */
#ifndef STANCE_TRAIN_H
#define STANCE_TRAIN_H

#include <stddef.h>
#include "dataset.h"
#include "feat.h"
#include "metrics.h"

struct svm_model;
struct svm_node;

struct train_params {
    struct feat_settings fs;
    int kernel;          /* libsvm's LINEAR or RBF */
    double C, gamma;
    int balanced;        /* weight classes by n / (k * n_class); one-vs-rest
                            weights each binary model's two sides by n / (2 * n_side) */
    int one_vs_rest;     /* one binary model per label against all the others,
                            instead of libsvm's one model per pair of labels */
    unsigned seed;
    int threads;         /* for cross-validation and grid search */
};

void train_params_default(struct train_params *p);

/* A fitted model: its vocabulary and libsvm models, which point into
 * memory held here. One-vs-one fits have one model (nmodels 1), whose
 * libsvm labels are the dataset's label indices; one-vs-rest fits have one
 * binary model per label, model[c] telling label c (libsvm label 1) from
 * the others (libsvm label 0). Free with train_fit_free(). */
struct train_fit {
    struct vocab *vocab;
    struct svm_model *model[BUNDLE_MAX_LABELS];
    int nmodels;
    struct svm_node *pool;
    struct svm_node **rows;
    double *y;
};

/* Fits on rows idx[0..n) of d (all rows when idx is NULL). With
 * probability, libsvm also fits its Platt sigmoids (seeded from p->seed).
 * Returns 0, or -1 with err filled (libsvm's parameter check). */
int train_fit(const struct dataset *d, const size_t *idx, size_t n,
              const struct train_params *p, int probability,
              struct train_fit *out, char *err, size_t errlen);
void train_fit_free(struct train_fit *f);

/* The label index the fit predicts for the normalised text norm[0..len):
 * one-vs-one, with prob (room for the labels; filled in no promised order)
 * the most probable label as bundles predict it, else libsvm's vote;
 * one-vs-rest, the label whose model gives the largest decision value,
 * which is also the most probable (prob as score_ovr_probabilities fills
 * it). s and *buf (*cap entries, grown as needed; the caller frees it) are
 * the caller's working memory. */
int train_predict(const struct train_fit *fit, const struct feat_settings *fs,
                  struct feat_scratch *s, struct svm_node **buf, size_t *cap,
                  const char *norm, size_t len, double *prob);

/* Called after each finished fit with the count done and the total. */
typedef void (*train_progress_fn)(void *ctx, int done, int total);

/* Stratified K-fold cross-validation with fold assignment drawn from
 * p->seed; the confusion over all folds goes into *out. */
int train_cv(const struct dataset *d, const struct train_params *p, int folds,
             struct metrics *out, train_progress_fn progress, void *ctx,
             char *err, size_t errlen);

/* Grid search by cross-validated macro-F1 over Cs (and gammas for RBF;
 * pass ngammas 0 for linear). Sets p->C (and p->gamma) to the best and
 * its figures into *best. */
int train_grid(const struct dataset *d, struct train_params *p, int folds,
               const double *Cs, int nC, const double *gammas, int ngammas,
               struct metrics *best, train_progress_fn progress, void *ctx,
               char *err, size_t errlen);

#endif
