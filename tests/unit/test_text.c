/* Unit tests for lib/text: validation and the normalisation models see. */
#include "check.h"
#include "swar.h"
#include "text.h"

#include <stdlib.h>

static void check_norm(const char *in, const char *want)
{
    char *out, err[128];
    size_t n;
    int rc = text_normalize(in, strlen(in), &out, &n, err, sizeof err);
    CHECK(rc == 0);
    if (rc == 0) {
        CHECK_STR(out, want);
        CHECK(n == strlen(want));
        free(out);
    }
}

/* A small deterministic generator, so that a failure can be replayed. */
static uint64_t rnd(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return *state >> 11;
}

/* Each swar test against the same question asked byte by byte. */
static void test_swar(void)
{
    static const unsigned char picks[] = {0, 1, 0x1f, 0x20, '"', '0', '9', 'A', 'Z', 'a', 'z', '`', '@',
                                          '[', '{', 0x7f, 0x80, 0xbf, 0xc0, 0xe2, 0xff};
    uint64_t st = 1;
    int bad = 0;

    for (int t = 0; t < 200000; t++) {
        unsigned char b[8];
        uint64_t x;
        int any_less1 = 0, any_less20 = 0, any_quote = 0, any_high = 0, starts = 0, ascii = 1;
        uint64_t range = 0, alnum = 0;

        for (int i = 0; i < 8; i++)
            b[i] = rnd(&st) % 3 ? picks[rnd(&st) % sizeof picks] : (unsigned char)rnd(&st);
        memcpy(&x, b, 8);
        for (int i = 0; i < 8; i++) {
            any_less1 |= b[i] < 1;
            any_less20 |= b[i] < 0x20;
            any_quote |= b[i] == '"';
            any_high |= b[i] >= 0x80;
            starts += (b[i] & 0xC0) != 0x80;
            ascii &= b[i] < 0x80;
            if (b[i] >= 'A' && b[i] <= 'Z')
                range |= (uint64_t)0x80 << (8 * i);
            if ((b[i] | 0x20) >= 'a' && (b[i] | 0x20) <= 'z' && b[i] < 0x80)
                alnum |= (uint64_t)0x80 << (8 * i);
            if (b[i] >= '0' && b[i] <= '9')
                alnum |= (uint64_t)0x80 << (8 * i);
        }
        bad += !swar_less(x, 1) != !any_less1;
        bad += !swar_less(x, 0x20) != !any_less20;
        bad += !swar_has(x, '"') != !any_quote;
        bad += !swar_high(x) != !any_high;
        bad += swar_starts(x) != (unsigned)starts;
        if (ascii) {    /* exact byte by byte, for ASCII only */
            bad += swar_in_range(x, 'A', 'Z') != range;
            bad += swar_alnum(x) != alnum;
        }
    }
    CHECK(bad == 0);
}

/* Validation and counting take eight bytes at a time: a bad byte, a NUL
 * or a multi-byte character at every offset of a longer text. */
static void test_offsets(void)
{
    char buf[48];
    size_t bad;

    for (size_t p = 0; p + 3 <= sizeof buf; p++) {
        memset(buf, 'a', sizeof buf);
        buf[p] = '\xff';
        CHECK(!text_is_valid_utf8(buf, sizeof buf, &bad) && bad == p);
        buf[p] = '\0';
        CHECK(!text_is_valid_utf8(buf, sizeof buf, &bad) && bad == p);
        memcpy(buf + p, "\xe2\x80\x9c", 3);    /* “ */
        CHECK(text_is_valid_utf8(buf, sizeof buf, NULL));
        CHECK(text_char_count(buf, sizeof buf) == sizeof buf - 2);
        CHECK(text_char_count(buf, p + 1) == p + 1);
        CHECK(text_char_count(buf, p + 3) == p + 1);
    }
}

/* Prefixes end between code points: a cut inside “ backs off to before it. */
static void test_prefixes(void)
{
    CHECK(text_prefix_len("abc", 5) == 3);
    CHECK(text_prefix_len("abc", 3) == 3);
    CHECK(text_prefix_len("abc", 2) == 2);
    CHECK(text_prefix_len("a\xe2\x80\x9c", 1) == 1);
    CHECK(text_prefix_len("a\xe2\x80\x9c", 2) == 1);
    CHECK(text_prefix_len("a\xe2\x80\x9c", 3) == 1);
    CHECK(text_prefix_len("a\xe2\x80\x9c", 4) == 4);
    CHECK(text_prefix_len("a\xe2\x80\x9c" "b", 4) == 4);
    CHECK(text_prefix_len("\xe2\x80\x9c", 2) == 0);
}

int main(void)
{
    size_t bad = 0;
    CHECK(text_is_valid_utf8("plain", 5, NULL));
    CHECK(text_is_valid_utf8("Zürich – “talks”", strlen("Zürich – “talks”"), NULL));
    CHECK(!text_is_valid_utf8("ab\xff", 3, &bad) && bad == 2);
    CHECK(!text_is_valid_utf8("a\xc3", 2, &bad) && bad == 1);        /* truncated sequence */
    CHECK(!text_is_valid_utf8("\xed\xa0\x80", 3, &bad) && bad == 0); /* surrogate */
    CHECK(!text_is_valid_utf8("\xc0\xaf", 2, &bad));                 /* overlong */
    CHECK(!text_is_valid_utf8("a\0b", 3, &bad) && bad == 1);         /* NUL */

    CHECK(text_char_count("Zürich", strlen("Zürich")) == 6);
    CHECK(text_char_count("", 0) == 0);

    check_norm("They WILL Send Troops", "they will send troops");
    check_norm("don’t", "don't");
    check_norm("“No,” he said", "\"no,\" he said");
    check_norm("talks — maybe – soon", "talks - maybe - soon");
    check_norm("ＴＲＯＯＰＳ １２", "troops 12");          /* NFKC full width */
    check_norm("ﬁnal", "final");                         /* NFKC ligature */
    check_norm("STRASSE Straße", "strasse strasse");      /* case folding */
    check_norm("cease\xc2\xa0" "fire", "cease fire");      /* no-break space */
    check_norm("soft\xc2\xad" "hyphen", "softhyphen");     /* default-ignorable */
    check_norm("wait…", "wait...");
    /* the typographic fast path and the utf8proc path agree */
    check_norm("“Don’t” – he said… ", "\"don't\" - he said... ");
    check_norm("“Don’t” – he said… é", "\"don't\" - he said... é");
    check_norm("a\xe2\x80\x8b" "b", "ab");               /* zero-width space: utf8proc path */
    check_norm("x\xe2\x80\x83y", "x y");                 /* em space */

    /* eight bytes at a time: every letter case, '`', and the edges of a word */
    check_norm("ABCDEFGHIJKLMNOPQRSTUVWXYZ@[`{abcdefghijklmnopqrstuvwxyz",
               "abcdefghijklmnopqrstuvwxyz@['{abcdefghijklmnopqrstuvwxyz");
    check_norm("They SAID `No` to THE Talks, AGAIN.", "they said 'no' to the talks, again.");
    check_norm("SEVEN CHARS then “EIGHT”", "seven chars then \"eight\"");

    char *out, err[128];
    size_t n;
    CHECK(text_normalize("bad\xfe", 4, &out, &n, err, sizeof err) == -1);
    CHECK(strstr(err, "byte 3") != NULL);
    CHECK(text_normalize("abcdefgh\0jklmnop", 17, &out, &n, err, sizeof err) == -1);
    CHECK(strstr(err, "byte 8") != NULL);
    CHECK(text_normalize("abcdefgh\xe2\x80", 10, &out, &n, err, sizeof err) == -1);  /* cut off */
    CHECK(text_normalize("abc\xe2\x80(", 6, &out, &n, err, sizeof err) == -1);      /* not a continuation */

    /* the reusable buffer gives the same text, growing when it must */
    char *buf = NULL;
    size_t cap = 0;
    CHECK(text_normalize_into("Troops MASSED", 13, &buf, &cap, &n, err, sizeof err) == 0);
    CHECK(n == 13 && strcmp(buf, "troops massed") == 0);
    char big[1000];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(text_normalize_into(big, strlen(big), &buf, &cap, &n, err, sizeof err) == 0);
    CHECK(n == 999 && cap >= 1000 && buf[0] == 'a' && buf[998] == 'a' && buf[999] == '\0');
    CHECK(text_normalize_into("ＴＲＯＯＰＳ", strlen("ＴＲＯＯＰＳ"), &buf, &cap, &n, err, sizeof err) == 0);
    CHECK(n == 6 && strcmp(buf, "troops") == 0);
    CHECK(text_normalize_into("bad\xfe", 4, &buf, &cap, &n, err, sizeof err) == -1);
    free(buf);
    test_swar();
    test_offsets();
    test_prefixes();
    return check_report("test_text");
}
