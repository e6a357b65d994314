/*
 * text: validation and normalisation on top of utf8proc. Pure ASCII input,
 * the common case for news wires, takes a direct lower-casing path since
 * NFKC and case folding reduce to tolower there; anything else goes through
 * utf8proc with a custom map for the typographic folds NFKC leaves alone.
 */
#include "text.h"
#include "swar.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

int text_is_valid_utf8(const char *s, size_t len, size_t *bad_offset)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        if (i + 8 <= len) {
            uint64_t x = swar_load(s + i);
            if (!(swar_high(x) | swar_has(x, 0))) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            if (p[i] == 0)
                goto bad;
            i++;
            continue;
        }
        size_t n = text_utf8_char_len(s, len, i);
        if (n == 0)
            goto bad;
        i += n;
    }
    return 1;
bad:
    if (bad_offset)
        *bad_offset = i;
    return 0;
}

/* The code point at s[i] into *cp and its length, or 0 when ill-formed. */
static size_t iterate(const char *s, size_t len, size_t i, int32_t *cp)
{
    utf8proc_int32_t c;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
    *cp = c;
    return n > 0 ? (size_t)n : 0;
}

size_t text_utf8_char_len(const char *s, size_t len, size_t i)
{
    int32_t cp;
    return iterate(s, len, i, &cp);
}

size_t text_decode_multibyte(const char *s, size_t len, size_t i, int32_t *cp)
{
    size_t n = iterate(s, len, i, cp);
    if (n == 0) {
        *cp = 0xFFFD;
        return 1;
    }
    return n;
}

size_t text_char_count(const char *s, size_t len)
{
    size_t n = 0, i = 0;
    for (; i + 8 <= len; i += 8)
        n += swar_starts(swar_load(s + i));
    for (; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

size_t text_prefix_len(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* Folds that NFKC does not do but a reader would: all quotation marks and
 * apostrophes become ASCII ones, all dashes and minus signs a hyphen. */
static utf8proc_int32_t fold_typography(utf8proc_int32_t cp, void *unused)
{
    (void)unused;
    switch (cp) {
    case 0x2018: case 0x2019: case 0x201A: case 0x201B:
    case 0x2032: case 0x02BC: case 0x0060: case 0x00B4:
        return '\'';
    case 0x201C: case 0x201D: case 0x201E: case 0x201F:
    case 0x00AB: case 0x00BB: case 0x2033: case 0x301D: case 0x301E:
        return '"';
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014:
    case 0x2015: case 0x2212: case 0xFE58: case 0xFE63:
        return '-';
    default:
        return cp;
    }
}

/* The fast path: ASCII plus the typographic marks of news copy (curly
 * quotes, dashes, ellipsis, no-break space), for which NFKC with case
 * folding and fold_typography reduce to the byte mapping below. It
 * validates as it goes: every sequence it accepts is well-formed UTF-8
 * without NUL. Writes at most len + 1 bytes to d and returns the length,
 * or (size_t)-1 as soon as anything else appears. */
static size_t fold_common(const char *s, size_t len, char *d)
{
    size_t n = 0, i = 0;
    while (i < len) {
        /* Eight plain ASCII bytes at a time (no NUL, no '`'): lower-case
         * them at once by adding 0x20 to the bytes from 'A' to 'Z'. */
        if (i + 8 <= len) {
            uint64_t x = swar_load(s + i);
            if ((swar_high(x) | swar_has(x, 0) | swar_has(x, '`')) == 0) {
                x |= swar_in_range(x, 'A', 'Z') >> 2;
                memcpy(d + n, &x, 8);
                n += 8;
                i += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == 0)
                return (size_t)-1;
            d[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (c == '`' ? '\'' : (char)c);
            i++;
            continue;
        }
        if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0xA0) {
            d[n++] = ' ';
            i += 2;
            continue;
        }
        if (c != 0xE2 || i + 2 >= len || (unsigned char)s[i + 1] != 0x80 || ((unsigned char)s[i + 2] & 0xC0) != 0x80)
            return (size_t)-1;
        utf8proc_int32_t cp = 0x2000 + ((unsigned char)s[i + 2] & 0x3F);
        if (cp == 0x2026) {
            memcpy(d + n, "...", 3);
            n += 3;
        } else {
            utf8proc_int32_t f = fold_typography(cp, NULL);
            if (f == cp)
                return (size_t)-1;
            d[n++] = (char)f;
        }
        i += 3;
    }
    d[n] = '\0';
    return n;
}

/* The general path: full validation (for its error message), then NFKC,
 * case folding and fold_typography through utf8proc. Returns a malloc'd
 * string. */
static int normalize_slow(const char *s, size_t len, char **out, size_t *out_len,
                          char *err, size_t errlen)
{
    size_t bad;
    if (!text_is_valid_utf8(s, len, &bad)) {
        snprintf(err, errlen, "invalid UTF-8 at byte %zu", bad);
        return -1;
    }
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t mapped = utf8proc_map_custom((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &dst,
                                             UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                                 UTF8PROC_CASEFOLD | UTF8PROC_IGNORE,
                                             fold_typography, NULL);
    if (mapped < 0) {
        snprintf(err, errlen, "cannot normalise text: %s", utf8proc_errmsg(mapped));
        return -1;
    }
    *out = (char *)dst;
    *out_len = (size_t)mapped;
    return 0;
}

int text_normalize(const char *s, size_t len, char **out, size_t *out_len,
                   char *err, size_t errlen)
{
    char *d = xmalloc(len + 1);
    size_t n = fold_common(s, len, d);
    if (n != (size_t)-1) {
        *out = d;
        *out_len = n;
        return 0;
    }
    free(d);
    return normalize_slow(s, len, out, out_len, err, errlen);
}

int text_normalize_into(const char *s, size_t len, char **buf, size_t *cap, size_t *out_len,
                        char *err, size_t errlen)
{
    if (*cap < len + 1) {
        *cap = len + 1 > 256 ? len + 1 : 256;
        free(*buf);
        *buf = xmalloc(*cap);
    }
    size_t n = fold_common(s, len, *buf);
    if (n != (size_t)-1) {
        *out_len = n;
        return 0;
    }
    char *slow;
    if (normalize_slow(s, len, &slow, &n, err, errlen) < 0)
        return -1;
    if (*cap < n + 1) {
        *cap = n + 1;
        free(*buf);
        *buf = xmalloc(*cap);
    }
    memcpy(*buf, slow, n + 1);
    free(slow);
    *out_len = n;
    return 0;
}
