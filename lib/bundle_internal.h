/*
 * The inside of a loaded bundle, shared by bundle.c (which builds it) and
 * score.c (which reads it). Nothing else includes this header.
 */
#ifndef STANCE_BUNDLE_INTERNAL_H
#define STANCE_BUNDLE_INTERNAL_H

#include "bundle.h"
#include "feat.h"
#include <svm.h>

struct bundle {
    char *dir, *name;
    int nlabels;
    char *labels[BUNDLE_MAX_LABELS];
    struct feat_settings fs;
    struct vocab *vocab;
    struct svm_model *model;
    int label_of_svm[BUNDLE_MAX_LABELS]; /* libsvm's class k -> manifest label index */
    int svm_of_label[BUNDLE_MAX_LABELS]; /* and back */
    int linear;
    int npairs;                          /* nlabels * (nlabels - 1) / 2; when linear, each
                                            feature's vocab_row holds its npairs weights */
    cJSON *manifest;
};

#endif
