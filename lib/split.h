/*
 * split: news-aware sentence segmentation. Works on the original (not
 * normalised) text so that offsets point into what the client sent.
 */
#ifndef STANCE_SPLIT_H
#define STANCE_SPLIT_H

#include <stddef.h>

struct sentence {
    size_t start, end;           /* byte range [start, end) in the text, trimmed of surrounding space */
    size_t char_start, char_end; /* the same range counted in code points */
};

/* Splits the valid UTF-8 text[0..len) into sentences: abbreviations,
 * initials, decimals, ellipses, closing quotes after the full stop,
 * paragraph breaks and missing spaces after a full stop are handled as a
 * careful reader would. Returns the number of sentences (0 for empty or
 * whitespace-only text) and sets *out to an array the caller owns (free()),
 * or to NULL when the count is 0. */
size_t split_sentences(const char *text, size_t len, struct sentence **out);

#endif
