/*
 * split: news-aware sentence segmentation. One forward pass over the raw
 * UTF-8 finds candidate boundaries (full stops, ellipses, question and
 * exclamation marks, CJK stops, blank lines); each candidate is decided by
 * looking a bounded number of bytes behind and ahead, so the cost is linear
 * in the text and the only allocation is the growing result array.
 * docs/segmentation.md explains the rules and where they fail.
 */
#include "split.h"
#include "swar.h"
#include "text.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

/* Bounds on every look behind and ahead. A word longer than LOOK_BEHIND is
 * no abbreviation, and the next word only needs its first letters; keeping
 * these small is what makes a pathological input (megabytes of "a.a.a.")
 * cost linear time. */
enum {
    LOOK_BEHIND = 16,
    NEXT_WORD = 24,
    MAX_OPENERS = 8,
    ATTRIB_WORDS = 6,
    ATTRIB_BYTES = 96,
    ABBREV_MAX = 6      /* the longest word in abbrevs[] */
};

/* Start of the code point that ends just before s[i], never before floor
 * (i > floor). */
static size_t prev_start(const char *s, size_t floor, size_t i)
{
    size_t j = i - 1;
    while (j > floor && i - j < 4 && ((unsigned char)s[j] & 0xC0) == 0x80)
        j--;
    return j;
}

static int category_in(int32_t c, utf8proc_category_t a, utf8proc_category_t b)
{
    utf8proc_category_t cat = utf8proc_category(c);
    return cat == a || cat == b;
}

static int is_space(int32_t c)
{
    if (c < 0x80)
        return c == ' ' || (c >= '\t' && c <= '\r');
    if (c == 0x85)
        return 1;
    utf8proc_category_t cat = utf8proc_category(c);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP;
}

static int is_upper(int32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z';
    return category_in(c, UTF8PROC_CATEGORY_LU, UTF8PROC_CATEGORY_LT);
}

static int is_lower(int32_t c)
{
    if (c < 0x80)
        return c >= 'a' && c <= 'z';
    return utf8proc_category(c) == UTF8PROC_CATEGORY_LL;
}

static int is_letter(int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    utf8proc_category_t cat = utf8proc_category(c);
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

static int is_digit(int32_t c)
{
    if (c < 0x80)
        return c >= '0' && c <= '9';
    return utf8proc_category(c) == UTF8PROC_CATEGORY_ND;
}

/* Straight quotes count both ways: which one they are is decided by where
 * they stand (right after a stop they close, after a space they open). */
static int is_closer(int32_t c)
{
    if (c < 0x80)    /* the ASCII closing punctuation, by utf8proc's categories */
        return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}';
    return category_in(c, UTF8PROC_CATEGORY_PE, UTF8PROC_CATEGORY_PF);
}

static int is_opener(int32_t c)
{
    if (c < 0x80)
        return c == '"' || c == '\'' || c == '(' || c == '[' || c == '{';
    return category_in(c, UTF8PROC_CATEGORY_PS, UTF8PROC_CATEGORY_PI);
}

static int is_dash(int32_t c)
{
    if (c < 0x80)
        return c == '-';
    return utf8proc_category(c) == UTF8PROC_CATEGORY_PD;
}

enum term { T_NONE, T_DOT, T_ELLIPSIS, T_STRONG, T_CJK };

static enum term term_kind(int32_t c)
{
    switch (c) {
    case '.':
        return T_DOT;
    case 0x2026:                               /* … */
        return T_ELLIPSIS;
    case '?': case '!':
    case 0x203C: case 0x2047: case 0x2048: case 0x2049:   /* ‼ ⁇ ⁈ ⁉ */
        return T_STRONG;
    case 0x3002: case 0xFF01: case 0xFF1F: case 0xFF61:   /* 。！？｡ */
        return T_CJK;
    default:
        return T_NONE;
    }
}

/* What a word before a single full stop tells about it.
 * AB_NAME: a title before a name, never the end of a sentence.
 * AB_INNER: never ends a sentence either (vs., e.g.).
 * AB_NUMBER: not an end when a number follows (No. 10, p. 5).
 * AB_MAY_END: ends a sentence only when the next word usually opens one
 * (Inc., Jan., Jr., and all dotted forms such as U.S. and initials).
 * "etc." is deliberately absent: it ends a sentence whenever a capital
 * follows, which is the rule for ordinary words. */
enum abbr { AB_NONE, AB_NAME, AB_INNER, AB_NUMBER, AB_MAY_END };

static const struct {
    const char *word;
    enum abbr kind;
} abbrevs[] = {
    {"Mr", AB_NAME}, {"Mrs", AB_NAME}, {"Ms", AB_NAME}, {"Messrs", AB_NAME},
    {"Dr", AB_NAME}, {"Prof", AB_NAME}, {"Gen", AB_NAME}, {"Lt", AB_NAME},
    {"Col", AB_NAME}, {"Maj", AB_NAME}, {"Capt", AB_NAME}, {"Sgt", AB_NAME},
    {"Cpl", AB_NAME}, {"Adm", AB_NAME}, {"Cmdr", AB_NAME}, {"Brig", AB_NAME},
    {"Sen", AB_NAME}, {"Sens", AB_NAME}, {"Rep", AB_NAME}, {"Reps", AB_NAME},
    {"Gov", AB_NAME}, {"Pres", AB_NAME}, {"Amb", AB_NAME}, {"Rev", AB_NAME},
    {"Hon", AB_NAME}, {"Supt", AB_NAME}, {"Insp", AB_NAME}, {"Det", AB_NAME},
    {"Atty", AB_NAME}, {"Mt", AB_NAME}, {"Ft", AB_NAME}, {"Fr", AB_NAME},
    {"vs", AB_INNER}, {"v", AB_INNER}, {"cf", AB_INNER}, {"e.g", AB_INNER},
    {"i.e", AB_INNER}, {"viz", AB_INNER}, {"approx", AB_INNER},
    {"incl", AB_INNER},
    {"No", AB_NUMBER}, {"no", AB_NUMBER}, {"Nos", AB_NUMBER},
    {"Art", AB_NUMBER}, {"Vol", AB_NUMBER}, {"vol", AB_NUMBER},
    {"p", AB_NUMBER}, {"pp", AB_NUMBER}, {"Fig", AB_NUMBER},
    {"fig", AB_NUMBER}, {"ch", AB_NUMBER}, {"Ch", AB_NUMBER},
    {"Sec", AB_NUMBER}, {"ca", AB_NUMBER}, {"Nr", AB_NUMBER},
    {"Inc", AB_MAY_END}, {"Corp", AB_MAY_END}, {"Ltd", AB_MAY_END},
    {"Co", AB_MAY_END}, {"Cos", AB_MAY_END}, {"Bros", AB_MAY_END},
    {"Plc", AB_MAY_END}, {"Jr", AB_MAY_END}, {"Sr", AB_MAY_END},
    {"Esq", AB_MAY_END}, {"St", AB_MAY_END}, {"Ave", AB_MAY_END},
    {"Blvd", AB_MAY_END}, {"Rd", AB_MAY_END}, {"Dept", AB_MAY_END},
    {"Univ", AB_MAY_END}, {"al", AB_MAY_END},
    {"Jan", AB_MAY_END}, {"Feb", AB_MAY_END}, {"Mar", AB_MAY_END},
    {"Apr", AB_MAY_END}, {"Jun", AB_MAY_END}, {"Jul", AB_MAY_END},
    {"Aug", AB_MAY_END}, {"Sep", AB_MAY_END}, {"Sept", AB_MAY_END},
    {"Oct", AB_MAY_END}, {"Nov", AB_MAY_END}, {"Dec", AB_MAY_END},
    {"Mon", AB_MAY_END}, {"Tue", AB_MAY_END}, {"Tues", AB_MAY_END},
    {"Wed", AB_MAY_END}, {"Thu", AB_MAY_END}, {"Thur", AB_MAY_END},
    {"Thurs", AB_MAY_END}, {"Fri", AB_MAY_END}, {"Sat", AB_MAY_END},
    {"Sun", AB_MAY_END},
    /* AP-style US state abbreviations: "Calif." ends a sentence only as
     * often as "Inc." does. */
    {"Ala", AB_MAY_END}, {"Ariz", AB_MAY_END}, {"Calif", AB_MAY_END},
    {"Colo", AB_MAY_END}, {"Conn", AB_MAY_END}, {"Fla", AB_MAY_END},
    {"Ill", AB_MAY_END}, {"Mass", AB_MAY_END}, {"Md", AB_MAY_END},
    {"Mich", AB_MAY_END}, {"Minn", AB_MAY_END}, {"Mo", AB_MAY_END},
    {"Nev", AB_MAY_END}, {"Okla", AB_MAY_END}, {"Ore", AB_MAY_END},
    {"Pa", AB_MAY_END}, {"Tenn", AB_MAY_END}, {"Tex", AB_MAY_END},
    {"Va", AB_MAY_END}, {"Wash", AB_MAY_END}, {"Wis", AB_MAY_END},
};

/* Capitalised words that commonly open a news sentence and rarely follow a
 * country or company abbreviation inside one: "in the U.S. The talks" ends
 * a sentence, "the U.S. Treasury" does not. */
static const char *const openers[] = {
    "The", "A", "An", "He", "She", "It", "They", "We", "I", "You", "This",
    "That", "These", "Those", "There", "His", "Her", "Its", "Their", "Our",
    "But", "And", "Or", "So", "Yet", "In", "On", "At", "As", "After",
    "Before", "When", "While", "If", "Although", "Though", "However",
    "Meanwhile", "Still", "Then", "Now", "Some", "Many", "Most", "Such",
    "Each", "All", "Both", "Other", "Others", "No", "Not", "For", "By",
    "With", "Under", "Over", "From", "During", "Since", "Despite", "What",
    "Why", "How", "Who", "Where", "According", "Last", "Earlier", "Later",
    "Also", "Asked", "One", "Two", "Several", "Officials", "Analysts",
    "Critics", "Experts", "Yesterday", "Today", "Tomorrow",
};

/* Verbs that make a capitalised word after a closing quote the speaker of
 * that quote rather than the start of a new sentence:
 * "Why not?" Smith asked. */
static const char *const speech_verbs[] = {
    "said", "says", "asked", "added", "told", "replied", "wrote", "shouted",
    "cried", "insisted", "continued", "explained", "warned", "answered",
};

static int word_is(const char *s, size_t a, size_t b, const char *w)
{
    size_t n = strlen(w);
    return b - a == n && memcmp(s + a, w, n) == 0;
}

static int in_list(const char *s, size_t a, size_t b,
                   const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (word_is(s, a, b, list[i]))
            return 1;
    return 0;
}

/* Dotted abbreviations: letter groups of one or two separated by full
 * stops (U.S, e.g, a.m, Ph.D, J.R.R). "www.un.org" and "3.5" are not. */
static int is_dotted(const char *s, size_t a, size_t b)
{
    size_t group = 0, dots = 0;
    for (size_t i = a; i < b; i++) {
        char c = s[i];
        if (c == '.') {
            if (group == 0)
                return 0;
            group = 0;
            dots++;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            if (++group > 2)
                return 0;
        } else {
            return 0;
        }
    }
    return dots > 0 && group > 0;
}

/* The word (letters, digits, inner full stops) ending at p, not reaching
 * before floor. Sets *truncated when it is longer than LOOK_BEHIND. */
static size_t word_before(const char *s, size_t floor, size_t p, int *truncated)
{
    size_t j = p;
    *truncated = 0;
    while (j > floor) {
        size_t k = prev_start(s, floor, j);
        int32_t c;
        text_decode(s, p, k, &c);
        if (!is_letter(c) && !is_digit(c) && c != '.')
            break;
        if (p - k > LOOK_BEHIND) {
            *truncated = 1;
            break;
        }
        j = k;
    }
    return j;
}

/* Every full stop asks classify about the word before it, so the table is
 * only searched for a word whose first byte and length some entry has:
 * one bit per length for each first byte. */
static uint32_t abbrev_lengths[256];
static pthread_once_t abbrev_once = PTHREAD_ONCE_INIT;

static void index_abbrevs(void)
{
    for (size_t i = 0; i < sizeof abbrevs / sizeof abbrevs[0]; i++)
        abbrev_lengths[(unsigned char)abbrevs[i].word[0]] |= 1u << strlen(abbrevs[i].word);
}

static enum abbr classify(const char *s, size_t a, size_t b)
{
    if (a == b)
        return AB_NONE;
    pthread_once(&abbrev_once, index_abbrevs);
    if (b - a <= ABBREV_MAX && (abbrev_lengths[(unsigned char)s[a]] >> (b - a) & 1))
        for (size_t i = 0; i < sizeof abbrevs / sizeof abbrevs[0]; i++)
            if (abbrevs[i].word[0] == s[a] && word_is(s, a, b, abbrevs[i].word))
                return abbrevs[i].kind;
    if (is_dotted(s, a, b))
        return AB_MAY_END;
    int32_t c;
    size_t w = text_decode(s, b, a, &c);
    if (a + w == b && is_upper(c))    /* an initial: J. Smith */
        return AB_MAY_END;
    return AB_NONE;
}

/* What follows a candidate boundary, after its closing quotes and brackets. */
struct next {
    int at_end;        /* nothing but white space to the end of the text */
    int gap;           /* white space follows */
    int para;          /* that white space holds a blank line */
    int openers;       /* opening quotes or brackets before the next word */
    int dashes;        /* dashes before the next word */
    int32_t c, c2;     /* the next word's first two code points, 0 if none */
    size_t word, word_end;  /* the next word's letters, at most NEXT_WORD bytes */
    int32_t after;     /* the code point after the word, 0 at the end */
};

static void look_ahead(const char *s, size_t len, size_t r, struct next *nx)
{
    size_t i = r;
    int newlines = 0;
    int32_t c = 0;
    memset(nx, 0, sizeof *nx);
    while (i < len) {
        size_t w = text_decode(s, len, i, &c);
        if (!is_space(c))
            break;
        newlines += c == '\n' ? 1 : c == 0x2029 ? 2 : 0;
        i += w;
    }
    nx->gap = i > r;
    nx->para = newlines >= 2;
    if (i == len) {
        nx->at_end = 1;
        return;
    }
    for (int k = 0; k < MAX_OPENERS && i < len; k++) {
        size_t w = text_decode(s, len, i, &c);
        if (is_opener(c))
            nx->openers++;
        else if (is_dash(c))
            nx->dashes++;
        else
            break;
        i += w;
    }
    nx->word = nx->word_end = i;
    if (i == len)
        return;
    size_t w = text_decode(s, len, i, &nx->c);
    if (i + w < len)
        text_decode(s, len, i + w, &nx->c2);
    while (i < len && i - nx->word < NEXT_WORD) {
        w = text_decode(s, len, i, &c);
        if (!is_letter(c))
            break;
        i += w;
    }
    nx->word_end = i;
    if (i < len)
        text_decode(s, len, i, &nx->after);
}

/* Whether the words from i look like "Name [Name...] said": the attribution
 * of the quotation just closed, not a new sentence. A capitalised pronoun
 * is taken as a new sentence ("He left."), since a writer who meant the
 * attribution would have used a comma and a lower-case "he". */
static int attribution_follows(const char *s, size_t len, size_t i)
{
    static const char *const pronouns[] = {"He", "She", "They", "We", "I", "It"};
    size_t limit = len - i > ATTRIB_BYTES ? i + ATTRIB_BYTES : len;
    for (int k = 0; k < ATTRIB_WORDS && i < limit; k++) {
        size_t a = i;
        int32_t c = 0, first = 0;
        while (i < limit) {
            size_t w = text_decode(s, limit, i, &c);
            if (!is_letter(c) && c != '-' && c != '\'' && c != 0x2019)
                break;
            if (i == a)
                first = c;
            i += w;
        }
        if (i == a)
            return 0;
        if (k == 0 && in_list(s, a, i, pronouns, sizeof pronouns / sizeof pronouns[0]))
            return 0;
        if (in_list(s, a, i, speech_verbs, sizeof speech_verbs / sizeof speech_verbs[0]))
            return k > 0;
        if (!is_upper(first))
            return 0;
        if (i < limit && s[i] == '.')    /* an initial inside the name */
            i++;
        if (i >= limit || s[i] != ' ')
            return 0;
        i++;
    }
    return 0;
}

static int is_opener_word(const char *s, const struct next *nx)
{
    /* "J. A. Smith": a one-letter word before a full stop is an initial. */
    if (nx->after == '.')
        return 0;
    return in_list(s, nx->word, nx->word_end, openers, sizeof openers / sizeof openers[0]);
}

/* Decides the candidate whose stops start at p. first is the first
 * non-space byte of the current sentence (p when there is none). Returns 1
 * and sets *end when a sentence ends there; *resume is where to go on
 * scanning either way. */
static int at_stop(const char *s, size_t len, size_t first, size_t p,
                   size_t *end, size_t *resume)
{
    size_t q = p, dots = 0;
    int strong = 0, ellipsis = 0, cjk = 0;
    int32_t c;
    while (q < len) {
        size_t w = text_decode(s, len, q, &c);
        enum term t = term_kind(c);
        if (t == T_NONE)
            break;
        dots += t == T_DOT;
        strong |= t == T_STRONG;
        ellipsis |= t == T_ELLIPSIS;
        cjk |= t == T_CJK;
        q += w;
    }
    *resume = q;

    /* Closing quotes and brackets belong to the sentence they close. An
     * opening curly quote counts too when a space follows it, as German
     * „…“ closes with what English uses to open. */
    size_t r = q;
    int quoted = 0;
    while (r < len) {
        size_t w = text_decode(s, len, r, &c);
        int closes = is_closer(c);
        if (!closes && is_opener(c)) {
            int32_t d = ' ';
            if (r + w < len)
                text_decode(s, len, r + w, &d);
            closes = is_space(d);
        }
        if (!closes)
            break;
        quoted |= utf8proc_category(c) != UTF8PROC_CATEGORY_PE;
        r += w;
    }
    *end = r;

    if (first >= p)           /* nothing before the stop to end */
        return 0;
    if (cjk) {
        *resume = r;
        return 1;
    }

    struct next nx;
    look_ahead(s, len, r, &nx);
    int trunc;
    size_t wa = word_before(s, first, p, &trunc);
    enum abbr kind = trunc ? AB_NONE : classify(s, wa, p);
    int boundary = 0;

    if (nx.at_end || nx.para) {
        boundary = 1;
    } else if (!nx.gap) {
        /* A missing space: "the talks.The minister". Only a capital and a
         * lower-case letter after a plain lower-case word count, so U.S.-led,
         * 3.5, www.un.org and ASP.NET stay whole. */
        boundary = nx.dashes == 0 && is_upper(nx.c) && is_lower(nx.c2);
        if (boundary && dots == 1 && !strong && !ellipsis && r == q) {
            int32_t before = 0;
            text_decode(s, p, prev_start(s, first, p), &before);
            boundary = kind == AB_NONE && p - wa >= 2 && is_lower(before) &&
                       memchr(s + wa, '.', p - wa) == NULL;
        }
    } else {
        int capital = is_letter(nx.c) && !is_lower(nx.c);
        int lower = is_lower(nx.c);
        int digit = is_digit(nx.c);
        if (strong || ellipsis || dots > 1) {
            /* Ellipses continue into lower case and digits ("... 5 more");
             * ? and ! only into lower case ("Why?" he asked). */
            boundary = strong ? !lower : capital;
        } else {
            switch (kind) {
            case AB_NAME:
            case AB_INNER:
                boundary = 0;
                break;
            case AB_MAY_END:
                boundary = capital && (nx.openers > 0 || is_opener_word(s, &nx));
                break;
            case AB_NUMBER:
                if (digit) {
                    boundary = 0;
                    break;
                }
                /* fall through */
            case AB_NONE:
                /* "1. The first point": a list number alone is no sentence. */
                boundary = !lower && !(wa == first && p - wa <= 3 &&
                                       is_digit((unsigned char)s[wa]));
                break;
            }
        }
        /* Only a sentence that opens with the quotation can be attributed
         * after it; in `the talks were "productive." Officials said ...`
         * the capital starts a new sentence. */
        int32_t head;
        text_decode(s, len, first, &head);
        if (boundary && quoted && capital && nx.openers == 0 &&
            is_opener(head) && utf8proc_category(head) != UTF8PROC_CATEGORY_PS &&
            attribution_follows(s, len, nx.word))
            boundary = 0;
    }
    if (boundary)
        *resume = r;
    return boundary;
}

struct result {
    const char *s;
    struct sentence *v;
    size_t n, cap;
    size_t byte, chr;     /* a cursor turning byte offsets into code points */
};

static size_t char_offset(struct result *res, size_t byte)
{
    size_t chr = res->chr;

    size_t i = res->byte;

    for (; i + 8 <= byte; i += 8)
        chr += swar_starts(swar_load(res->s + i));
    for (; i < byte; i++)
        chr += ((unsigned char)res->s[i] & 0xC0) != 0x80;
    res->byte = byte;
    res->chr = chr;
    return chr;
}

/* Adds s[a..b) trimmed of white space, if anything is left. */
static void emit(struct result *res, size_t a, size_t b)
{
    int32_t c;
    while (a < b) {
        size_t w = text_decode(res->s, b, a, &c);
        if (!is_space(c))
            break;
        a += w;
    }
    while (b > a) {
        size_t k = prev_start(res->s, a, b);
        text_decode(res->s, b, k, &c);
        if (!is_space(c))
            break;
        b = k;
    }
    if (a == b)
        return;
    if (res->n == res->cap) {
        res->cap = res->cap ? res->cap * 2 : 16;
        res->v = xrealloc(res->v, res->cap * sizeof *res->v);
    }
    struct sentence *st = &res->v[res->n++];
    st->start = a;
    st->end = b;
    st->char_start = char_offset(res, a);
    st->char_end = char_offset(res, b);
}

/* Whether none of the 8 bytes x needs a look: ASCII, and neither a line
 * break nor a stop. */
static int plain8(uint64_t x)
{
    return (swar_high(x) | swar_has(x, '\n') | swar_has(x, '.') | swar_has(x, '?') | swar_has(x, '!')) == 0;
}

size_t split_sentences(const char *text, size_t len, struct sentence **out)
{
    struct result res = {.s = text};
    size_t start = 0, first = SIZE_MAX, i = 0;
    while (i < len) {
        unsigned char byte = (unsigned char)text[i];
        /* Plain ASCII other than a line break or a stop, nearly every byte
         * of news text, needs no decoding and decides nothing. */
        if (byte < 0x80 && byte != '\n' && byte != '.' && byte != '?' && byte != '!') {
            if (first == SIZE_MAX && !is_space(byte))
                first = i;
            for (i++; first != SIZE_MAX && i + 8 <= len && plain8(swar_load(text + i)); i += 8)
                ;
            for (; i < len && (unsigned char)text[i] < 0x80 && text[i] != '\n' && text[i] != '.' &&
                   text[i] != '?' && text[i] != '!' && first != SIZE_MAX; i++)
                ;
            continue;
        }
        int32_t c;
        size_t w = text_decode(text, len, i, &c);
        if (c == '\n' || c == 0x2029) {
            /* A blank line (two line breaks with only white space between)
             * always ends a sentence; a single line break is a space. */
            size_t j = i;
            int breaks = 0;
            while (j < len) {
                size_t wj = text_decode(text, len, j, &c);
                if (!is_space(c))
                    break;
                breaks += c == '\n' ? 1 : c == 0x2029 ? 2 : 0;
                j += wj;
            }
            if (breaks >= 2) {
                emit(&res, start, i);
                start = j;
                first = SIZE_MAX;
            }
            i = j;
            continue;
        }
        if (term_kind(c) != T_NONE) {
            size_t end, resume;
            if (at_stop(text, len, first == SIZE_MAX ? i : first, i, &end, &resume)) {
                emit(&res, start, end);
                start = end;
                first = SIZE_MAX;
            } else if (first == SIZE_MAX) {
                first = i;
            }
            i = resume;
            continue;
        }
        if (first == SIZE_MAX && !is_space(c))
            first = i;
        i += w;
    }
    emit(&res, start, len);
    *out = res.v;
    return res.n;
}
