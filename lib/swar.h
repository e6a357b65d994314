/*
 * swar: eight bytes at a time in a uint64_t ("SIMD within a register"), for
 * the scans that run over every byte of every request: validation,
 * normalisation, splitting, counting code points, escaping. Nearly all
 * news text is plain ASCII, so a scan tests a whole word at once and falls
 * back to its byte-by-byte rules only where a word holds something to
 * decide. Plain C, any alignment; each test below is exact for the word
 * as a whole (the bit it leaves set need not be the byte it found).
 */
#ifndef STANCE_SWAR_H
#define STANCE_SWAR_H

#include <stdint.h>
#include <string.h>

#define SWAR_ONES 0x0101010101010101ULL
#define SWAR_HIGH 0x8080808080808080ULL

/* The 8 bytes at s. */
static inline uint64_t swar_load(const char *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
    return x;
}

/* Nonzero when some byte of x is below n (n <= 128). */
static inline uint64_t swar_less(uint64_t x, unsigned n)
{
    return (x - SWAR_ONES * n) & ~x & SWAR_HIGH;
}

/* Nonzero when some byte of x equals c. */
static inline uint64_t swar_has(uint64_t x, unsigned char c)
{
    return swar_less(x ^ (SWAR_ONES * c), 1);
}

/* Nonzero when some byte of x is 0x80 or above (not ASCII). */
static inline uint64_t swar_high(uint64_t x)
{
    return x & SWAR_HIGH;
}

/* For x of ASCII bytes only: the high bit of each byte from lo to hi
 * (lo >= 1, hi < 0x80), exact byte by byte. */
static inline uint64_t swar_in_range(uint64_t x, unsigned char lo, unsigned char hi)
{
    return (x + SWAR_ONES * (0x80u - lo)) & ~(x + SWAR_ONES * (0x7Fu - hi)) & SWAR_HIGH;
}

/* For x of ASCII bytes only: the high bit of each letter or digit. */
static inline uint64_t swar_alnum(uint64_t x)
{
    return swar_in_range(x | SWAR_ONES * 0x20, 'a', 'z') | swar_in_range(x, '0', '9');
}

/* The end of the run of ASCII letters and digits that starts at s[i],
 * not beyond len: the first byte from i that is not one, or len. Words
 * are found a word at a time rather than a byte at a time. */
static inline size_t swar_alnum_end(const char *s, size_t i, size_t len)
{
    while (i + 8 <= len) {
        uint64_t x = swar_load(s + i);
        if (swar_high(x))
            break;
        uint64_t stop = ~swar_alnum(x) & SWAR_HIGH;
        if (stop)
            return i + ((unsigned)__builtin_ctzll(stop) >> 3);
        i += 8;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9'))
            break;
    }
    return i;
}

/* How many bytes of x start a UTF-8 code point (are not 10xxxxxx). */
static inline unsigned swar_starts(uint64_t x)
{
    uint64_t cont = (x & ~(x << 1) & SWAR_HIGH) >> 7;    /* 1 in each continuation byte */
    return 8u - (unsigned)((cont * SWAR_ONES) >> 56);
}

#endif
