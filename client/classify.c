/*
 * classify: the default subcommand. Gathers the texts (arguments, files,
 * stdin; whole or line by line), sends them to stanced in `texts` batches
 * and prints each result: one compact JSON object per line for programs,
 * or the readable rendering of render.c for a person at a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conn.h"
#include "input.h"
#include "render.h"
#include "xalloc.h"

/* A batch is kept well inside the daemon's default limits on texts per
 * request and request size; a single larger text still goes alone and the
 * daemon decides whether it is too large. */
#define BATCH_TEXTS 64
#define BATCH_BYTES (512 * 1024)

struct text {
    char *s;
    size_t len;
    long line; /* 1-based line of its file with --lines, else 0 */
};

struct texts {
    struct text *v;
    size_t n, cap;
};

static void texts_add(struct texts *t, char *s, size_t len, long line)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->v = xrealloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] = (struct text){ s, len, line };
}

static void texts_free(struct texts *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].s);
    free(t->v);
}

/* Adds the non-blank lines of buf (which it consumes) as texts: a blank
 * line has nothing in it to classify. */
static void add_lines(struct texts *t, char *buf, size_t len)
{
    size_t pos = 0, n;
    long lineno = 0;
    const char *line;
    while (input_next_line(buf, len, &pos, &lineno, &line, &n))
        texts_add(t, xstrndup(line, n), n, lineno);
    free(buf);
}

/* Collects every text in command-line order. Returns 0, or -1 after
 * printing why an input could not be read. */
static int gather(const struct cli_opts *o, struct texts *t)
{
    static const struct cli_input from_stdin = { .path = "-" };
    const struct cli_input *in = o->inputs;
    size_t n = o->n_inputs;
    if (n == 0) {
        in = &from_stdin;
        n = 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (in[i].text) {
            texts_add(t, xstrdup(in[i].text), strlen(in[i].text), 0);
            continue;
        }
        size_t len;
        char *buf = input_read(in[i].path, &len);
        if (!buf)
            return -1;
        if (o->lines)
            add_lines(t, buf, len);
        else
            texts_add(t, buf, len, 0);
    }
    return 0;
}

/* The fields every batch shares: models, split, explain. */
static cJSON *request_template(const struct cli_opts *o)
{
    cJSON *req = cJSON_CreateObject();
    if (o->models) {
        cJSON *m = cJSON_AddArrayToObject(req, "models");
        for (size_t i = 0; i < o->n_models; i++)
            cJSON_AddItemToArray(m, cJSON_CreateString(o->models[i]));
    }
    if (o->split >= 0)
        cJSON_AddBoolToObject(req, "split", o->split);
    if (o->explain > 0)
        cJSON_AddNumberToObject(req, "explain", o->explain);
    return req;
}

/* Prints result as one JSON line that starts with the input's index (and
 * its line with --lines), where a reader of the stream looks first. Empties
 * result: its members move to the printed object. */
static void print_json(cJSON *result, size_t index, long line)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "index", (double)index);
    if (line)
        cJSON_AddNumberToObject(out, "line", (double)line);
    while (result->child) {
        cJSON *c = cJSON_DetachItemViaPointer(result, result->child);
        cJSON_AddItemToObject(out, c->string, c);
    }
    char *s = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    puts(s);
    free(s);
}

/* Sends texts [first, first+n) in one request and prints their results.
 * Returns an enum cli_exit. */
static int run_batch(struct conn *c, const cJSON *tmpl, const struct texts *t, size_t first,
                     size_t n, long id, int json, const struct render_style *style)
{
    cJSON *req = cJSON_Duplicate(tmpl, 1);
    cJSON_AddNumberToObject(req, "id", (double)id);
    cJSON *arr = cJSON_AddArrayToObject(req, "texts");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(t->v[first + i].s));
    cJSON *reply;
    char err[256];
    enum conn_status st = conn_request(c, req, &reply, err, sizeof err);
    cJSON_Delete(req);
    if (st == CONN_TIMEOUT) {
        fprintf(stderr, "stance: %s\n", err);
        return CLI_UNREACHABLE;
    }
    if (st != CONN_OK) {
        fprintf(stderr, "stance: %s\n", err);
        return CLI_ERROR_REPLY;
    }
    int rc = CLI_OK;
    cJSON *results = cJSON_GetObjectItemCaseSensitive(reply, "results");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(reply, "id");
    if (conn_reply_error(reply, err, sizeof err)) {
        fprintf(stderr, "stance: the daemon replied %s\n", err);
        rc = CLI_ERROR_REPLY;
    } else if (!cJSON_IsNumber(rid) || rid->valuedouble != (double)id ||
               !cJSON_IsArray(results) || (size_t)cJSON_GetArraySize(results) != n) {
        fprintf(stderr, "stance: the reply does not answer the request (wrong id or number "
                        "of results)\n");
        rc = CLI_ERROR_REPLY;
    } else {
        size_t i = 0;
        cJSON *r;
        cJSON_ArrayForEach(r, results) {
            const struct text *tx = &t->v[first + i];
            if (!cJSON_IsObject(r)) {
                fprintf(stderr, "stance: result %zu is not an object\n", first + i);
                rc = CLI_ERROR_REPLY;
                break;
            }
            if (json)
                print_json(r, first + i, tx->line);
            else
                render_result(stdout, style, r, tx->s, first + i, t->n);
            i++;
        }
        fflush(stdout);
    }
    cJSON_Delete(reply);
    return rc;
}

int classify_run(const struct cli_opts *o)
{
    struct texts t = { 0 };
    if (gather(o, &t) != 0) {
        texts_free(&t);
        return CLI_USAGE;
    }
    char err[256];
    struct conn *c = conn_open(o->endpoint, o->timeout_ms, o->retries, o->security, err, sizeof err);
    if (!c) {
        fprintf(stderr, "stance: %s\n", err);
        texts_free(&t);
        return CLI_USAGE;
    }
    int json = o->json || (!isatty(STDOUT_FILENO) && o->color != 1);
    struct render_style style;
    render_style_init(&style, stdout, o->color);
    cJSON *tmpl = request_template(o);
    int rc = CLI_OK;
    long id = 1;
    for (size_t first = 0; first < t.n && rc == CLI_OK; id++) {
        size_t n = 0, bytes = 0;
        while (first + n < t.n && n < BATCH_TEXTS &&
               (n == 0 || bytes + t.v[first + n].len <= BATCH_BYTES))
            bytes += t.v[first + n++].len;
        rc = run_batch(c, tmpl, &t, first, n, id, json, &style);
        first += n;
    }
    cJSON_Delete(tmpl);
    conn_free(&c);
    texts_free(&t);
    return rc;
}
