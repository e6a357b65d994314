/*
 * metrics: confusion matrices and the figures derived from them, shared by
 * cross-validation, evaluation and the comparison with other classifiers.
 */
#ifndef STANCE_METRICS_H
#define STANCE_METRICS_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "bundle.h"

struct metrics {
    int k;
    long confusion[BUNDLE_MAX_LABELS][BUNDLE_MAX_LABELS];  /* [truth][predicted] */
};

void metrics_init(struct metrics *m, int k);
void metrics_add(struct metrics *m, int truth, int predicted);
void metrics_merge(struct metrics *into, const struct metrics *from);
double metrics_accuracy(const struct metrics *m);

/* Precision, recall and F1 of class c (0 where undefined). */
void metrics_class(const struct metrics *m, int c, double *precision, double *recall, double *f1);

/* Mean F1 over the classes that occur in the truth: a dev set that lacks
 * a class (the real stance data has no neutral) is scored on the classes
 * it has, while predictions of the missing class still cost recall. */
double metrics_macro_f1(const struct metrics *m);

/* {"accuracy", "macro_f1", "n", "per_class": {label: {precision, recall,
 * f1, support}}, "confusion": {"labels": [...], "matrix": [[...]]}}.
 * Caller owns it. */
cJSON *metrics_to_json(const struct metrics *m, char *const *labels);

/* A readable multi-line report (figures, per-class table, confusion
 * matrix). Caller owns the string; free(). */
char *metrics_report(const struct metrics *m, char *const *labels);

#endif
