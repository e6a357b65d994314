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

/* A speaker's name as a byte range of the text: a name is always written
 * out in the document, so attribution need not copy it. */
struct speaker_span {
    size_t start, end;           /* [start, end); start == end when no speaker was found */
};

#define SPEAKER_FOUND(sp) ((sp).end > (sp).start)

/* For each of the n sentences of text, sets who[i] to the span of its
 * speaker's name, or to an empty span when none is found. who must have
 * room for n spans. Allocates nothing that outlives the call. */
void speaker_find(const char *text, size_t len,
                  const struct sentence *sents, size_t n,
                  struct speaker_span *who);

/* The same, each name copied: sets speakers[i] to a newly allocated
 * NUL-terminated name the caller owns (free()), or NULL when no speaker
 * is found. speakers must have room for n pointers. */
void speaker_attribute(const char *text, size_t len,
                       const struct sentence *sents, size_t n,
                       char **speakers);

#endif
