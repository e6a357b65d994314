/*
 * tok: tokenisation of normalised text (the output of text_normalize).
 * Tokens are spans into the caller's string, so tokenising allocates
 * nothing; negation scope is marked on the tokens it covers.
 */
#ifndef STANCE_TOK_H
#define STANCE_TOK_H

#include <stddef.h>
#include <stdint.h>

struct tok {
    uint32_t start, len;  /* byte span in the normalised string */
    uint8_t negated;      /* inside the scope of a negation word */
};

enum {
    TOK_NEGATION = 1,  /* flag the tokens in a negation's scope */
    TOK_PUNCT = 2,     /* every punctuation mark and symbol is a token */
};

/* Splits s[0..len) into word tokens (letters, digits and marks, with
 * apostrophes, hyphens and full stops kept between them: "don't",
 * "pro-russian", "u.s", "3.5") and the punctuation tokens "!", "?" and
 * '"'; with TOK_PUNCT, every other punctuation mark or symbol outside a
 * word too, one code point per token ("," "(" "-" "$" "—"). A trailing
 * possessive "'s" is dropped. With TOK_NEGATION, tokens after a negation
 * word ("not", "no", "never", "without", "...n't") up to the next clause
 * punctuation are flagged (punctuation tokens never are). Writes at most
 * cap tokens to out and returns the number of tokens in the text (which
 * may exceed cap: call again with room for that many). */
size_t tok_split(const char *s, size_t len, unsigned flags,
                 struct tok *out, size_t cap);

#endif
