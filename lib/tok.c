/*
 * tok: a single left-to-right pass over normalised UTF-8. ASCII bytes are
 * classified by one table lookup (the common case, scanned in a tight
 * loop); other code points by their Unicode category.
 */
#include "tok.h"
#include "swar.h"

#include <string.h>
#include <utf8proc.h>

enum { WORD = 1, JOIN = 2, MARK = 4, CLAUSE = 8 };

/* Classes of ASCII bytes: a word character, a joiner kept between two
 * word characters, a punctuation token, a clause end (which closes a
 * negation's scope). Bytes from 0x80 up are decided by wide_word_char. */
static const unsigned char ascii_class[128] = {
    ['0' ... '9'] = WORD, ['a' ... 'z'] = WORD, ['A' ... 'Z'] = WORD,
    ['\''] = JOIN, ['-'] = JOIN, ['.'] = JOIN | CLAUSE,
    ['!'] = MARK | CLAUSE, ['?'] = MARK | CLAUSE, ['"'] = MARK,
    [','] = CLAUSE, [';'] = CLAUSE, [':'] = CLAUSE, ['('] = CLAUSE, [')'] = CLAUSE,
};

/* Length in bytes of the code point starting with a byte >= 0x80 at s[i]
 * (at least 1, even for a stray byte), and its category in *cat. */
static size_t wide_char(const char *s, size_t len, size_t i, utf8proc_category_t *cat)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
    if (n <= 0) {
        *cat = UTF8PROC_CATEGORY_CN;
        return 1;
    }
    *cat = utf8proc_category(cp);
    return (size_t)n;
}

/* Length in bytes of the word character starting with a byte >= 0x80 at
 * s[i], or 0 if it is not one. */
static size_t wide_word_char(const char *s, size_t len, size_t i)
{
    utf8proc_category_t cat;
    size_t n = wide_char(s, len, i, &cat);
    switch (cat) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return n;
    default:
        return 0;
    }
}

/* With TOK_PUNCT: the length of the punctuation mark or symbol that is
 * not a word character at s[i], or 0 for anything else (spaces, controls). */
static size_t punct_char(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80)
        return c > ' ' && c < 0x7f;
    utf8proc_category_t cat;
    size_t n = wide_char(s, len, i, &cat);
    return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_SO ? n : 0;
}

/* Length in bytes of the word character at s[i] (i < len), or 0. */
static inline size_t word_char(const char *s, size_t len, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    return c < 0x80 ? (size_t)(ascii_class[c] & WORD) : wide_word_char(s, len, i);
}

static int is_negation(const char *w, size_t n)
{
    static const struct { const char *w; size_t n; } words[] = {
        { "not", 3 }, { "no", 2 }, { "never", 5 }, { "cannot", 6 }, { "without", 7 },
        { "nor", 3 }, { "neither", 7 }, { "none", 4 }, { "nobody", 6 }, { "nothing", 7 },
        { "nowhere", 7 }, { "hardly", 6 },
    };
    if (n > 3 && memcmp(w + n - 3, "n't", 3) == 0)
        return 1;
    if (w[0] != 'n' && w[0] != 'c' && w[0] != 'w' && w[0] != 'h')
        return 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (words[i].n == n && memcmp(words[i].w, w, n) == 0)
            return 1;
    return 0;
}

size_t tok_split(const char *s, size_t len, unsigned flags,
                 struct tok *out, size_t cap)
{
    size_t n = 0, i = 0;
    int negating = 0, mark_negation = (flags & TOK_NEGATION) != 0;
    while (i < len) {
        size_t w = word_char(s, len, i);
        if (!w) {
            unsigned char c = (unsigned char)s[i];
            unsigned k = c < 0x80 ? ascii_class[c] : 0;
            size_t p = (flags & TOK_PUNCT) ? punct_char(s, len, i) : (k & MARK) != 0;
            if (p) {
                if (n < cap)
                    out[n] = (struct tok){ (uint32_t)i, (uint32_t)p, 0 };
                n++;
            }
            if (k & CLAUSE)
                negating = 0;
            i += p ? p : 1;
            continue;
        }
        size_t start = i;
        i += w;
        for (;;) {
            i = swar_alnum_end(s, i, len);    /* the ASCII WORD bytes */
            size_t k = i < len ? word_char(s, len, i) : 0;
            if (k) {
                i += k;
                continue;
            }
            /* A joiner stays in the word only between two word characters. */
            if (i + 1 < len && (unsigned char)s[i] < 0x80 && (ascii_class[(unsigned char)s[i]] & JOIN) &&
                word_char(s, len, i + 1)) {
                i++;
                continue;
            }
            break;
        }
        size_t wl = i - start;
        if (wl > 2 && s[start + wl - 2] == '\'' && s[start + wl - 1] == 's')
            wl -= 2;
        if (n < cap)
            out[n] = (struct tok){ (uint32_t)start, (uint32_t)wl, (uint8_t)(mark_negation && negating) };
        n++;
        if (mark_negation && is_negation(s + start, wl))
            negating = 1;
    }
    return n;
}
