/*
 * admin: the `ping`, `models`, `stats` and `reload` subcommands, one
 * {"op": ...} request each. Programs get the reply as one JSON line; a
 * person gets it laid out by render.c, with the model list given its own
 * shape since it is the reply people read most.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "conn.h"
#include "render.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void print_models(const struct render_style *s, const cJSON *models)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, models) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        const cJSON *labels = cJSON_GetObjectItemCaseSensitive(m, "labels");
        printf("%s%s%s\n", render_bold(s), cJSON_IsString(name) ? name->valuestring : "?",
               render_reset(s));
        if (cJSON_IsArray(labels)) {
            fputs("  labels: ", stdout);
            const cJSON *l;
            cJSON_ArrayForEach(l, labels)
                if (cJSON_IsString(l))
                    printf("%s%s%s%s", render_label_color(s, l->valuestring), l->valuestring,
                           render_reset(s), l->next ? ", " : "");
            putchar('\n');
        }
        /* Everything else (kernel, features, training figures) is shown as
         * the daemon sends it, so new manifest fields need no client change. */
        cJSON *rest = cJSON_Duplicate(m, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(rest, "name");
        cJSON_DeleteItemFromObjectCaseSensitive(rest, "labels");
        render_tree(stdout, s, rest, 2);
        cJSON_Delete(rest);
    }
}

static void print_readable(const char *op, const cJSON *reply, const struct render_style *s,
                           const char *endpoint, double ms)
{
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(reply, "models");
    if (strcmp(op, "ping") == 0) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, "version");
        printf("stanced at %s answered in %.2f ms", endpoint, ms);
        if (cJSON_IsNumber(v))
            printf(" (protocol version %d)", v->valueint);
        putchar('\n');
    } else if (strcmp(op, "models") == 0 && cJSON_IsArray(models)) {
        print_models(s, models);
    } else if (strcmp(op, "reload") == 0 && cJSON_IsArray(models)) {
        fputs("reloaded:", stdout);
        const cJSON *m;
        cJSON_ArrayForEach(m, models) {
            const cJSON *name = cJSON_IsObject(m) ? cJSON_GetObjectItemCaseSensitive(m, "name") : m;
            if (cJSON_IsString(name))
                printf(" %s", name->valuestring);
        }
        const cJSON *keys = cJSON_GetObjectItemCaseSensitive(reply, "authorized_keys");
        if (cJSON_IsNumber(keys))
            printf("; %d authorized keys", keys->valueint);
        putchar('\n');
    } else {
        cJSON *rest = cJSON_Duplicate(reply, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(rest, "id");
        render_tree(stdout, s, rest, 0);
        cJSON_Delete(rest);
    }
}

int admin_run(const char *op, const struct cli_opts *o)
{
    char err[256];
    struct conn *c = conn_open(o->endpoint, o->timeout_ms, o->retries, o->security, err, sizeof err);
    if (!c) {
        fprintf(stderr, "stance: %s\n", err);
        return CLI_USAGE;
    }
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "op", op);
    cJSON_AddNumberToObject(req, "id", 1);
    cJSON *reply;
    double t0 = now_ms();
    enum conn_status st = conn_request(c, req, &reply, err, sizeof err);
    double ms = now_ms() - t0;
    cJSON_Delete(req);
    conn_free(&c);
    if (st != CONN_OK) {
        fprintf(stderr, "stance: %s\n", err);
        return st == CONN_TIMEOUT ? CLI_UNREACHABLE : CLI_ERROR_REPLY;
    }
    int rc = CLI_OK;
    if (conn_reply_error(reply, err, sizeof err)) {
        fprintf(stderr, "stance: the daemon replied %s\n", err);
        rc = CLI_ERROR_REPLY;
    } else if (o->json || (!isatty(STDOUT_FILENO) && o->color != 1)) {
        char *s = cJSON_PrintUnformatted(reply);
        puts(s);
        free(s);
    } else {
        struct render_style style;
        render_style_init(&style, stdout, o->color);
        print_readable(op, reply, &style, o->endpoint, ms);
    }
    cJSON_Delete(reply);
    return rc;
}
