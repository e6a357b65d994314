/*
 * The inside of a loaded bundle, shared by bundle.c (which builds it) and
 * score.c (which reads it). Nothing else includes this header.
 */
#ifndef STANCE_BUNDLE_INTERNAL_H
#define STANCE_BUNDLE_INTERNAL_H

#include "bundle.h"
#include "feat.h"
#include <svm.h>

#define BUNDLE_MAX_DECISIONS (BUNDLE_MAX_LABELS * (BUNDLE_MAX_LABELS - 1) / 2)

/* A one-vs-rest binary model's decision values face the label libsvm lists
 * first: +1 when that is the model's label (libsvm label 1), -1 when it is
 * the rest, so that sign times a decision value favours the label. */
static inline double ovr_sign(const struct svm_model *m)
{
    return m->label[0] == 1 ? 1 : -1;
}

struct bundle {
    char *dir, *name;
    int nlabels;
    char *labels[BUNDLE_MAX_LABELS];
    struct feat_settings fs;
    struct vocab *vocab;
    /* One-vs-one: model[0], one libsvm model over all the labels, with
     * label_of_svm / svm_of_label mapping its classes to manifest labels.
     * One-vs-rest: model[i] (i < nlabels) tells manifest label i (libsvm
     * label 1) from the rest (0). */
    int one_vs_rest;
    int nmodels;
    struct svm_model *model[BUNDLE_MAX_LABELS];
    int label_of_svm[BUNDLE_MAX_LABELS];
    int svm_of_label[BUNDLE_MAX_LABELS];
    int linear;
    /* The decision functions: one per pair of labels in libsvm's pair order
     * (one-vs-one) or one per manifest label, positive for the label
     * (one-vs-rest). When linear, each feature's vocab_row holds its
     * ndecisions weights, and decision d is bias[d] plus the row's dot
     * product with the text's vector. */
    int ndecisions;
    double bias[BUNDLE_MAX_DECISIONS];
    double ovr_scale;                    /* one-vs-rest: score_ovr_scale of the models */
    cJSON *manifest;
};

#endif
