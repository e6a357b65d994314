/* Unit tests for lib/tok: token spans, joiners and negation scope. */
#include "check.h"
#include "tok.h"

#include <stdio.h>

/* Renders the tokens of s as "a|b|NOT_c" for compact comparison. */
static const char *render(const char *s, unsigned neg)
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

    /* TOK_PUNCT: every mark outside a word is a token of one code point;
     * joiners inside words stay joined, and marks are never negated */
    unsigned p = TOK_PUNCT, np = TOK_PUNCT | TOK_NEGATION;
    CHECK_STR(render("they will send more troops.", p), "they|will|send|more|troops|.");
    CHECK_STR(render("the u.s.-led coalition (nato) said: $5bn", p), "the|u.s|.|-|led|coalition|(|nato|)|said|:|$|5bn");
    CHECK_STR(render("we don't trust them, said he", np), "we|don't|NOT_trust|NOT_them|,|said|he");
    CHECK_STR(render("no \u201ctalks\u201d \u2014 war", np), "no|\u201c|NOT_talks|\u201d|\u2014|NOT_war");
    CHECK_STR(render("\"never!\" he said?", p), "\"|never|!|\"|he|said|?");
    CHECK_STR(render("-- ... ,,", p), "-|-|.|.|.|,|,");
    CHECK_STR(render("caf\u00e9 \u00a9 \u20ac3 \u00bfs\u00ed?", p), "caf\u00e9|\u00a9|\u20ac|3|\u00bf|s\u00ed|?");
    CHECK_STR(render("a\tb\x01" "c \xc2\xa0" "d", p), "a|b|c|d");

    /* a short buffer still reports the full count */
    struct tok t[2];
    CHECK(tok_split("one two three four", 18, 0, t, 2) == 4);
    CHECK(t[1].start == 4 && t[1].len == 3);
    return check_report("test_tok");
}
