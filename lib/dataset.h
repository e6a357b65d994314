/*
 * dataset: labelled sentences read from TSV ("label<TAB>sentence") or JSON
 * Lines ({"label": ..., "text": ...}) files, one example per line, with the
 * corpus hash recorded in bundle manifests.
 */
#ifndef STANCE_DATASET_H
#define STANCE_DATASET_H

#include <stddef.h>
#include "bundle.h"

struct dataset {
    size_t n;
    char **text;          /* as read */
    char **norm;          /* normalised with text_normalize */
    size_t *norm_len;
    int *label;           /* index into labels */
    int nlabels;
    char *labels[BUNDLE_MAX_LABELS];
    char sha256[65];      /* of the files' bytes, in the order given */
};

/* Reads every file in order. A line starting with '{' is JSON, any other
 * non-blank line TSV; lines starting with '#' are comments. When labels is
 * not NULL, only those labels (in that order) are accepted; otherwise the
 * labels found are sorted by name. Any bad line fails the whole load with
 * "file:line: reason" in err. Caller owns the result; dataset_free(). */
struct dataset *dataset_load(char *const *files, size_t nfiles,
                             char *const *labels, int nlabels,
                             char *err, size_t errlen);

void dataset_free(struct dataset **d);

/* Counts of each label, into counts[nlabels]. */
void dataset_counts(const struct dataset *d, size_t *counts);

#endif
