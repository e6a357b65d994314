/*
 * speaker: who is talking. Finds the attributed speaker of each sentence of
 * a document ("X said", "said X", "according to X", "X told reporters", a
 * quotation continuing across sentences). Rule-based; docs/segmentation.md says
 * where it fails.
 */
#ifndef STANCE_SPEAKER_H
#define STANCE_SPEAKER_H

#include <stddef.h>
#include "split.h"

/* For each of the n sentences of text, sets speakers[i] to a newly
 * allocated NUL-terminated name the caller owns (free()), or NULL when no
 * speaker is found. speakers must have room for n pointers. */
void speaker_attribute(const char *text, size_t len,
                       const struct sentence *sents, size_t n,
                       char **speakers);

#endif
