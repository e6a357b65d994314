/* Unit tests for lib/tok: token spans, joiners and negation scope. */
#include "check.h"
#include "tok.h"

#include <stdio.h>

/* Renders the tokens of s as "a|b|NOT_c" for compact comparison. */
static const char *render(const char *s, int neg)
{
    static char buf[512];
    struct tok t[64];
    size_t n = tok_split(s, strlen(s), neg, t, 64), at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < 64; i++)
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s%.*s", i ? "|" : "",
                               t[i].negated ? "NOT_" : "", (int)t[i].len, s + t[i].start);
    return buf;
}

int main(void)
{
    CHECK_STR(render("they will send more troops.", 0), "they|will|send|more|troops");
    CHECK_STR(render("the u.s.-led coalition", 0), "the|u.s|led|coalition");
    CHECK_STR(render("russia's army grew 3.5% in 2021", 0), "russia|army|grew|3.5|in|2021");
    CHECK_STR(render("we don't trust them, said he", 1), "we|don't|NOT_trust|NOT_them|said|he");
    CHECK_STR(render("no talks; war", 1), "no|NOT_talks|war");
    CHECK_STR(render("\"never!\" he said?", 1), "\"|never|!|\"|he|said|?");
    CHECK_STR(render("zürich und köln", 0), "zürich|und|köln");
    CHECK_STR(render("", 0), "");
    CHECK_STR(render("-- ... ,,", 0), "");

    /* a short buffer still reports the full count */
    struct tok t[2];
    CHECK(tok_split("one two three four", 18, 0, t, 2) == 4);
    CHECK(t[1].start == 4 && t[1].len == 3);
    return check_report("test_tok");
}
