/*
 * test_split: runs every case of tests/split_cases.txt through
 * split_sentences and checks the sentences and both kinds of offsets, then
 * checks the edge cases a data file cannot express (empty input, exact
 * offsets in non-ASCII text, linear time on 10 MB). Run from the repo root.
 */
#include "check.h"
#include "split.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#define CASES "tests/split_cases.txt"

static size_t count_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static int is_ascii_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Expected lines may write a line break inside a sentence as \n. */
static char *unescape(const char *s, size_t n)
{
    char *d = xmalloc(n + 1), *o = d;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && s[i + 1] == 'n') {
            *o++ = '\n';
            i++;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return d;
}

/* Splits in[0..n) and compares with the expected sentences. The input is
 * copied into a buffer of exactly n bytes with no NUL so that ASan sees any
 * read past the end. */
static void run_case(const char *name, int line, const char *in, size_t n,
                     char **want, size_t nwant)
{
    char *text = xmalloc(n ? n : 1);
    memcpy(text, in, n);
    struct sentence *s = NULL;
    size_t got = split_sentences(text, n, &s);
    int ok = got == nwant;
    for (size_t i = 0; ok && i < got; i++) {
        ok = s[i].end - s[i].start == strlen(want[i]) &&
             memcmp(text + s[i].start, want[i], strlen(want[i])) == 0;
        CHECK(s[i].char_start == count_chars(text, s[i].start));
        CHECK(s[i].char_end == count_chars(text, s[i].end));
        CHECK(!is_ascii_space(text[s[i].start]) && !is_ascii_space(text[s[i].end - 1]));
        CHECK(i == 0 || s[i].start >= s[i - 1].end);
    }
    if (ok) {
        check_passed++;
    } else {
        check_failed++;
        fprintf(stderr, "%s:%d: case \"%s\": got %zu sentence(s), want %zu\n",
                CASES, line, name, got, nwant);
        for (size_t i = 0; i < got; i++)
            fprintf(stderr, "    got  [%.*s]\n", (int)(s[i].end - s[i].start), text + s[i].start);
        for (size_t i = 0; i < nwant; i++)
            fprintf(stderr, "    want [%s]\n", want[i]);
    }
    CHECK((got == 0) == (s == NULL));
    free(s);
    free(text);
}

/* The file: anything before the first "===" line is commentary; each case
 * is a "=== name" line, the input lines (blank lines included), a "---"
 * line, and one expected sentence per line. */
static size_t run_file(void)
{
    size_t len;
    char *buf = check_slurp(CASES, &len);
    CHECK(buf != NULL);
    if (!buf)
        return 0;
    size_t ncases = 0, pos = 0;
    int lineno = 0;
    enum { OUTSIDE, INPUT, EXPECT } state = OUTSIDE;
    const char *name = NULL, *in = NULL;
    size_t name_len = 0, in_len = 0, nwant = 0, cap = 0;
    int case_line = 0;
    char **want = NULL;
    while (pos <= len) {
        size_t eol = pos;
        while (eol < len && buf[eol] != '\n')
            eol++;
        const char *line = buf + pos;
        size_t n = eol - pos;
        lineno++;
        int header = n >= 3 && memcmp(line, "===", 3) == 0;
        if (header || pos == len) {
            if (state == EXPECT) {
                char *nm = xstrndup(name, name_len);
                run_case(nm, case_line, in, in_len, want, nwant);
                free(nm);
                ncases++;
            } else if (state == INPUT) {
                fprintf(stderr, "%s:%d: case has no --- line\n", CASES, case_line);
                check_failed++;
            }
            for (size_t i = 0; i < nwant; i++)
                free(want[i]);
            nwant = 0;
            if (pos == len)
                break;
            name = line + 3;
            name_len = n - 3;
            while (name_len && *name == ' ') {
                name++;
                name_len--;
            }
            in = buf + eol + 1;
            in_len = 0;
            case_line = lineno;
            state = INPUT;
        } else if (state == INPUT && n == 3 && memcmp(line, "---", 3) == 0) {
            /* The input ends before the newline that precedes "---". */
            in_len = line > in ? (size_t)(line - 1 - in) : 0;
            state = EXPECT;
        } else if (state == EXPECT && n > 0) {
            if (nwant == cap)
                want = xrealloc(want, (cap = cap ? cap * 2 : 8) * sizeof *want);
            want[nwant++] = unescape(line, n);
        }
        pos = eol < len ? eol + 1 : len;
    }
    free(want);
    free(buf);
    return ncases;
}

static void test_empty(void)
{
    struct sentence *s = (struct sentence *)&s;
    CHECK(split_sentences("", 0, &s) == 0);
    CHECK(s == NULL);
    CHECK(split_sentences(" \n\t \n\n ", 7, &s) == 0);
    CHECK(s == NULL);
}

/* Exact offsets where bytes and code points differ: "é" is 2 bytes, "—" and
 * "“" 3, "😀" 4. */
static void test_offsets(void)
{
    const char *t = "  Café — “Ça va.” 😀 Привет, мир. Fin";
    struct sentence *s;
    size_t n = split_sentences(t, strlen(t), &s);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(s[0].start == 2 && s[0].char_start == 2);
        CHECK(s[0].end == 25 && s[0].char_end == 17);
        CHECK(s[1].start == 26 && s[1].char_start == 18);
        CHECK(s[1].end == 52 && s[1].char_end == 32);
        CHECK(s[2].start == 53 && s[2].char_start == 33);
        CHECK(s[2].end == 56 && s[2].char_end == 36);
    }
    free(s);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Fills n bytes with copies of unit and splits them, returning the time. */
static double time_split(const char *unit, size_t n, size_t *count)
{
    size_t u = strlen(unit);
    char *t = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        t[i] = unit[i % u];
    while (n && ((unsigned char)t[n - 1] & 0xC0) == 0x80)   /* no cut code point */
        n--;
    struct sentence *s;
    double t0 = seconds();
    *count = split_sentences(t, n, &s);
    double dt = seconds() - t0;
    free(s);
    free(t);
    return dt;
}

/* Inputs built to defeat look-behind and look-ahead: one long word of
 * abbreviation shape, a run of stops, a run of spaces, real prose. A
 * quadratic scan would take 100 times longer on 10 MB than on 1 MB (and
 * minutes on 1 MB already); allow 25, plus a quarter second, and take the
 * best of three runs, because the machine running the suite may be busy. */
static void test_linear(void)
{
    static const char *const units[] = {
        "a.", "U.S.", ".", " ", "\"", "x", "Mr. Smith said the U.S. economy grew 3.5 percent. ",
        "Он сказал: «Нет…» Потом ушёл. 我们不会撤退。",
    };
    const size_t small = 1 << 20, big = 10 << 20;
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        size_t n1, n2;
        double t1 = 1e9, t2 = 1e9;
        for (int run = 0; run < 3; run++) {
            t1 = fmin(t1, time_split(units[k], small, &n1));
            t2 = fmin(t2, time_split(units[k], big, &n2));
        }
        CHECK(t2 < 25 * t1 + 0.25);
        CHECK(n2 >= n1);
        if (!(t2 < 25 * t1 + 0.25))
            fprintf(stderr, "unit %zu: 1 MB %.3fs, 10 MB %.3fs\n", k, t1, t2);
    }
}

int main(void)
{
    size_t n = run_file();
    CHECK(n >= 60);
    test_empty();
    test_offsets();
    test_linear();
    printf("split cases: %zu\n", n);
    return check_report("test_split");
}
