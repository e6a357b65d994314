/*
 * render: readable output for a terminal. A small word wrapper (widths from
 * utf8proc, so CJK and combining marks line up) carries every piece of text;
 * the result renderers only decide what goes on which line and in which
 * colour, reading the reply defensively since fields may be absent.
 */
#include "render.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <utf8proc.h>

#include "xalloc.h"

#define SGR_RESET  "\033[0m"
#define SGR_BOLD   "\033[1m"
#define SGR_DIM    "\033[2m"
#define SGR_RED    "\033[31m"
#define SGR_GREEN  "\033[32m"
#define SGR_YELLOW "\033[33m"

/* Below this the wrapped layout stops being readable; above it lines are
 * too long to scan, whatever the terminal's size. */
#define MIN_WIDTH 40
#define MAX_WIDTH 120
#define DOC_INDENT 5

void render_style_init(struct render_style *s, FILE *out, int color_opt)
{
    int fd = fileno(out);
    int tty = fd >= 0 && isatty(fd);
    if (color_opt >= 0) {
        s->color = color_opt;
    } else {
        const char *no_color = getenv("NO_COLOR");
        const char *term = getenv("TERM");
        s->color = tty && !(no_color && *no_color) && !(term && strcmp(term, "dumb") == 0);
    }
    int width = 0;
    struct winsize ws;
    if (tty && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        width = ws.ws_col;
    if (!width) {
        const char *cols = getenv("COLUMNS");
        char *end;
        long v = cols ? strtol(cols, &end, 10) : 0;
        if (cols && *cols && *end == '\0' && v > 0 && v < 10000)
            width = (int)v;
    }
    if (!width)
        width = 80;
    s->width = width < MIN_WIDTH ? MIN_WIDTH : width > MAX_WIDTH ? MAX_WIDTH : width;
}

const char *render_label_color(const struct render_style *s, const char *label)
{
    static const struct { const char *label, *sgr; } colors[] = {
        { "escalatory", SGR_RED },
        { "distrustful", SGR_YELLOW },
        { "conciliatory", SGR_GREEN },
        { "neutral", SGR_DIM },
    };
    if (!s->color || !label)
        return "";
    for (size_t i = 0; i < sizeof colors / sizeof colors[0]; i++)
        if (strcmp(colors[i].label, label) == 0)
            return colors[i].sgr;
    return "";
}

const char *render_reset(const struct render_style *s)
{
    return s->color ? SGR_RESET : "";
}

const char *render_bold(const struct render_style *s)
{
    return s->color ? SGR_BOLD : "";
}

static const char *dim(const struct render_style *s)
{
    return s->color ? SGR_DIM : "";
}

/* ---- the word wrapper ---- */

struct wrap {
    FILE *out;
    const struct render_style *s;
    int indent;    /* column where continuation lines start */
    int col;       /* current column */
    int at_start;  /* no word yet on this line */
    const char *sgr; /* attribute of the words being written */
    int sgr_on;      /* sgr has been emitted on this line */
};

/* Continues a line on which the caller has already written col columns;
 * continuation lines start at column indent. */
static void wrap_begin_at(struct wrap *w, FILE *out, const struct render_style *s,
                          int col, int indent)
{
    *w = (struct wrap){ .out = out, .s = s, .indent = indent, .col = col, .at_start = 1,
                        .sgr = "" };
}

/* Starts a line indented by indent columns, as its continuations will be. */
static void wrap_begin(struct wrap *w, FILE *out, const struct render_style *s, int indent)
{
    fprintf(out, "%*s", indent, "");
    wrap_begin_at(w, out, s, indent, indent);
}

static void wrap_break(struct wrap *w)
{
    if (w->sgr_on)
        fputs(SGR_RESET, w->out);
    w->sgr_on = 0;
    putc('\n', w->out);
    for (w->col = 0; w->col < w->indent; w->col++)
        putc(' ', w->out);
    w->at_start = 1;
}

static void wrap_end(struct wrap *w)
{
    putc('\n', w->out);
}

/* Control characters and bidirectional overrides in document text could
 * move the cursor or disguise what is shown; they are printed as '?'. */
static int is_unsafe(utf8proc_int32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

static int is_space(utf8proc_int32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' ||
           utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

/* Decodes one code point at p (n bytes left); an invalid byte decodes as a
 * one-byte U+FFFD. Returns the bytes consumed. */
static size_t decode(const char *p, size_t n, utf8proc_int32_t *cp)
{
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)p, (utf8proc_ssize_t)n, cp);
    if (k <= 0) {
        *cp = 0xfffd;
        return 1;
    }
    return (size_t)k;
}

static int cp_width(utf8proc_int32_t cp)
{
    if (is_unsafe(cp))
        return 1;
    int wd = utf8proc_charwidth(cp);
    return wd < 0 ? 0 : wd;
}

static void put_cp(FILE *out, const char *p, size_t k, utf8proc_int32_t cp)
{
    if (is_unsafe(cp) || cp == 0xfffd)
        fputs(is_unsafe(cp) ? "?" : "\xef\xbf\xbd", out);
    else
        fwrite(p, 1, k, out);
}

/* Writes one word (no spaces) of n bytes and the given width, breaking
 * inside it only when it is wider than a whole line. */
static void wrap_word(struct wrap *w, const char *p, size_t n, int width)
{
    int room = w->s->width - w->indent;
    if (!w->at_start) {
        if (w->col + 1 + width > w->s->width)
            wrap_break(w);
        else {
            putc(' ', w->out);
            w->col++;
        }
    }
    /* The attribute starts at the run's first word, so that the space
     * before it stays plain, and again after each break. */
    if (*w->sgr && !w->sgr_on) {
        fputs(w->sgr, w->out);
        w->sgr_on = 1;
    }
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        size_t k = decode(p + i, n - i, &cp);
        int cw = cp_width(cp);
        if (width > room && w->col + cw > w->s->width)
            wrap_break(w);
        put_cp(w->out, p + i, k, cp);
        w->col += cw;
        i += k;
    }
    w->at_start = 0;
}

/* Writes the words of s[0..n) with attribute sgr ("" for none); any run of
 * white space becomes one space or one line break. */
static void wrap_text(struct wrap *w, const char *s, size_t n, const char *sgr)
{
    w->sgr = sgr ? sgr : "";
    w->sgr_on = 0;
    size_t i = 0;
    while (i < n) {
        utf8proc_int32_t cp;
        size_t k = decode(s + i, n - i, &cp);
        if (is_space(cp)) {
            i += k;
            continue;
        }
        size_t start = i;
        int width = 0;
        while (i < n) {
            k = decode(s + i, n - i, &cp);
            if (is_space(cp))
                break;
            width += cp_width(cp);
            i += k;
        }
        wrap_word(w, s + start, i - start, width);
    }
    if (w->sgr_on)
        fputs(SGR_RESET, w->out);
    w->sgr_on = 0;
    w->sgr = "";
}

/* The columns s takes with its white space runs collapsed to one space. */
static int text_width(const char *s)
{
    size_t n = strlen(s);
    int width = 0, space = 0;
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        i += decode(s + i, n - i, &cp);
        if (is_space(cp)) {
            space = width > 0;
            continue;
        }
        width += space + cp_width(cp);
        space = 0;
    }
    return width;
}

static void wrap_str(struct wrap *w, const char *s, const char *sgr)
{
    wrap_text(w, s, strlen(s), sgr);
}

/* ---- reading the reply ---- */

struct score {
    const char *label;
    double p;
};

static int score_cmp(const void *a, const void *b)
{
    double pa = ((const struct score *)a)->p, pb = ((const struct score *)b)->p;
    return (pa < pb) - (pa > pb);
}

/* The numeric members of obj, most probable first. Returns the count and
 * sets *out to an array the caller frees. */
static size_t sorted_scores(const cJSON *obj, struct score **out)
{
    size_t n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, obj)
        n += cJSON_IsNumber(c) && c->string;
    struct score *sc = xcalloc(n ? n : 1, sizeof *sc);
    size_t i = 0;
    cJSON_ArrayForEach(c, obj)
        if (cJSON_IsNumber(c) && c->string)
            sc[i++] = (struct score){ c->string, c->valuedouble };
    qsort(sc, n, sizeof *sc, score_cmp);
    *out = sc;
    return n;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* The label object maps each model applied to its label; the first model
 * (config or request order) decides colours. */
static const char *first_label(const cJSON *item)
{
    const cJSON *labels = get(item, "label");
    const cJSON *first = cJSON_IsObject(labels) ? labels->child : NULL;
    return cJSON_IsString(first) ? first->valuestring : NULL;
}

static int model_count(const cJSON *item)
{
    const cJSON *labels = get(item, "label");
    return cJSON_IsObject(labels) ? cJSON_GetArraySize(labels) : 0;
}

/* One model's verdict: "[model: ]LABEL 0.85 (other 0.07, other 0.05)",
 * the label coloured and, when pad > 0, padded so that verdicts on
 * successive lines align; the other labels only when others is set. */
static void wrap_verdict(struct wrap *w, const char *model, const char *label,
                         const cJSON *scores, int show_model, int pad, int others)
{
    char buf[128];
    if (show_model) {
        snprintf(buf, sizeof buf, "%s:", model);
        wrap_str(w, buf, dim(w->s));
    }
    struct score *sc;
    size_t n = sorted_scores(scores, &sc);
    double p = -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(sc[i].label, label) == 0)
            p = sc[i].p;
    wrap_str(w, label, render_label_color(w->s, label));
    /* Padding is spaces the wrapper would collapse, so write it directly. */
    for (int i = text_width(label); i < pad && w->col < w->s->width; i++, w->col++)
        putc(' ', w->out);
    if (p >= 0) {
        snprintf(buf, sizeof buf, "%.2f", p);
        wrap_str(w, buf, render_bold(w->s));
    }
    int opened = 0;
    for (size_t i = 0; i < n && others; i++) {
        if (strcmp(sc[i].label, label) == 0)
            continue;
        snprintf(buf, sizeof buf, "%s%s", opened ? "" : "(", sc[i].label);
        wrap_str(w, buf, NULL);
        int last = 1;
        for (size_t j = i + 1; j < n; j++)
            last &= strcmp(sc[j].label, label) == 0;
        snprintf(buf, sizeof buf, "%.2f%s", sc[i].p, last ? ")" : ",");
        wrap_str(w, buf, NULL);
        opened = 1;
    }
    free(sc);
}

/* Every model's verdict for item (a result or a sentence); pad aligns the
 * first label across lines. */
static void wrap_verdicts(struct wrap *w, const cJSON *item, int pad)
{
    const cJSON *labels = get(item, "label"), *scores = get(item, "scores");
    int show_model = model_count(item) > 1;
    const cJSON *m;
    cJSON_ArrayForEach(m, labels) {
        if (!cJSON_IsString(m))
            continue;
        /* One model per line reads as a table; run together they blur. */
        if (m != labels->child)
            wrap_break(w);
        wrap_verdict(w, m->string, m->valuestring, get(scores, m->string), show_model,
                     m == labels->child ? pad : 0, 1);
    }
}

/* The longest label name of the first model, so that one-line results of a
 * run line up. */
static int label_pad(const cJSON *item)
{
    const cJSON *labels = get(item, "label"), *scores = get(item, "scores");
    if (!cJSON_IsObject(labels) || !labels->child)
        return 0;
    int pad = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, get(scores, labels->child->string)) {
        int len = c->string ? text_width(c->string) : 0;
        pad = len > pad ? len : pad;
    }
    return pad;
}

/* "why: for A 0.81, B 0.44; against C -0.30", per model. A model that
 * cannot explain (a non-linear kernel) is sent as null. */
static void print_explain(FILE *out, const struct render_style *s, const cJSON *explain,
                          int show_model, int indent)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, explain) {
        struct wrap w;
        char buf[160];
        const cJSON *pro = get(m, "for"), *con = get(m, "against");
        /* A text with no n-gram in the vocabulary has no reasons to show. */
        if (cJSON_IsObject(m) && !(cJSON_IsArray(pro) && pro->child) &&
            !(cJSON_IsArray(con) && con->child))
            continue;
        wrap_begin(&w, out, s, indent);
        snprintf(buf, sizeof buf, show_model ? "why (%s):" : "why:", m->string ? m->string : "?");
        wrap_str(&w, buf, dim(s));
        if (cJSON_IsNull(m)) {
            wrap_str(&w, "none: only a linear model can be explained", NULL);
            wrap_end(&w);
            continue;
        }
        static const char *const sides[] = { "for", "against" };
        int more_after = cJSON_IsArray(con) && con->child;
        for (int side = 0; side < 2; side++) {
            const cJSON *list = get(m, sides[side]);
            if (!cJSON_IsArray(list) || !list->child)
                continue;
            wrap_str(&w, sides[side], dim(s));
            const cJSON *pair;
            cJSON_ArrayForEach(pair, list) {
                const cJSON *ngram = cJSON_GetArrayItem(pair, 0), *wt = cJSON_GetArrayItem(pair, 1);
                if (!cJSON_IsString(ngram) || !cJSON_IsNumber(wt))
                    continue;
                wrap_str(&w, ngram->valuestring, render_bold(s));
                snprintf(buf, sizeof buf, "%+.2f%s", wt->valuedouble,
                         pair->next ? "," : side == 0 && more_after ? ";" : "");
                wrap_str(&w, buf, NULL);
            }
        }
        wrap_end(&w);
    }
}

static void render_line(FILE *out, const struct render_style *s, const cJSON *result,
                        const char *text)
{
    struct wrap w;
    wrap_begin_at(&w, out, s, 0, 4);
    wrap_verdicts(&w, result, label_pad(result));
    if (text) {
        /* A short text that would be broken across lines here fits on
         * the next one whole, which reads better. */
        int width = text_width(text), room = s->width - w.col - 2;
        if (width > room && width <= s->width - w.indent)
            wrap_break(&w);
        else {
            putc(' ', out);
            w.col++;
        }
        wrap_str(&w, text, NULL);
    }
    wrap_end(&w);
    const cJSON *explain = get(result, "explain");
    const cJSON *sents = get(result, "sentences");
    if (!explain && cJSON_IsArray(sents))
        explain = get(cJSON_GetArrayItem(sents, 0), "explain");
    if (cJSON_IsObject(explain))
        print_explain(out, s, explain, model_count(result) > 1, 4);
}

static void print_counts(FILE *out, const struct render_style *s, const cJSON *counts,
                         int show_model)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, counts) {
        struct wrap w;
        char buf[160];
        wrap_begin(&w, out, s, 2);
        snprintf(buf, sizeof buf, show_model ? "sentences (%s):" : "sentences:", m->string);
        wrap_str(&w, buf, render_bold(s));
        struct score *sc;
        size_t n = sorted_scores(m, &sc);
        for (size_t i = 0; i < n; i++) {
            snprintf(buf, sizeof buf, "%.0f%s", sc[i].p, i + 1 < n ? "," : "");
            wrap_str(&w, sc[i].label, render_label_color(s, sc[i].label));
            wrap_str(&w, buf, NULL);
        }
        free(sc);
        wrap_end(&w);
    }
}

/* speakers: {"Name": {"model": {"label":.., "scores":{..}, "sentences": n}}} */
static void print_speakers(FILE *out, const struct render_style *s, const cJSON *speakers,
                           int show_model)
{
    if (!cJSON_IsObject(speakers) || !speakers->child)
        return;
    fprintf(out, "  %sspeakers:%s\n", render_bold(s), render_reset(s));
    const cJSON *sp;
    cJSON_ArrayForEach(sp, speakers) {
        const cJSON *m;
        cJSON_ArrayForEach(m, sp) {
            const cJSON *label = get(m, "label"), *n = get(m, "sentences");
            if (!cJSON_IsString(label))
                continue;
            struct wrap w;
            char buf[64];
            wrap_begin_at(&w, out, s, 4, 6);
            fputs("    ", out);
            wrap_str(&w, sp->string, NULL);
            if (show_model) {
                snprintf(buf, sizeof buf, "(%s)", m->string);
                wrap_str(&w, buf, dim(s));
            }
            fputs(":", out);
            w.col++;
            wrap_verdict(&w, m->string, label->valuestring, get(m, "scores"), 0, 0, 0);
            if (cJSON_IsNumber(n)) {
                snprintf(buf, sizeof buf, "(%.0f sentence%s)", n->valuedouble,
                         n->valuedouble == 1 ? "" : "s");
                wrap_str(&w, buf, dim(s));
            }
            wrap_end(&w);
        }
    }
}

static void render_document(FILE *out, const struct render_style *s, const cJSON *result)
{
    const cJSON *sents = get(result, "sentences"), *sent;
    int show_model = model_count(result) > 1;
    size_t i = 0;
    cJSON_ArrayForEach(sent, sents) {
        char prefix[32];
        const cJSON *text = get(sent, "text"), *speaker = get(sent, "speaker");
        struct wrap w;
        /* The number is ASCII and DOC_INDENT columns wide with its spaces. */
        snprintf(prefix, sizeof prefix, "%s%3zu%s  ", dim(s), ++i, render_reset(s));
        fputs(prefix, out);
        wrap_begin_at(&w, out, s, DOC_INDENT, DOC_INDENT);
        if (cJSON_IsString(text))
            wrap_str(&w, text->valuestring, render_label_color(s, first_label(sent)));
        wrap_end(&w);

        wrap_begin(&w, out, s, DOC_INDENT);
        wrap_verdicts(&w, sent, 0);
        if (cJSON_IsString(speaker)) {
            if (show_model)
                wrap_break(&w);
            wrap_str(&w, "speaker:", dim(s));
            wrap_str(&w, speaker->valuestring, render_bold(s));
        }
        wrap_end(&w);
        const cJSON *explain = get(sent, "explain");
        if (cJSON_IsObject(explain))
            print_explain(out, s, explain, show_model, DOC_INDENT);
    }

    putc('\n', out);
    struct wrap w;
    wrap_begin(&w, out, s, 2);
    wrap_str(&w, "document:", render_bold(s));
    w.indent = w.col + 1;
    wrap_verdicts(&w, result, 0);
    wrap_end(&w);
    print_counts(out, s, get(result, "counts"), show_model);
    print_speakers(out, s, get(result, "speakers"), show_model);
}

void render_result(FILE *out, const struct render_style *s, const cJSON *result,
                   const char *text, size_t index, size_t total)
{
    const cJSON *sents = get(result, "sentences");
    if (cJSON_IsArray(sents) && cJSON_GetArraySize(sents) > 1) {
        if (total > 1)
            fprintf(out, "%s%sText %zu of %zu%s\n", index ? "\n" : "", render_bold(s),
                    index + 1, total, render_reset(s));
        render_document(out, s, result);
    } else {
        render_line(out, s, result, text);
    }
}

/* ---- generic replies ---- */

static void put_clean(FILE *out, const char *str)
{
    size_t n = strlen(str);
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        size_t k = decode(str + i, n - i, &cp);
        put_cp(out, str + i, k, cp);
        i += k;
    }
}

static void put_scalar(FILE *out, const cJSON *v)
{
    if (cJSON_IsString(v))
        put_clean(out, v->valuestring);
    else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == (double)(long long)d && d > -1e15 && d < 1e15)
            fprintf(out, "%lld", (long long)d);
        else
            fprintf(out, "%.4g", d);
    } else if (cJSON_IsBool(v))
        fputs(cJSON_IsTrue(v) ? "true" : "false", out);
    else if (cJSON_IsNull(v))
        fputs("null", out);
}

static int is_scalar_array(const cJSON *v)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, v)
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            return 0;
    return 1;
}

void render_tree(FILE *out, const struct render_style *s, const cJSON *v, int indent)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, v) {
        fprintf(out, "%*s", indent, "");
        if (cJSON_IsArray(v))
            fputs("- ", out);
        else {
            fputs(render_bold(s), out);
            put_clean(out, c->string ? c->string : "");
            fprintf(out, ":%s", render_reset(s));
        }
        if (cJSON_IsObject(c) || (cJSON_IsArray(c) && !is_scalar_array(c))) {
            putc('\n', out);
            render_tree(out, s, c, indent + 2);
        } else if (cJSON_IsArray(c)) {
            const cJSON *e;
            if (!cJSON_IsArray(v))
                putc(' ', out);
            cJSON_ArrayForEach(e, c) {
                put_scalar(out, e);
                if (e->next)
                    fputs(", ", out);
            }
            putc('\n', out);
        } else {
            if (!cJSON_IsArray(v))
                putc(' ', out);
            put_scalar(out, c);
            putc('\n', out);
        }
    }
}
