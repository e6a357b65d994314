/*
 * test_speaker: runs every document of tests/speaker_cases.txt through
 * split_sentences and speaker_attribute and checks each sentence's speaker.
 * Run from the repo root.
 */
#include "check.h"
#include "speaker.h"
#include "split.h"
#include "xalloc.h"

#include <stdlib.h>

#define CASES "tests/speaker_cases.txt"
#define ARROW " => "

struct expect {
    const char *sent, *who;   /* borrowed from the file buffer */
    size_t sent_len, who_len;
};

static int same(const char *a, size_t alen, const char *b)
{
    return b && strlen(b) == alen && memcmp(a, b, alen) == 0;
}

/* Analyses in[0..n), copied into an exact-size buffer so ASan sees any
 * read past the end, and compares sentence by sentence. */
static void run_case(const char *name, size_t name_len, int line,
                     const char *in, size_t n, const struct expect *want, size_t nwant)
{
    char *text = xmalloc(n ? n : 1);
    memcpy(text, in, n);
    struct sentence *s;
    size_t got = split_sentences(text, n, &s);
    char **who = xcalloc(got ? got : 1, sizeof *who);
    speaker_attribute(text, n, s, got, who);
    int ok = got == nwant;
    for (size_t i = 0; ok && i < got; i++) {
        const struct expect *w = &want[i];
        ok = s[i].end - s[i].start == w->sent_len &&
             memcmp(text + s[i].start, w->sent, w->sent_len) == 0 &&
             (w->who_len == 1 && w->who[0] == '-' ? who[i] == NULL
                                                  : same(w->who, w->who_len, who[i]));
    }
    if (ok) {
        check_passed++;
    } else {
        check_failed++;
        fprintf(stderr, "%s:%d: case \"%.*s\"\n", CASES, line, (int)name_len, name);
        for (size_t i = 0; i < got; i++)
            fprintf(stderr, "    got  %.*s" ARROW "%s\n", (int)(s[i].end - s[i].start),
                    text + s[i].start, who[i] ? who[i] : "-");
        for (size_t i = 0; i < nwant; i++)
            fprintf(stderr, "    want %.*s" ARROW "%.*s\n", (int)want[i].sent_len,
                    want[i].sent, (int)want[i].who_len, want[i].who);
    }
    for (size_t i = 0; i < got; i++)
        free(who[i]);
    free(who);
    free(s);
    free(text);
}

/* Finds the last ARROW in line[0..n); returns n when there is none. */
static size_t find_arrow(const char *line, size_t n)
{
    size_t al = strlen(ARROW);
    for (size_t i = n; i >= al; i--)
        if (memcmp(line + i - al, ARROW, al) == 0)
            return i - al;
    return n;
}

/* The file: commentary before the first "===" line; each case is a
 * "=== name" line, the document, a "---" line, and one
 * "sentence => speaker" line per sentence ("-" for no speaker). */
static size_t run_file(void)
{
    size_t len;
    char *buf = check_slurp(CASES, &len);
    CHECK(buf != NULL);
    if (!buf)
        return 0;
    size_t ncases = 0, pos = 0, name_len = 0, in_len = 0, nwant = 0, cap = 0;
    int lineno = 0, case_line = 0;
    enum { OUTSIDE, INPUT, EXPECT } state = OUTSIDE;
    const char *name = NULL, *in = NULL;
    struct expect *want = NULL;
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
                run_case(name, name_len, case_line, in, in_len, want, nwant);
                ncases++;
            } else if (state == INPUT) {
                fprintf(stderr, "%s:%d: case has no --- line\n", CASES, case_line);
                check_failed++;
            }
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
            case_line = lineno;
            state = INPUT;
        } else if (state == INPUT && n == 3 && memcmp(line, "---", 3) == 0) {
            in_len = line > in ? (size_t)(line - 1 - in) : 0;
            state = EXPECT;
        } else if (state == EXPECT && n > 0) {
            size_t arrow = find_arrow(line, n);
            if (arrow == n) {
                fprintf(stderr, "%s:%d: expected line has no \"%s\"\n", CASES, lineno, ARROW);
                check_failed++;
            } else {
                if (nwant == cap)
                    want = xrealloc(want, (cap = cap ? cap * 2 : 8) * sizeof *want);
                want[nwant++] = (struct expect){line, line + arrow + strlen(ARROW), arrow,
                                                n - arrow - strlen(ARROW)};
            }
        }
        pos = eol < len ? eol + 1 : len;
    }
    free(want);
    free(buf);
    return ncases;
}

static void test_empty(void)
{
    char *who = (char *)&who;
    speaker_attribute("", 0, NULL, 0, &who);
    CHECK(who == (char *)&who);   /* n == 0: nothing written */
}

int main(void)
{
    size_t n = run_file();
    CHECK(n >= 25);
    test_empty();
    printf("speaker cases: %zu\n", n);
    return check_report("test_speaker");
}
