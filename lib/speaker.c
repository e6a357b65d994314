/*
 * speaker: rule-based attribution of sentences to speakers. Each sentence
 * is cut into words, commas and quotation marks; a speech verb outside the
 * quotation ("said", "told") or "according to" names its subject, found by
 * a few patterns around the verb. Quotations that run over several
 * sentences then lend their speaker to the sentences that lack one.
 * docs/segmentation.md lists the patterns and where they fail.
 */
#include "speaker.h"
#include "swar.h"
#include "text.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

enum tok_kind { K_WORD, K_COMMA, K_OPEN, K_CLOSE, K_PUNCT };

struct tok {
    size_t a, b;           /* byte range in the text */
    enum tok_kind kind;
    int cap;               /* a word starting with a capital letter */
    int quoted;            /* inside a quotation */
    unsigned lists;        /* the word lists below that hold this word (L_ bits) */
};

struct toks {
    struct tok *v;
    size_t n, cap;
};

/* Phrases longer than this are not a speaker's name or title. */
enum { MAX_PHRASE = 6, APPOSITIVE = 8 };

static const char *const speech_verbs[] = {
    "said", "says", "say", "told", "tells", "added", "adds", "warned",
    "warns", "stated", "asked", "explained", "noted", "insisted", "insists",
    "argued", "argues", "claimed", "declared", "announced", "stressed",
    "urged", "wrote", "writes", "replied", "acknowledged", "admitted",
    "cautioned", "predicted", "tweeted", "recalled", "commented", "remarked",
    "confirmed", "denied", "complained", "conceded", "continued",
    "reiterated", "maintained",
};

/* Words between a subject and its verb: "Lavrov also said". */
static const char *const adverbs[] = {
    "also", "later", "earlier", "then", "previously", "has", "had", "have",
    "once", "separately", "further", "again", "reportedly", "repeatedly",
};

/* A verb after one of these is passive ("he was told"): no subject. */
static const char *const passive[] = {
    "was", "were", "been", "be", "being", "is", "are",
};

static const char *const determiners[] = {
    "the", "The", "a", "A", "an", "An", "his", "His", "her", "Her", "its",
    "Its", "their", "Their", "one", "One", "two", "Two", "three", "Three",
    "several", "Several", "many", "Many", "some", "Some", "another",
    "Another",
};

/* Lower-case words inside a name: "Ministry of Defence", "Ursula von der
 * Leyen". */
static const char *const connectors[] = {
    "of", "de", "van", "von", "der", "al", "bin", "da", "di", "del", "la",
    "le", "du", "and",
};

/* Capitalised words that do not belong to a name even though they stand
 * next to one: sentence openers, pronouns, days and months. */
static const char *const not_names[] = {
    "But", "And", "Or", "So", "Yet", "However", "In", "On", "At", "As",
    "After", "Before", "When", "While", "Meanwhile", "Then", "Also", "He",
    "She", "It", "They", "We", "I", "You", "This", "That", "These", "Those",
    "Asked", "According", "Earlier", "Later", "Last", "Still", "Now", "If",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    "Sunday", "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
};

/* A title phrase without a determiner still names a speaker when it is
 * one of these: "officials said". */
static const char *const plural_roles[] = {
    "officials", "analysts", "diplomats", "sources", "witnesses", "experts",
    "police", "lawyers", "prosecutors", "residents", "investigators",
    "authorities", "critics", "observers", "economists", "traders",
    "protesters", "doctors", "activists", "officers", "researchers",
};

/* Words that end a title phrase read forwards: "a spokesman for the
 * ministry" is "a spokesman". */
static const char *const phrase_stops[] = {
    "who", "which", "that", "on", "in", "at", "during", "after", "before",
    "when", "while", "because", "to", "for", "with", "from", "by", "as",
    "said", "says", "told", "added",
};

/* Conjunctions that start a clause inside a sentence. */
static const char *const joins[] = {"and", "but", "that", "while", "as", "because"};

static const char *const pronouns[] = {"he", "He", "she", "She"};

/* Title words stripped from the front of a name so that "Foreign Minister
 * Sergei Lavrov" and "Sergei Lavrov" count as one speaker. Only heads of
 * titles: "Foreign" or "General" would also strip "Foreign Ministry" and
 * "General Motors". */
static const char *const titles[] = {
    "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Gen.", "Lt.", "Col.", "Sgt.",
    "Sen.", "Rep.", "Gov.", "President", "Minister", "Secretary",
    "Chancellor", "Senator", "Governor", "Ambassador", "Spokesman",
    "Spokeswoman", "Chairman", "Chairwoman", "Mayor", "Premier", "Pope",
    "King", "Queen", "Prince", "Judge", "Commissioner", "Envoy",
};

static int is_ascii_wordchar(int32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The patterns ask of a word, again and again, whether it is in one of
 * the lists above. Each word token is looked up once, when it is cut, in
 * one hash of every listed word, and carries the answer as a bit set. */
enum {
    L_SPEECH_VERBS = 1 << 0, L_ADVERBS = 1 << 1, L_PASSIVE = 1 << 2,
    L_DETERMINERS = 1 << 3, L_CONNECTORS = 1 << 4, L_NOT_NAMES = 1 << 5,
    L_PLURAL_ROLES = 1 << 6, L_PHRASE_STOPS = 1 << 7, L_JOINS = 1 << 8,
    L_PRONOUNS = 1 << 9, L_TITLES = 1 << 10
};

#define LIST(words, bit) { words, sizeof words / sizeof words[0], bit }
static const struct {
    const char *const *words;
    size_t n;
    unsigned bit;
} lists[] = {
    LIST(speech_verbs, L_SPEECH_VERBS), LIST(adverbs, L_ADVERBS), LIST(passive, L_PASSIVE),
    LIST(determiners, L_DETERMINERS), LIST(connectors, L_CONNECTORS),
    LIST(not_names, L_NOT_NAMES), LIST(plural_roles, L_PLURAL_ROLES),
    LIST(phrase_stops, L_PHRASE_STOPS), LIST(joins, L_JOINS), LIST(pronouns, L_PRONOUNS),
    LIST(titles, L_TITLES),
};

/* Open addressing, at most a quarter full: the lists hold about 250 words. */
enum { WORD_SLOTS = 1024 };
static struct {
    const char *word;     /* NULL for an empty slot */
    size_t len;
    unsigned lists;
} word_index[WORD_SLOTS];
static pthread_once_t word_index_once = PTHREAD_ONCE_INIT;

static size_t word_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;    /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h & (WORD_SLOTS - 1);
}

/* The shapes of the speech verbs, a bit per (length, first letter, last
 * letter), so that may_attribute hashes only the few words that could be
 * one rather than every "the" and "of". A verb added to the list that has
 * no such shape (upper case, too long) turns the filter off. */
enum { SHAPE_MAX = 16 };
static uint32_t verb_shape[SHAPE_MAX][32];    /* [length][first - 'a'], bit last - 'a' */
static int verbs_unshaped;

/* What may_attribute makes of a byte, one load per byte. */
enum { B_OTHER, B_WORD, B_MARK };
static unsigned char byte_class[256];

/* Most words of a sentence are in no list. A bit per (length, first
 * byte, last byte) of the listed words, hashed, turns most of them away
 * before word_hash reads all their bytes. */
enum { SHAPE_BITS = 4096 };
static uint64_t word_shapes[SHAPE_BITS / 64];

static unsigned shape_bit(const char *s, size_t n)
{
    uint32_t key = (uint32_t)n << 16 | (uint32_t)(unsigned char)s[0] << 8 | (unsigned char)s[n - 1];
    return (key * 2654435761u) >> 20;    /* 12 bits: SHAPE_BITS */
}

static void build_word_index(void)
{
    for (size_t i = 0; i < sizeof speech_verbs / sizeof speech_verbs[0]; i++) {
        const char *w = speech_verbs[i];
        size_t n = strlen(w);
        if (n >= SHAPE_MAX || w[0] < 'a' || w[0] > 'z' || w[n - 1] < 'a' || w[n - 1] > 'z')
            verbs_unshaped = 1;
        else
            verb_shape[n][w[0] - 'a'] |= 1u << (w[n - 1] - 'a');
    }
    for (int c = 0; c < 256; c++)
        byte_class[c] = is_ascii_wordchar(c) ? B_WORD : c == '"' || c == 0xC2 || c == 0xE2 ? B_MARK : B_OTHER;
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (size_t i = 0; i < lists[l].n; i++) {
            const char *w = lists[l].words[i];
            size_t n = strlen(w), k = word_hash(w, n);
            while (word_index[k].word && !(word_index[k].len == n && memcmp(word_index[k].word, w, n) == 0))
                k = (k + 1) & (WORD_SLOTS - 1);
            word_index[k].word = w;
            word_index[k].len = n;
            word_index[k].lists |= lists[l].bit;
            word_shapes[shape_bit(w, n) / 64] |= (uint64_t)1 << (shape_bit(w, n) % 64);
        }
}

/* The L_ bits of the word s[0..n). */
static unsigned word_lists(const char *s, size_t n)
{
    unsigned bit = shape_bit(s, n);

    if (!(word_shapes[bit / 64] >> (bit % 64) & 1))
        return 0;
    for (size_t k = word_hash(s, n); word_index[k].word; k = (k + 1) & (WORD_SLOTS - 1))
        if (word_index[k].len == n && memcmp(word_index[k].word, s, n) == 0)
            return word_index[k].lists;
    return 0;
}

#define IN(bit, t) (((t)->lists & (bit)) != 0)

static int word_eq(const char *s, const struct tok *t, const char *w)
{
    size_t len = strlen(w);
    return t->kind == K_WORD && t->b - t->a == len &&
           strncasecmp(s + t->a, w, len) == 0;
}

static int is_wordchar(int32_t c)
{
    if (c < 0x80)
        return byte_class[c] == B_WORD;
    utf8proc_category_t cat = utf8proc_category(c);
    return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
           cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_MN ||
           cat == UTF8PROC_CATEGORY_MC;
}

static int is_space(int32_t c)
{
    if (c < 0x80)
        return c == ' ' || (c >= '\t' && c <= '\r');
    return c == 0xA0 || utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

static int category_is_upper(utf8proc_category_t cat)
{
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT;
}

static int is_closing_mark(int32_t c)
{
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x201D ||
           c == 0x2019 || c == 0xBB;
}

static void push(struct toks *ts, const char *s, size_t a, size_t b, enum tok_kind kind,
                 int cap, int quoted)
{
    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? ts->cap * 2 : 64;
        ts->v = xrealloc(ts->v, ts->cap * sizeof *ts->v);
    }
    ts->v[ts->n++] = (struct tok){a, b, kind, cap, quoted, kind == K_WORD ? word_lists(s + a, b - a) : 0};
}

/* Cuts text[a..b) into tokens. *inq is the quotation state carried in from
 * the previous sentence and left as it stands at the end. A full stop
 * stays in its word unless only closing marks follow it to the end of the
 * sentence: the splitter did not end the sentence there, so it belongs to
 * an abbreviation or an initial (U.S., Mr., J.). */
static void tokenize(const char *s, size_t a, size_t b, int *inq, struct toks *ts)
{
    size_t i = a;
    ts->n = 0;
    while (i < b) {
        int32_t c;
        size_t w = text_decode(s, b, i, &c);
        if (is_wordchar(c)) {
            size_t start = i;
            int32_t first = c;
            i += w;
            while (i < b) {
                /* The letters of an ASCII word first, without decoding. */
                i = swar_alnum_end(s, i, b);
                if (i == b)
                    break;
                w = text_decode(s, b, i, &c);
                if (is_wordchar(c)) {
                    i += w;
                    continue;
                }
                int32_t d = 0;
                if (i + w < b)
                    text_decode(s, b, i + w, &d);
                if ((c == '-' || c == '\'' || c == 0x2019 || c == '.') && is_wordchar(d)) {
                    i += w;
                    continue;
                }
                if (c == '.' && is_space(d)) {
                    size_t j = i + w;
                    int32_t e = 0;
                    while (j < b) {
                        size_t wj = text_decode(s, b, j, &e);
                        if (!is_space(e) && !is_closing_mark(e))
                            break;
                        j += wj;
                    }
                    if (j < b)
                        i += w;
                }
                break;
            }
            int cap = first < 0x80 ? first >= 'A' && first <= 'Z'
                                   : category_is_upper(utf8proc_category(first));
            push(ts, s, start, i, K_WORD, cap, *inq);
            continue;
        }
        if (is_space(c)) {
            i += w;
            continue;
        }
        int32_t p = ' ';    /* the code point before, a space at the start */
        if (i > a) {
            size_t k = i - 1;
            while (k > a && ((unsigned char)s[k] & 0xC0) == 0x80)
                k--;
            text_decode(s, b, k, &p);
        }
        int after_space = is_space(p) || p == '(' || p == '[' || p == 0x2014 || p == 0x2013;
        /* German closes „…“ with the mark English opens with; inside a
         * quotation, a “ stuck to the word before it closes. */
        if (c == 0x201C && *inq && !after_space)
            c = 0x201D;
        if (c == 0x201C || c == 0x201E || c == 0xAB) {          /* “ „ « */
            *inq = 1;
            push(ts, s, i, i + w, K_OPEN, 0, 1);
        } else if (c == 0x201D || c == 0xBB) {                  /* ” » */
            push(ts, s, i, i + w, K_CLOSE, 0, 1);
            *inq = 0;
        } else if (c == '"') {
            /* A straight quote opens after a space, a bracket or the start
             * of the sentence, and closes anywhere else. */
            if (after_space) {
                *inq = 1;
                push(ts, s, i, i + w, K_OPEN, 0, 1);
            } else {
                push(ts, s, i, i + w, K_CLOSE, 0, 1);
                *inq = 0;
            }
        } else if (c == ',') {
            push(ts, s, i, i + w, K_COMMA, 0, *inq);
        } else {
            push(ts, s, i, i + w, K_PUNCT, 0, *inq);
        }
        i += w;
    }
}

/* A name read backwards from its last word at j: capitalised words, with
 * connectors between them and one determiner in front. Returns the index
 * of its first token. */
static size_t name_back(const char *s, const struct tok *t, size_t j)
{
    size_t k = j;
    while (k > 0 && j - k + 1 < MAX_PHRASE) {
        const struct tok *p = &t[k - 1];
        if (p->kind == K_WORD && p->cap && !p->quoted && !IN(L_NOT_NAMES, p) &&
            !IN(L_DETERMINERS, p)) {
            k--;
        } else if (IN(L_CONNECTORS, p)) {
            /* One or more connectors, then a capitalised word. */
            size_t c = k - 1;
            while (c > 0 && IN(L_CONNECTORS, &t[c - 1]))
                c--;
            if (c == 0 || t[c - 1].kind != K_WORD || !t[c - 1].cap ||
                t[c - 1].quoted || IN(L_NOT_NAMES, &t[c - 1]))
                break;
            k = c - 1;
        } else {
            break;
        }
    }
    if (k > 0 && (word_eq(s, &t[k - 1], "the")) && !t[k - 1].quoted)
        k--;
    return k;
}

/* A name read forwards from its first word at i. Returns one past its
 * last token. */
static size_t name_fwd(const struct tok *t, size_t n, size_t i)
{
    size_t k = i;
    while (k < n && k - i < MAX_PHRASE) {
        if (t[k].kind == K_WORD && t[k].cap && !IN(L_NOT_NAMES, &t[k]))
            k++;
        else if (k > i && IN(L_CONNECTORS, &t[k])) {
            size_t c = k;
            while (c < n && IN(L_CONNECTORS, &t[c]))
                c++;
            if (c == n || t[c].kind != K_WORD || !t[c].cap)
                break;
            k = c + 1;
        } else {
            break;
        }
    }
    return k;
}

/* The result of a pattern: a token range, or a pronoun to be resolved
 * against the speakers seen before. */
struct found {
    size_t a, b;         /* token range [a, b); a == b when nothing found */
    int pronoun;
    int proper;          /* a proper name, which later pronouns may refer to */
};

/* Whether a phrase starting at token d starts a clause: the sentence
 * starts there, or punctuation, a conjunction or a sentence opener comes
 * before it ("But officials said"). */
static int starts_clause(const struct tok *t, size_t d)
{
    return d == 0 || t[d - 1].kind != K_WORD || IN(L_JOINS, &t[d - 1]) ||
           IN(L_NOT_NAMES, &t[d - 1]);
}

/* A title phrase ending at j read backwards: a determiner and up to a few
 * words ("a senior official", "the Kremlin spokesman"), or a plural role
 * with the modifiers before it back to the start of the clause
 * ("officials", "Kremlin officials"). */
static struct found title_back(const struct tok *t, size_t j)
{
    struct found f = {0, 0, 0, 0};
    size_t k;
    for (k = j + 1; k > 0 && j + 1 - k < MAX_PHRASE - 1; k--) {
        const struct tok *p = &t[k - 1];
        if (p->kind != K_WORD || p->quoted || IN(L_SPEECH_VERBS, p) ||
            IN(L_NOT_NAMES, p) || IN(L_JOINS, p))
            break;
        if (IN(L_DETERMINERS, p)) {
            if (starts_clause(t, k - 1) && k - 1 < j)
                f = (struct found){k - 1, j + 1, 0, 0};
            return f;
        }
    }
    if (IN(L_PLURAL_ROLES, &t[j]) && starts_clause(t, k))
        f = (struct found){k, j + 1, 0, 0};
    return f;
}

/* The subject written after a verb or after "according to", from i. */
static struct found subject_fwd(const char *s, const struct tok *t, size_t n, size_t i)
{
    struct found f = {0, 0, 0, 0};
    if (i >= n || t[i].kind != K_WORD || t[i].quoted)
        return f;
    if (IN(L_PRONOUNS, &t[i]))
        return (struct found){i, i + 1, 1, 0};
    if (t[i].cap && !IN(L_DETERMINERS, &t[i])) {
        size_t e = name_fwd(t, n, i);
        if (e > i)
            f = (struct found){i, e, 0, 1};
        return f;
    }
    if (IN(L_DETERMINERS, &t[i])) {
        size_t e = i + 1;
        while (e < n && e - i < MAX_PHRASE && t[e].kind == K_WORD &&
               !IN(L_PHRASE_STOPS, &t[e]))
            e++;
        if (e == i + 1)
            return f;
        /* "a statement from the Kremlin", "a note by Sberbank": the source. */
        if (e + 1 < n && (word_eq(s, &t[e], "from") || word_eq(s, &t[e], "by"))) {
            struct found g = subject_fwd(s, t, n, e + 1);
            if (g.a < g.b && !g.pronoun)
                return g;
        }
        /* "said the foreign minister, Sergei Lavrov": the name wins. */
        if (e + 1 < n && t[e].kind == K_COMMA && t[e + 1].kind == K_WORD &&
            t[e + 1].cap && !IN(L_NOT_NAMES, &t[e + 1])) {
            size_t e2 = name_fwd(t, n, e + 1);
            if (e2 == n || t[e2].kind != K_WORD)
                return (struct found){e + 1, e2, 0, 1};
        }
        return (struct found){i, e, 0, 0};
    }
    if (IN(L_PLURAL_ROLES, &t[i]))
        f = (struct found){i, i + 1, 0, 0};
    return f;
}

/* The subject written before the verb at v. */
static struct found subject_back(const char *s, const struct tok *t, size_t v)
{
    struct found none = {0, 0, 0, 0};
    size_t j = v;
    while (j > 0 && IN(L_ADVERBS, &t[j - 1]))
        j--;
    if (j == 0)
        return none;
    j--;
    const struct tok *p = &t[j];
    if (p->quoted)
        return none;
    if (p->kind == K_COMMA) {
        /* "X, the foreign minister, said" or "the foreign minister, X,
         * said": look for the comma that opens the aside. */
        size_t c = j;
        while (c > 0 && j - c < APPOSITIVE && t[c - 1].kind == K_WORD && !t[c - 1].quoted)
            c--;
        if (c == 0 || c == j || t[c - 1].kind != K_COMMA)
            return none;
        size_t aside = c;
        if (t[aside].cap && !IN(L_DETERMINERS, &t[aside]) &&
            name_fwd(t, j, aside) == j)
            return (struct found){aside, j, 0, 1};
        /* Otherwise the subject stands before the aside, which may be a
         * title or a clause ("A U.S. official, speaking on condition of
         * anonymity, said"). */
        if (c >= 2 && t[c - 2].kind == K_WORD && !t[c - 2].quoted) {
            const struct tok *w = &t[c - 2];
            if (w->cap && !IN(L_NOT_NAMES, w) && !IN(L_DETERMINERS, w)) {
                size_t k = name_back(s, t, c - 2);
                return (struct found){k, c - 1, 0, !word_eq(s, &t[k], "the")};
            }
            if (!w->cap) {
                struct found f = title_back(t, c - 2);
                if (f.a < f.b)
                    return f;
            }
        }
        if (IN(L_DETERMINERS, &t[aside]))
            return (struct found){aside, j, 0, 0};
        return none;
    }
    if (p->kind != K_WORD)
        return none;
    if (IN(L_PRONOUNS, p))
        return (struct found){j, j + 1, 1, 0};
    if (p->cap && !IN(L_NOT_NAMES, p) && !IN(L_DETERMINERS, p)) {
        size_t k = name_back(s, t, j);
        return (struct found){k, j + 1, 0, !word_eq(s, &t[k], "the")};
    }
    if (!p->cap)
        return title_back(t, j);
    return none;
}

/* The speaker of one sentence from its own words. */
static struct found attribute(const char *s, const struct tok *t, size_t n)
{
    struct found none = {0, 0, 0, 0};
    for (size_t i = 0; i + 2 < n; i++)
        if (!t[i].quoted && word_eq(s, &t[i], "according") && word_eq(s, &t[i + 1], "to")) {
            struct found f = subject_fwd(s, t, n, i + 2);
            if (f.a < f.b)
                return f;
        }
    for (size_t v = 0; v < n; v++) {
        if (t[v].quoted || !IN(L_SPEECH_VERBS, &t[v]))
            continue;
        if (v > 0 && IN(L_PASSIVE, &t[v - 1]))
            continue;
        struct found f = subject_back(s, t, v);
        if (f.a < f.b)
            return f;
        /* Inverted order, only right after a quotation or at the start:
         * "…," said X. After a clause, the word after the verb is its
         * object ("..., said Washington was not worried"). */
        int told = word_eq(s, &t[v], "told") || word_eq(s, &t[v], "tells");
        int after_quote = v == 0 || t[v - 1].kind == K_CLOSE ||
                          (t[v - 1].kind == K_COMMA && v >= 2 && t[v - 2].kind == K_CLOSE);
        if (!told && after_quote) {
            f = subject_fwd(s, t, n, v + 1);
            if (f.a < f.b)
                return f;
        }
    }
    return none;
}

/* Drops everything up to the last title word: "Foreign Minister Sergei
 * Lavrov" becomes "Sergei Lavrov", and "U.S. Secretary of State Antony
 * Blinken" drops the "of State" that belongs to the title too. Keeps at
 * least one word. Returns the index of the first token kept. */
static size_t strip_titles(const char *s, const struct tok *t, size_t a, size_t b)
{
    size_t first = a;
    for (size_t k = a; k + 1 < b; k++) {
        if (IN(L_TITLES, &t[k]))
            first = k + 1;
        else if (k >= a + 2 && word_eq(s, &t[k - 1], "of") && IN(L_TITLES, &t[k - 2]))
            first = k + 1;
    }
    return first;
}

/* Whether the word s[w..e), a maximal run of ASCII letters and digits,
 * is one that attribute() acts on: a speech verb or "according". */
static inline int acts_on(const unsigned char *u, size_t w, size_t e)
{
    size_t n = e - w;
    unsigned f = u[w] - 'a', l = u[e - 1] - 'a';    /* below 26 for lower-case letters */
    /* Every word of a sentence comes here: the common answer, no, is
     * reached without a branch that a predictor could miss. */
    unsigned shaped = (n < SHAPE_MAX) & (f < 26) & (l < 26) &
                      (unsigned)(verb_shape[n % SHAPE_MAX][f % 32] >> (l % 32));

    if ((n == 9) & ((u[w] | 0x20) == 'a') && strncasecmp((const char *)u + w, "according", 9) == 0)
        return 1;
    if (!((shaped & 1) | verbs_unshaped))
        return 0;
    return (word_lists((const char *)u + w, n) & L_SPEECH_VERBS) != 0;
}

/* Whether text[a..b), entered outside a quotation, can matter to
 * attribution at all: it holds a quotation mark, which changes the
 * quotation state, or a word that attribute() acts on. Most sentences of
 * news copy hold neither, and this one pass over their bytes is far
 * cheaper than cutting them into tokens. A word token is a maximal run of
 * ASCII letters and digits whenever it is one of those words, so looking
 * at such runs misses none of them. Plain ASCII goes eight bytes at a
 * time, visiting only the edges of the runs. */
static int may_attribute(const char *s, size_t a, size_t b)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = a, w = a;    /* w: where the current run began */
    int in = 0;             /* inside a run */

    while (i < b) {
        if (i + 8 <= b) {
            uint64_t x = swar_load(s + i);
            if (!(swar_high(x) | swar_has(x, '"'))) {
                uint64_t m = swar_alnum(x);
                /* A byte is an edge where it differs from the one before. */
                uint64_t edges = (m ^ ((m << 8) | (in ? 0x80u : 0))) & SWAR_HIGH;
                for (; edges; edges &= edges - 1) {
                    size_t at = i + ((unsigned)__builtin_ctzll(edges) >> 3);
                    if (!in)
                        w = at;
                    else if (acts_on(u, w, at))
                        return 1;
                    in = !in;
                }
                i += 8;
                continue;
            }
        }
        int k = byte_class[u[i]];
        if (k == B_WORD) {
            if (!in)
                w = i;
            in = 1;
            i++;
            continue;
        }
        if (in && acts_on(u, w, i))
            return 1;
        in = 0;
        if (k == B_MARK) {
            if (u[i] == '"')
                return 1;
            /* “ ” „ (E2 80 9C..9E) and « » (C2 AB, C2 BB) */
            if (u[i] == 0xE2 && i + 2 < b && u[i + 1] == 0x80 && u[i + 2] >= 0x9C && u[i + 2] <= 0x9E)
                return 1;
            if (u[i] == 0xC2 && i + 1 < b && (u[i + 1] == 0xAB || u[i + 1] == 0xBB))
                return 1;
        }
        i++;
    }
    return in && acts_on(u, w, b);
}

struct sent_info {
    int starts_in, ends_in;  /* inside a quotation at the start, at the end */
    int has_quote;
    int all_quoted;          /* nothing but a quotation and punctuation */
};

/* Whether a blank line separates text[a..b). */
static int blank_line(const char *s, size_t a, size_t b)
{
    int newlines = 0;
    for (size_t i = a; i < b; i++)
        newlines += s[i] == '\n';
    return newlines >= 2;
}

void speaker_find(const char *text, size_t len,
                  const struct sentence *sents, size_t n,
                  struct speaker_span *who)
{
    static const struct speaker_span none = {0, 0};
    struct toks ts = {0};
    struct sent_info *info = xcalloc(n ? n : 1, sizeof *info);
    struct speaker_span last_name = none;
    int inq = 0;

    pthread_once(&word_index_once, build_word_index);
    for (size_t i = 0; i < n; i++) {
        size_t a = sents[i].start, b = sents[i].end < len ? sents[i].end : len;
        who[i] = none;
        /* A quotation still open at a paragraph break continues only if the
         * new paragraph opens with a quotation mark, as news style does. */
        if (inq && i > 0 && blank_line(text, sents[i - 1].end, a)) {
            int32_t c = 0;
            if (a < b)
                text_decode(text, b, a, &c);
            if (c != '"' && c != 0x201C && c != 0x201E && c != 0xAB)
                inq = 0;
        }
        if (!inq && !may_attribute(text, a, b))
            continue;    /* info[i] stays all zero: no quotation, no speaker */
        info[i].starts_in = inq;
        tokenize(text, a, b, &inq, &ts);
        info[i].ends_in = inq;
        int outside = 0, quote = info[i].starts_in;
        for (size_t k = 0; k < ts.n; k++) {
            quote |= ts.v[k].kind == K_OPEN || ts.v[k].kind == K_CLOSE;
            outside |= !ts.v[k].quoted && ts.v[k].kind == K_WORD;
        }
        info[i].has_quote = quote;
        info[i].all_quoted = quote && !outside;

        struct found f = attribute(text, ts.v, ts.n);
        if (f.a == f.b)
            continue;
        if (f.pronoun) {
            who[i] = last_name;
            continue;
        }
        size_t first = f.proper ? strip_titles(text, ts.v, f.a, f.b) : f.a;
        who[i] = (struct speaker_span){ ts.v[first].a, ts.v[f.b - 1].b };
        if (f.proper)
            last_name = who[i];
    }

    /* A quotation running over sentences i..j (each ends inside it and the
     * next starts inside it) has one speaker: the one named where it
     * opened, else where it closed, else anywhere in between. */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && info[j].ends_in && info[j + 1].starts_in)
            j++;
        if (j > i) {
            struct speaker_span w = SPEAKER_FOUND(who[i]) ? who[i] : who[j];
            for (size_t k = i; !SPEAKER_FOUND(w) && k <= j; k++)
                w = who[k];
            for (size_t k = i; k <= j; k++)
                if (!SPEAKER_FOUND(who[k]))
                    who[k] = w;
        }
        i = j + 1;
    }

    /* A sentence that is nothing but a quotation, right after an
     * attributed one that quoted, continues that speaker's words:
     * "We will win," he said. "The enemy will lose." */
    for (size_t i = 1; i < n; i++)
        if (!SPEAKER_FOUND(who[i]) && info[i].all_quoted && SPEAKER_FOUND(who[i - 1]) && info[i - 1].has_quote)
            who[i] = who[i - 1];

    free(info);
    free(ts.v);
}

void speaker_attribute(const char *text, size_t len,
                       const struct sentence *sents, size_t n,
                       char **speakers)
{
    struct speaker_span *who = xcalloc(n ? n : 1, sizeof *who);

    speaker_find(text, len, sents, n, who);
    for (size_t i = 0; i < n; i++)
        speakers[i] = SPEAKER_FOUND(who[i]) ? xstrndup(text + who[i].start, who[i].end - who[i].start) : NULL;
    free(who);
}
