/*
 * fuzz_request: the libFuzzer target for everything a client's bytes reach.
 * Each input is parsed as a request (and, when it is a valid classify, taken
 * through doc analysis and reply rendering as the daemon's worker does) and
 * also treated as a raw text for validation, normalisation, splitting,
 * speaker attribution and scoring. Beyond the sanitizers, it checks what the
 * headers promise (offsets inside the text, probabilities summing to one,
 * replies that are valid UTF-8 JSON), since a broken promise is a bug even
 * when no memory is touched out of bounds.
 *
 * tests/fuzz/run.sh builds it with clang -fsanitize=fuzzer; the unit test
 * tests/unit/test_fuzz_replay.c includes this file and replays the seed
 * corpus and every kept crash through LLVMFuzzerTestOneInput with gcc, so
 * nothing here may depend on libFuzzer.
 */
#include "bundle.h"
#include "doc.h"
#include "proto.h"
#include "score.h"
#include "speaker.h"
#include "split.h"
#include "text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longer inputs are skipped: they would only slow the runs down, and every
 * limit below is crossed well under this size. */
#define FUZZ_MAX_INPUT (64 * 1024)
#define FUZZ_MAX_MODELS 4
#define FUZZ_DEFAULT_MODELS "models/stance:models/sentiment"

/* Smaller than the daemon's defaults (conf.c) so that every limit can be
 * crossed by the inputs libFuzzer makes (run.sh caps them at 16 KiB); the
 * depth is the default. */
static const struct proto_limits fuzz_limits = {
    .max_message_bytes = 12 * 1024,
    .max_texts = 100,
    .max_text_bytes = 4 * 1024,
    .max_json_depth = 16,
};
#define FUZZ_MAX_SENTENCES 100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_request_cleanup(void);

/* What a broken promise does: abort under libFuzzer, so that the input is
 * kept as a crash; the replay test replaces it to count and carry on. Every
 * check is written so that carrying on past a failure stays memory-safe. */
static void (*fuzz_on_failure)(void) = abort;

/* Tags listed in FUZZ_IGNORE (separated by commas) are still checked but
 * no longer fail: a way to fuzz past a known bug until it is fixed. */
static int fuzz_ignored(const char *tag)
{
    static const char *ignore;
    size_t n = strlen(tag);

    if (!ignore)
        ignore = getenv("FUZZ_IGNORE") ? getenv("FUZZ_IGNORE") : "";
    for (const char *p = ignore; (p = strstr(p, tag)); p += n)
        if ((p == ignore || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

static int fuzz_check(int ok, const char *tag, const char *expr, int line)
{
    if (!ok && !fuzz_ignored(tag)) {
        fprintf(stderr, "INVARIANT %s: %s (fuzz_request.c:%d)\n", tag, expr, line);
        fuzz_on_failure();
    }
    return ok;
}

/* FUZZ_CHECK(cond, tag) is true when cond holds. The tag names the broken
 * promise; run.sh uses it to name the kept input. */
#define FUZZ_CHECK(cond, tag) fuzz_check(!!(cond), tag, #cond, __LINE__)

static struct {
    int loaded;
    struct bundle *bundles[FUZZ_MAX_MODELS];
    struct doc_model models[FUZZ_MAX_MODELS];
    size_t n;
    struct score_scratch *scratch;   /* one per input */
} fz;

/* Loads the bundles named in STANCE_FUZZ_MODEL (directories separated by
 * ':'), or those of FUZZ_DEFAULT_MODELS that exist, once. A bundle named
 * explicitly that does not load stops the run: fuzzing without it would
 * look like success. */
static void fuzz_load_models(void)
{
    const char *env = getenv("STANCE_FUZZ_MODEL");
    const char *list = env && *env ? env : FUZZ_DEFAULT_MODELS;
    char dirs[4096], err[512];

    if (fz.loaded)
        return;
    fz.loaded = 1;
    snprintf(dirs, sizeof dirs, "%s", list);
    for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        struct bundle *b;
        if (fz.n == FUZZ_MAX_MODELS)
            break;
        /* A default bundle not built yet is no news. */
        if (!(env && *env) && access(dir, F_OK) != 0)
            continue;
        b = bundle_load(dir, err, sizeof err);
        if (!b) {
            fprintf(stderr, "fuzz_request: %s not loaded: %s\n", dir, err);
            if (env && *env)
                exit(1);
            continue;
        }
        fz.bundles[fz.n] = b;
        fz.models[fz.n].name = bundle_name(b);
        fz.models[fz.n].bundle = b;
        fz.n++;
    }
    if (fz.n == 0)
        fprintf(stderr, "fuzz_request: no model bundle; scoring is not fuzzed\n");
}

/* Frees what fuzz_load_models loaded, for leak checkers; the next input
 * loads again. */
void fuzz_request_cleanup(void)
{
    for (size_t i = 0; i < fz.n; i++)
        bundle_free(&fz.bundles[i]);
    memset(&fz, 0, sizeof fz);
}

static int is_ascii_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int all_ascii_space(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_ascii_space((unsigned char)s[i]))
            return 0;
    return 1;
}

static int valid_cstring(const char *s)
{
    return s && text_is_valid_utf8(s, strlen(s), NULL);
}

static void check_scores(const struct bundle *b, const struct score_result *r, const char *tag)
{
    int k = bundle_label_count(b);
    double sum = 0, best = 0;

    if (!FUZZ_CHECK(r->label >= 0 && r->label < k, tag))
        return;
    for (int l = 0; l < k; l++) {
        FUZZ_CHECK(isfinite(r->prob[l]) && r->prob[l] >= 0 && r->prob[l] <= 1, tag);
        sum += r->prob[l];
        best = fmax(best, r->prob[l]);
    }
    FUZZ_CHECK(fabs(sum - 1) < 1e-6, tag);
    /* The label is the most probable one; rounding may tie. */
    FUZZ_CHECK(r->prob[r->label] >= best - 1e-9, tag);
}

/* A serialised reply must be one JSON object, valid UTF-8, with an id. */
static void check_reply(const char *s, size_t len)
{
    const char *end = NULL;
    cJSON *r;

    if (!FUZZ_CHECK(s && strlen(s) == len, "reply-length"))
        return;
    FUZZ_CHECK(text_is_valid_utf8(s, len, NULL), "reply-not-utf8");
    r = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    FUZZ_CHECK(r && end == s + len, "reply-not-json");
    FUZZ_CHECK(cJSON_IsObject(r) && cJSON_GetObjectItemCaseSensitive(r, "id"), "reply-shape");
    cJSON_Delete(r);
}

static void check_explain(const struct doc_explain *e, size_t k)
{
    if (!e->available) {
        FUZZ_CHECK(e->npro == 0 && e->ncon == 0, "explain-unavailable-counts");
        return;
    }
    if (!FUZZ_CHECK(e->npro <= k && e->ncon <= k, "explain-counts"))
        return;
    for (size_t i = 0; i < e->npro; i++) {
        FUZZ_CHECK(e->pro[i].feature && e->pro[i].weight > 0, "explain-pro");
        FUZZ_CHECK(i == 0 || e->pro[i].weight <= e->pro[i - 1].weight, "explain-pro-order");
    }
    for (size_t i = 0; i < e->ncon; i++) {
        FUZZ_CHECK(e->con[i].feature && e->con[i].weight < 0, "explain-con");
        FUZZ_CHECK(i == 0 || e->con[i].weight >= e->con[i - 1].weight, "explain-con-order");
    }
}

/* Sentences lie inside the text, in order, on code point boundaries,
 * trimmed, with code point offsets that match their byte offsets, and
 * leave out nothing but white space. Returns 1 when they may be used. */
static int check_sentences(const char *s, size_t len, const struct sentence *v, size_t n)
{
    size_t prev_end = 0, chars = 0, counted = 0;

    for (size_t i = 0; i < n; i++) {
        size_t a = v[i].start, b = v[i].end;
        if (!FUZZ_CHECK(prev_end <= a && a < b && b <= len, "sentence-bounds"))
            return 0;
        FUZZ_CHECK(((unsigned char)s[a] & 0xC0) != 0x80 &&
                       (b == len || ((unsigned char)s[b] & 0xC0) != 0x80),
                   "sentence-mid-codepoint");
        FUZZ_CHECK(!is_ascii_space((unsigned char)s[a]) && !is_ascii_space((unsigned char)s[b - 1]),
                   "sentence-untrimmed");
        for (size_t j = prev_end; j < a; j++)
            FUZZ_CHECK((unsigned char)s[j] >= 0x80 || is_ascii_space((unsigned char)s[j]),
                       "sentence-gap-loses-text");
        chars += text_char_count(s + counted, a - counted);
        FUZZ_CHECK(v[i].char_start == chars, "sentence-char-offset");
        chars += text_char_count(s + a, b - a);
        FUZZ_CHECK(v[i].char_end == chars, "sentence-char-offset");
        counted = b;
        prev_end = b;
    }
    for (size_t j = prev_end; j < len; j++)
        FUZZ_CHECK((unsigned char)s[j] >= 0x80 || is_ascii_space((unsigned char)s[j]),
                   "sentence-tail-loses-text");
    return 1;
}

/* The promises of doc_analyze on a result it returned. */
/* One text's analysis as the daemon writes it, parsed back into a tree:
 * the checks below inspect the very bytes a client would receive. */
static cJSON *render_doc(const struct doc_result *d)
{
    struct proto_out o = { 0 };
    cJSON *tree;

    proto_out_doc(&o, d);
    tree = cJSON_ParseWithLength(o.s, o.len);
    proto_out_free(&o);
    return tree;
}

static void check_doc(const struct doc_result *d, const char *text, size_t len,
                      const struct doc_options *opt)
{
    size_t with_speaker = 0, attributed = 0;

    if (!FUZZ_CHECK(d->nunits >= 1 && d->text == text && d->len == len, "doc-shape"))
        return;
    if (!d->split) {
        FUZZ_CHECK(d->nunits == 1 && d->units[0].start == 0 && d->units[0].end == len &&
                       d->units[0].char_end == text_char_count(text, len),
                   "doc-whole-unit");
    } else {
        FUZZ_CHECK(d->nunits <= opt->max_sentences, "doc-sentence-limit");
        for (size_t i = 0; i < d->nunits; i++) {
            const struct doc_unit *u = &d->units[i];
            if (!FUZZ_CHECK(u->start < u->end && u->end <= len &&
                                (i == 0 || d->units[i - 1].end <= u->start),
                            "doc-unit-bounds"))
                return;
            FUZZ_CHECK(u->char_start < u->char_end && u->char_end <= text_char_count(text, len),
                       "doc-unit-chars");
            if (u->speaker) {
                FUZZ_CHECK(*u->speaker && valid_cstring(u->speaker), "doc-speaker-name");
                with_speaker++;
            }
        }
        for (size_t k = 0; k < d->nspeakers; k++) {
            FUZZ_CHECK(d->speakers[k].sentences >= 1, "doc-speaker-count");
            attributed += d->speakers[k].sentences;
            for (size_t j = 0; j < k; j++)
                FUZZ_CHECK(strcmp(d->speakers[j].name, d->speakers[k].name) != 0, "doc-speaker-twice");
            for (size_t m = 0; m < d->nmodels; m++)
                check_scores(d->models[m].bundle, &d->speakers[k].res[m], "doc-speaker-scores");
        }
        FUZZ_CHECK(attributed == with_speaker, "doc-speaker-sentences");
        for (size_t m = 0; m < d->nmodels; m++) {
            size_t total = 0;
            for (int l = 0; l < bundle_label_count(d->models[m].bundle); l++)
                total += d->counts[m][l];
            FUZZ_CHECK(total == d->nunits, "doc-label-counts");
        }
    }
    for (size_t m = 0; m < d->nmodels; m++) {
        check_scores(d->models[m].bundle, &d->summary[m], "doc-summary-scores");
        for (size_t i = 0; i < d->nunits; i++) {
            check_scores(d->models[m].bundle, &d->units[i].res[m], "doc-unit-scores");
            if (opt->explain && FUZZ_CHECK(d->units[i].explain != NULL, "doc-explain-missing"))
                check_explain(&d->units[i].explain[m], opt->explain);
        }
    }
}

/* The worker's classify: every text through doc_analyze with one sentence
 * budget for the request, each result rendered, the reply printed. */
static void fuzz_classify(const struct proto_request *req)
{
    struct doc_model picked[PROTO_MAX_MODELS];
    struct doc_options opt = { req->split, req->explain, FUZZ_MAX_SENTENCES };
    size_t nmodels = 0, len;
    cJSON *reply, *results;
    char *out;

    if (fz.n == 0)
        return;
    if (!req->models) {
        memcpy(picked, fz.models, fz.n * sizeof *picked);
        nmodels = fz.n;
    }
    for (size_t i = 0; req->models && i < req->nmodels; i++) {
        size_t k;
        for (k = 0; k < fz.n && strcmp(fz.models[k].name, req->models[i]) != 0; k++)
            ;
        if (k == fz.n)
            return;   /* unknown_model: the daemon's own reply */
        picked[nmodels++] = fz.models[k];
    }
    reply = proto_reply_new(req->id);
    results = cJSON_AddArrayToObject(reply, "results");
    for (size_t i = 0; i < req->ntexts; i++) {
        struct doc_result *d = NULL;
        char why[400];
        enum doc_status st = doc_analyze(req->texts[i], req->lens[i], picked, nmodels, &opt,
                                         fz.scratch, &d, why, sizeof why);
        if (st != DOC_OK) {
            FUZZ_CHECK(d == NULL, "doc-failed-result");
            FUZZ_CHECK(st != DOC_FAILED, "doc-failed");
            FUZZ_CHECK(valid_cstring(why), "doc-error-not-utf8");
            cJSON_Delete(reply);
            out = proto_error_reply(req->id, st == DOC_BAD_UTF8 ? PROTO_BAD_UTF8 :
                                    st == DOC_EMPTY ? PROTO_EMPTY_TEXT : PROTO_TOO_LARGE,
                                    why, &len);
            check_reply(out, len);
            free(out);
            return;
        }
        if (!FUZZ_CHECK(d != NULL, "doc-ok-without-result"))
            break;
        check_doc(d, req->texts[i], req->lens[i], &opt);
        opt.max_sentences -= d->split ? d->nunits : 0;
        cJSON_AddItemToArray(results, render_doc(d));
        doc_free(&d);
        FUZZ_CHECK(d == NULL, "doc-free-clears");
    }
    out = proto_print(reply, &len);
    cJSON_Delete(reply);
    check_reply(out, len);
    free(out);
}

/* The body as a request. */
static void fuzz_proto(const char *body, size_t len)
{
    struct proto_request req;
    char err[512] = "";
    size_t n;
    char *out;
    cJSON *id;
    enum proto_code code = proto_parse(body, len, &fuzz_limits, &req, err, sizeof err);

    /* The codes a parser can know of; busy, unknown_model, reload_failed
     * and the rest belong to the daemon. */
    FUZZ_CHECK(code == PROTO_OK || code == PROTO_BAD_JSON || code == PROTO_BAD_REQUEST ||
                   code == PROTO_BAD_UTF8 || code == PROTO_EMPTY_TEXT || code == PROTO_TOO_LARGE ||
                   code == PROTO_TOO_MANY_TEXTS || code == PROTO_UNKNOWN_OP,
               "parse-code");
    FUZZ_CHECK(!req.id || !(cJSON_IsObject(req.id) || cJSON_IsArray(req.id)), "parse-id-scalar");
    if (code != PROTO_OK) {
        int err_ok;
        FUZZ_CHECK(*err, "parse-error-empty");
        /* The message goes to the client inside a JSON string. */
        err_ok = FUZZ_CHECK(valid_cstring(err), "parse-error-not-utf8");
        out = proto_error_reply(req.id, code, err, &n);
        if (err_ok)   /* else the reply is broken for the reason just reported */
            check_reply(out, n);
        free(out);
    } else if (req.op == PROTO_OP_CLASSIFY) {
        int ok = FUZZ_CHECK(req.ntexts >= 1 && req.ntexts <= fuzz_limits.max_texts &&
                                req.texts && req.lens && (req.batch || req.ntexts == 1) &&
                                req.explain <= PROTO_MAX_EXPLAIN &&
                                (!req.models) == (req.nmodels == 0) &&
                                req.nmodels <= PROTO_MAX_MODELS,
                            "parse-classify-shape");
        for (size_t i = 0; ok && i < req.ntexts; i++)
            ok = FUZZ_CHECK(req.texts[i] && strlen(req.texts[i]) == req.lens[i] &&
                                req.lens[i] >= 1 && req.lens[i] <= fuzz_limits.max_text_bytes &&
                                text_is_valid_utf8(req.texts[i], req.lens[i], NULL),
                            "parse-text");
        for (size_t i = 0; ok && i < req.nmodels; i++)
            ok = FUZZ_CHECK(valid_cstring(req.models[i]), "parse-model-name");
        if (ok)
            fuzz_classify(&req);
    } else {
        cJSON *reply = proto_reply_new(req.id);
        cJSON_AddBoolToObject(reply, "ok", 1);
        out = proto_print(reply, &n);
        cJSON_Delete(reply);
        check_reply(out, n);
        free(out);
    }
    proto_request_clear(&req);
    FUZZ_CHECK(!req.root && !req.texts && !req.lens && !req.models, "clear-zeroes");

    /* The busy path reads only the id. */
    id = proto_peek_id(body, len, fuzz_limits.max_message_bytes);
    if (id) {
        FUZZ_CHECK(!cJSON_IsObject(id) && !cJSON_IsArray(id), "peek-id-scalar");
        out = proto_error_reply(id, PROTO_BUSY, "busy", &n);
        check_reply(out, n);
        free(out);
        cJSON_Delete(id);
    }
}

/* For a linear bundle, the fast path must agree with libsvm's own path,
 * score_text_libsvm (score.h). libsvm takes milliseconds a text, so
 * only one input in 16 is compared, chosen by its length. */
static void check_fast_path(const struct bundle *b, const char *s, size_t len,
                            const struct score_result *fast)
{
    struct score_result ref;
    char err[256];
    int k = bundle_label_count(b), second = -1;

    if (!bundle_is_linear(b) || len % 16 != 0)
        return;
    if (!FUZZ_CHECK(score_text_libsvm(b, fz.scratch, s, len, &ref, err, sizeof err) == 0,
                    "libsvm-return"))
        return;
    check_scores(b, &ref, "libsvm-result");
    for (int l = 0; l < k; l++) {
        FUZZ_CHECK(fabs(fast->prob[l] - ref.prob[l]) < 1e-9, "fast-path-differs");
        if (l != ref.label && (second < 0 || ref.prob[l] > ref.prob[second]))
            second = l;
    }
    /* A tie within rounding may go either way. */
    if (second >= 0 && ref.prob[ref.label] - ref.prob[second] > 1e-9)
        FUZZ_CHECK(fast->label == ref.label, "fast-path-label-differs");
}

/* Scores s[0..len) with every model into out[] (room for fz.n) and
 * explains each score with k features; with compare, also checks the fast
 * path against libsvm. */
static void fuzz_score(const char *s, size_t len, int valid, size_t k, int compare,
                       struct score_result *out)
{
    struct score_reason pro[8], con[8];
    char err[256];

    for (size_t m = 0; m < fz.n; m++) {
        const struct bundle *b = fz.bundles[m];
        struct score_result *r = &out[m];
        size_t npro, ncon;
        int rc = score_text(b, fz.scratch, s, len, r, err, sizeof err);
        if (!FUZZ_CHECK(rc == (valid ? 0 : -1), "score-return") || rc < 0)
            continue;
        check_scores(b, r, "score-result");
        if (score_explain(b, fz.scratch, r->label, k, pro, &npro, con, &ncon, err, sizeof err) == 0) {
            struct doc_explain e = { 1, pro, con, npro, ncon };
            check_explain(&e, k);
        } else {
            FUZZ_CHECK(!bundle_is_linear(b), "explain-linear-refused");
        }
        if (compare)
            check_fast_path(b, s, len, r);
    }
}

static int same_scores(const struct score_result *a, const struct score_result *b)
{
    if (a->label != b->label)
        return 0;
    for (int l = 0; l < BUNDLE_MAX_LABELS; l++)
        if (a->prob[l] != b->prob[l])
            return 0;
    return 1;
}

/* What the pieces gave for one text, to hold doc_analyze to: it must split,
 * attribute and score exactly as they did, whatever its scratch held. */
struct pieces {
    const struct sentence *sents;
    size_t n;
    char **speakers;
    struct score_result whole[FUZZ_MAX_MODELS];
    struct score_result *per;     /* n rows of fz.n */
};

static void check_doc_matches(const struct doc_result *d, const struct pieces *pc)
{
    if (!d->split) {
        for (size_t m = 0; m < fz.n; m++)
            FUZZ_CHECK(same_scores(&d->summary[m], &pc->whole[m]), "doc-whole-differs");
        return;
    }
    if (!FUZZ_CHECK(d->nunits == pc->n, "doc-split-differs"))
        return;
    for (size_t i = 0; i < pc->n; i++) {
        const struct doc_unit *u = &d->units[i];
        const char *a = u->speaker, *b = pc->speakers[i];
        FUZZ_CHECK(u->start == pc->sents[i].start && u->end == pc->sents[i].end &&
                       u->char_start == pc->sents[i].char_start && u->char_end == pc->sents[i].char_end,
                   "doc-split-differs");
        FUZZ_CHECK((!a && !b) || (a && b && strcmp(a, b) == 0), "doc-speaker-differs");
        for (size_t m = 0; m < fz.n; m++)
            FUZZ_CHECK(same_scores(&u->res[m], &pc->per[i * fz.n + m]), "doc-sentence-score-differs");
    }
}

/* doc_analyze on the whole text, with and without splitting. pc is NULL
 * when the pieces could not be computed. */
static void fuzz_doc(const char *s, size_t len, const struct pieces *pc)
{
    for (int split = 0; split <= 1; split++) {
        struct doc_options opt = { split, len % 4, FUZZ_MAX_SENTENCES };
        struct doc_result *d = NULL;
        char why[400];
        enum doc_status st = doc_analyze(s, len, fz.models, fz.n, &opt, fz.scratch, &d, why, sizeof why);
        if (st == DOC_OK && FUZZ_CHECK(d != NULL, "doc-ok-without-result")) {
            check_doc(d, s, len, &opt);
            if (pc)
                check_doc_matches(d, pc);
            cJSON *o = render_doc(d);
            char *p = cJSON_PrintUnformatted(o);
            if (FUZZ_CHECK(p && text_is_valid_utf8(p, strlen(p), NULL), "render-not-utf8")) {
                cJSON *back = cJSON_Parse(p);
                FUZZ_CHECK(cJSON_IsObject(back), "render-not-json");
                cJSON_Delete(back);
            }
            free(p);
            cJSON_Delete(o);
            doc_free(&d);
        } else if (st != DOC_OK) {
            FUZZ_CHECK(d == NULL && (st == DOC_EMPTY || st == DOC_TOO_MANY_SENTENCES),
                       "doc-status");
            FUZZ_CHECK(st != DOC_TOO_MANY_SENTENCES || (split && pc && pc->n > opt.max_sentences),
                       "doc-status");
        }
        /* Empty is white space only, or no sentence when splitting. */
        if (split && pc)
            FUZZ_CHECK((st == DOC_EMPTY) == (pc->n == 0), "doc-empty");
        else if (!split)
            FUZZ_CHECK((st == DOC_EMPTY) == all_ascii_space(s, len), "doc-empty");
    }
}

/* The body as a raw text: the pipeline every text of a request goes
 * through, piece by piece, and then whole through doc_analyze. */
static void fuzz_text(const char *s, size_t len)
{
    size_t bad = SIZE_MAX, nlen = 0, n;
    int valid = text_is_valid_utf8(s, len, &bad);
    char *norm = NULL, err[256];
    int rc = text_normalize(s, len, &norm, &nlen, err, sizeof err);
    struct sentence *sents = NULL;
    struct pieces pc = { 0 };

    FUZZ_CHECK(rc == (valid ? 0 : -1), "normalize-return");
    if (!valid) {
        struct doc_options opt = { 1, 0, FUZZ_MAX_SENTENCES };
        struct doc_result *d = NULL;
        FUZZ_CHECK(bad < len, "utf8-bad-offset");
        FUZZ_CHECK(norm == NULL, "normalize-invalid-output");
        fuzz_score(s, len, 0, 0, 0, pc.whole);
        FUZZ_CHECK(doc_analyze(s, len, fz.models, fz.n, &opt, fz.scratch, &d, err, sizeof err) ==
                       DOC_BAD_UTF8 && d == NULL,
                   "doc-invalid-utf8");
        return;
    }
    if (rc == 0 && FUZZ_CHECK(norm != NULL, "normalize-output")) {
        FUZZ_CHECK(strlen(norm) == nlen && text_is_valid_utf8(norm, nlen, NULL), "normalize-output");
        free(norm);
    }

    n = split_sentences(s, len, &sents);
    FUZZ_CHECK((n == 0) == (sents == NULL), "split-empty-array");
    if (!check_sentences(s, len, sents, n)) {
        free(sents);
        if (fz.n > 0)
            fuzz_doc(s, len, NULL);
        return;
    }
    pc.sents = sents;
    pc.n = n;
    pc.speakers = calloc(n ? n : 1, sizeof *pc.speakers);
    pc.per = calloc(n && fz.n ? n * fz.n : 1, sizeof *pc.per);
    if (!pc.speakers || !pc.per)
        abort();
    speaker_attribute(s, len, sents, n, pc.speakers);
    for (size_t i = 0; i < n; i++)
        if (pc.speakers[i])
            FUZZ_CHECK(*pc.speakers[i] && valid_cstring(pc.speakers[i]) && strlen(pc.speakers[i]) <= len,
                       "speaker-name");
    if (fz.n > 0) {
        fuzz_score(s, len, 1, 5, 1, pc.whole);
        for (size_t i = 0; i < n; i++)
            fuzz_score(s + sents[i].start, sents[i].end - sents[i].start, 1, 3, 0, pc.per + i * fz.n);
        fuzz_doc(s, len, &pc);
    }
    for (size_t i = 0; i < n; i++)
        free(pc.speakers[i]);
    free(pc.speakers);
    free(pc.per);
    free(sents);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    fuzz_load_models();
    /* A fresh scratch per input, so that every input replays alone as it
     * ran: a scratch grown by earlier inputs hides first-use bugs. */
    fz.scratch = score_scratch_new();
    fuzz_proto((const char *)data, size);
    fuzz_text((const char *)data, size);
    score_scratch_free(&fz.scratch);
    return 0;
}
