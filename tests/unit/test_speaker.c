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

/* Documents around the shortcut that leaves a sentence untokenised when it
 * holds no quotation mark, speech verb or "according" (outside a
 * quotation): verbs at every offset of the eight-byte scan, verbs glued to
 * other letters, upper case, non-ASCII quotation marks only, a quotation
 * whose middle sentence holds no mark. The expected speakers are what
 * attribution gave before the shortcut existed. */
static const struct {
    const char *doc;
    const char *want[8];    /* "sentence => speaker" ("-" for none) */
} skip_cases[] = {
    {"\xe2\x80\x9cWe will not retreat. We will hold. We will win,\xe2\x80\x9d Zelensky said.",
     {"\xe2\x80\x9cWe will not retreat. => Zelensky",
      "We will hold. => Zelensky",
      "We will win,\xe2\x80\x9d Zelensky said. => Zelensky"}},
    {"Lavrov said no. A Lavrov said no. Ab Lavrov said no. Abc Lavrov said no. Abcd Lavrov said no. Abcde Lavrov said no. Abcdef Lavrov said no. Abcdefg Lavrov said no.",
     {"Lavrov said no. => Lavrov",
      "A Lavrov said no. => Lavrov",
      "Ab Lavrov said no. => Ab Lavrov",
      "Abc Lavrov said no. => Abc Lavrov",
      "Abcd Lavrov said no. => Abcd Lavrov",
      "Abcde Lavrov said no. => Abcde Lavrov",
      "Abcdef Lavrov said no. => Abcdef Lavrov",
      "Abcdefg Lavrov said no. => Abcdefg Lavrov"}},
    {"Talks stalled. \"No deal,\" the envoy said. Everyone left.",
     {"Talks stalled. => -",
      "\"No deal,\" the envoy said. => the envoy",
      "Everyone left. => -"}},
    {"The minister, who had flown in from Paris on Monday evening, said talks would resume. Prices rose.",
     {"The minister, who had flown in from Paris on Monday evening, said talks would resume. => -",
      "Prices rose. => -"}},
    {"Troops massed near the border on Tuesday.\xc2\xa0Officials told reporters the drills were routine.",
     {"Troops massed near the border on Tuesday. => -",
      "Officials told reporters the drills were routine. => Officials"}},
    {"The ceasefire held overnight, ACCORDING TO Reuters. Shelling resumed at dawn.",
     {"The ceasefire held overnight, ACCORDING TO Reuters. => Reuters",
      "Shelling resumed at dawn. => -"}},
    {"According to TASS, the convoy turned back. Nobody was hurt.",
     {"According to TASS, the convoy turned back. => TASS",
      "Nobody was hurt. => -"}},
    {"The unsaid threat hung over the talks. R\xc3\xa9said nothing. 3said x.",
     {"The unsaid threat hung over the talks. => -",
      "R\xc3\xa9said nothing. => -",
      "3said x. => -"}},
    {"\xe2\x80\x9cWe will not retreat. We will hold the line.\xe2\x80\x9d The general spoke after the parade. \xe2\x80\x9cNever.\xe2\x80\x9d",
     {"\xe2\x80\x9cWe will not retreat. => -",
      "We will hold the line.\xe2\x80\x9d => -",
      "The general spoke after the parade. => -",
      "\xe2\x80\x9cNever.\xe2\x80\x9d => -"}},
    {"\xe2\x80\x9cThe talks are over,\xe2\x80\x9d Lavrov said. The delegation left. \xe2\x80\x9cWe are done.\xe2\x80\x9d",
     {"\xe2\x80\x9cThe talks are over,\xe2\x80\x9d Lavrov said. => Lavrov",
      "The delegation left. => -",
      "\xe2\x80\x9cWe are done.\xe2\x80\x9d => -"}},
    {"\xc2\xabNous ne c\xc3\xa9""derons pas\xc2\xbb, a d\xc3\xa9""clar\xc3\xa9 Macron. Le sommet continue.",
     {"\xc2\xabNous ne c\xc3\xa9""derons pas\xc2\xbb, a d\xc3\xa9""clar\xc3\xa9 Macron. => -",
      "Le sommet continue. => -"}},
    {"\xe2\x80\x9eWir werden nicht nachgeben\xe2\x80\x9c, sagte Scholz. Die Gespr\xc3\xa4""che gehen weiter.",
     {"\xe2\x80\x9eWir werden nicht nachgeben\xe2\x80\x9c, sagte Scholz. => -",
      "Die Gespr\xc3\xa4""che gehen weiter. => -"}},
    {"A spokesman for the ministry declined to comment on the report. Analysts warned of further escalation in the region over the coming weeks.",
     {"A spokesman for the ministry declined to comment on the report. => -",
      "Analysts warned of further escalation in the region over the coming weeks. => Analysts"}},
    {"He arrived in Kyiv.\n\n\xe2\x80\x9cWe stand with you,\xe2\x80\x9d said the envoy.",
     {"He arrived in Kyiv. => -",
      "\xe2\x80\x9cWe stand with you,\xe2\x80\x9d said the envoy. => the envoy"}},
    {"Shares fell 3.5% in Tokyo. The yen rallied. Traders said the move was overdone.",
     {"Shares fell 3.5% in Tokyo. => -",
      "The yen rallied. => -",
      "Traders said the move was overdone. => Traders"}},
};

static void test_skip_cases(void)
{
    for (size_t c = 0; c < sizeof skip_cases / sizeof skip_cases[0]; c++) {
        struct expect want[8];
        size_t n = 0;
        for (; n < 8 && skip_cases[c].want[n]; n++) {
            const char *l = skip_cases[c].want[n];
            size_t len = strlen(l), a = find_arrow(l, len);
            want[n] = (struct expect){ l, l + a + strlen(ARROW), a, len - a - strlen(ARROW) };
        }
        run_case("skip_cases[] in test_speaker.c", 30, (int)c, skip_cases[c].doc, strlen(skip_cases[c].doc), want, n);
    }
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
    test_skip_cases();
    printf("speaker cases: %zu\n", n);
    return check_report("test_speaker");
}
