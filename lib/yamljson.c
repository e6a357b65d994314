/*
 * yamljson: libyaml's event parser folded into a cJSON tree by a small
 * recursive descent, and a block-style writer going the other way.
 */
#include "yamljson.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 32

struct reader {
    yaml_parser_t parser;
    const char *path;
    char *err;
    size_t errlen;
};

static int next_event(struct reader *r, yaml_event_t *ev)
{
    if (yaml_parser_parse(&r->parser, ev))
        return 0;
    snprintf(r->err, r->errlen, "%s:%zu: %s", r->path, r->parser.problem_mark.line + 1,
             r->parser.problem ? r->parser.problem : "YAML syntax error");
    return -1;
}

static cJSON *scalar_to_json(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return cJSON_CreateString(v);
    if (strcmp(v, "true") == 0)
        return cJSON_CreateTrue();
    if (strcmp(v, "false") == 0)
        return cJSON_CreateFalse();
    if (strcmp(v, "null") == 0 || strcmp(v, "~") == 0 || v[0] == '\0')
        return cJSON_CreateNull();
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno == 0 && end != v && *end == '\0' && isfinite(d))
        return cJSON_CreateNumber(d);
    return cJSON_CreateString(v);
}

/* Builds the node that starts with event ev (consumed by the caller). */
static cJSON *read_node(struct reader *r, yaml_event_t *ev, int depth)
{
    if (depth > YAML_MAX_DEPTH) {
        snprintf(r->err, r->errlen, "%s:%zu: nested too deeply", r->path, ev->start_mark.line + 1);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return scalar_to_json(ev);
    case YAML_ALIAS_EVENT:
        snprintf(r->err, r->errlen, "%s:%zu: aliases are not supported", r->path, ev->start_mark.line + 1);
        return NULL;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int mapping = ev->type == YAML_MAPPING_START_EVENT;
        cJSON *node = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
        for (;;) {
            yaml_event_t kev;
            if (next_event(r, &kev) < 0)
                goto fail;
            if (kev.type == YAML_SEQUENCE_END_EVENT || kev.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&kev);
                return node;
            }
            char *key = NULL;
            if (mapping) {
                if (kev.type != YAML_SCALAR_EVENT) {
                    snprintf(r->err, r->errlen, "%s:%zu: mapping keys must be scalars", r->path, kev.start_mark.line + 1);
                    yaml_event_delete(&kev);
                    goto fail;
                }
                key = strdup((const char *)kev.data.scalar.value);
                size_t line = kev.start_mark.line + 1;
                yaml_event_delete(&kev);
                if (cJSON_GetObjectItemCaseSensitive(node, key)) {
                    snprintf(r->err, r->errlen, "%s:%zu: duplicate key '%s'", r->path, line, key);
                    free(key);
                    goto fail;
                }
                if (next_event(r, &kev) < 0) {
                    free(key);
                    goto fail;
                }
            }
            cJSON *child = read_node(r, &kev, depth + 1);
            yaml_event_delete(&kev);
            if (!child) {
                free(key);
                goto fail;
            }
            if (mapping)
                cJSON_AddItemToObject(node, key, child);
            else
                cJSON_AddItemToArray(node, child);
            free(key);
        }
    fail:
        cJSON_Delete(node);
        return NULL;
    }
    default:
        snprintf(r->err, r->errlen, "%s:%zu: unexpected YAML event", r->path, ev->start_mark.line + 1);
        return NULL;
    }
}

cJSON *yaml_load_json(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct reader r = { .path = path, .err = err, .errlen = errlen };
    yaml_parser_initialize(&r.parser);
    yaml_parser_set_input_file(&r.parser, fp);
    cJSON *root = NULL;
    yaml_event_t ev;
    /* stream start, document start, then the root node */
    for (int i = 0; i < 2; i++) {
        if (next_event(&r, &ev) < 0)
            goto out;
        int ok = ev.type == (i == 0 ? YAML_STREAM_START_EVENT : YAML_DOCUMENT_START_EVENT);
        yaml_event_delete(&ev);
        if (!ok) {
            snprintf(err, errlen, "%s: empty YAML document", path);
            goto out;
        }
    }
    if (next_event(&r, &ev) < 0)
        goto out;
    root = read_node(&r, &ev, 0);
    yaml_event_delete(&ev);
out:
    yaml_parser_delete(&r.parser);
    fclose(fp);
    return root;
}

static int is_scalar(const cJSON *j)
{
    return !cJSON_IsObject(j) && !cJSON_IsArray(j);
}

static void write_scalar(FILE *fp, const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    fputs(s, fp);
    cJSON_free(s);
}

/* Keys made of letters, digits and '_' (not all digits) need no quotes. */
static int plain_key(const char *k)
{
    int alpha = 0;
    for (const char *p = k; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
        alpha |= !(*p >= '0' && *p <= '9');
    }
    return alpha && strcmp(k, "true") && strcmp(k, "false") && strcmp(k, "null");
}

static void write_node(FILE *fp, const cJSON *j, int indent)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, j) {
        fprintf(fp, "%*s", indent, "");
        if (cJSON_IsObject(j)) {
            if (plain_key(c->string))
                fputs(c->string, fp);
            else
                write_scalar(fp, &(cJSON){ .type = cJSON_String, .valuestring = c->string });
            fputc(':', fp);
        } else {
            fputc('-', fp);
        }
        if (is_scalar(c)) {
            fputc(' ', fp);
            write_scalar(fp, c);
            fputc('\n', fp);
        } else if (cJSON_IsArray(c) && (!c->child || is_scalar(c->child))) {
            fputs(" [", fp);
            const cJSON *e;
            cJSON_ArrayForEach(e, c) {
                write_scalar(fp, e);
                if (e->next)
                    fputs(", ", fp);
            }
            fputs("]\n", fp);
        } else if (!c->child) {
            fputs(cJSON_IsArray(c) ? " []\n" : " {}\n", fp);
        } else {
            fputc('\n', fp);
            write_node(fp, c, indent + 2);
        }
    }
}

void yaml_write_json(FILE *fp, const cJSON *j)
{
    write_node(fp, j, 0);
}
