/*
 * text: UTF-8 validation and the normalisation every model sees. Training
 * and scoring both go through text_normalize, so "don’t" and "don't", or a
 * full-width digit and an ASCII one, become the same tokens.
 */
#ifndef STANCE_TEXT_H
#define STANCE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Returns 1 if s[0..len) is well-formed UTF-8 with no NUL byte, else 0 and,
 * if bad_offset is not NULL, the byte offset of the first bad sequence. */
int text_is_valid_utf8(const char *s, size_t len, size_t *bad_offset);

/* Length in bytes of the well-formed code point at s[i] (i < len), or 0
 * when the bytes there are not one (a stray or overlong byte, a
 * surrogate, a sequence cut short). */
size_t text_utf8_char_len(const char *s, size_t len, size_t i);

/* text_decode for a code point of more than one byte; use text_decode. */
size_t text_decode_multibyte(const char *s, size_t len, size_t i, int32_t *cp);

/* Decodes the code point at s[i] (i < len) into *cp and returns its length
 * in bytes. A bad byte decodes as U+FFFD of length 1, so that a scan over
 * untrusted bytes stays memory-safe and always advances. Inline for ASCII,
 * nearly every byte the scanners decode. */
static inline size_t text_decode(const char *s, size_t len, size_t i, int32_t *cp)
{
    if ((unsigned char)s[i] < 0x80) {
        *cp = (unsigned char)s[i];
        return 1;
    }
    return text_decode_multibyte(s, len, i, cp);
}

/* Number of code points in the valid UTF-8 string s[0..len). */
size_t text_char_count(const char *s, size_t len);

/* The length of the longest prefix of the valid UTF-8 string s that is at
 * most max bytes and ends between code points: for quoting a bounded piece
 * of a name in a message that must stay valid UTF-8. */
size_t text_prefix_len(const char *s, size_t max);

/* NFKC, case folding, and typographic folding (curly quotes and
 * apostrophes to ASCII, dashes to '-', ellipsis to "...", Unicode spaces to
 * ' '). On success returns 0 and sets *out to a NUL-terminated string the
 * caller owns (free()) and *out_len to its length. Returns -1 and fills err
 * for invalid UTF-8. */
int text_normalize(const char *s, size_t len, char **out, size_t *out_len,
                   char *err, size_t errlen);

/* The same normalisation into a buffer the caller keeps across calls, so
 * that the common case allocates nothing: *buf (NULL or malloc'd, *cap
 * bytes) is replaced by a larger one when needed and receives the
 * NUL-terminated result, its length in *out_len. The caller owns *buf
 * (free()). Returns -1 and fills err for invalid UTF-8. */
int text_normalize_into(const char *s, size_t len, char **buf, size_t *cap, size_t *out_len,
                        char *err, size_t errlen);

#endif
