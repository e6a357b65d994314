/*
 * dataset: strict readers for the two training formats. A corpus with a
 * broken line is refused whole: silently skipping rows would change what a
 * model learnt without anyone noticing.
 */
#include "dataset.h"
#include "sha256.h"
#include "text.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dataset_free(struct dataset **dp)
{
    struct dataset *d = dp ? *dp : NULL;
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->text[i]);
        free(d->norm[i]);
    }
    free(d->text); free(d->norm); free(d->norm_len); free(d->label);
    for (int i = 0; i < d->nlabels; i++)
        free(d->labels[i]);
    free(d);
    *dp = NULL;
}

void dataset_counts(const struct dataset *d, size_t *counts)
{
    memset(counts, 0, (size_t)d->nlabels * sizeof *counts);
    for (size_t i = 0; i < d->n; i++)
        counts[d->label[i]]++;
}

/* Index of label name, adding it when the label set is open. */
static int label_index(struct dataset *d, const char *name, int open)
{
    for (int i = 0; i < d->nlabels; i++)
        if (strcmp(d->labels[i], name) == 0)
            return i;
    if (!open || d->nlabels == BUNDLE_MAX_LABELS)
        return -1;
    d->labels[d->nlabels] = xstrdup(name);
    return d->nlabels++;
}

static const char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Splits one line into label and text; returns an error message or NULL. */
static const char *parse_line(char *line, size_t len, char **label, char **text, cJSON **json)
{
    if (line[0] == '{') {
        const char *end = NULL;
        *json = cJSON_ParseWithLengthOpts(line, len, &end, 0);
        if (!*json)
            return "invalid JSON";
        cJSON *l = cJSON_GetObjectItemCaseSensitive(*json, "label");
        cJSON *t = cJSON_GetObjectItemCaseSensitive(*json, "text");
        if (!cJSON_IsString(l) || !cJSON_IsString(t))
            return "JSON line needs string fields \"label\" and \"text\"";
        *label = l->valuestring;
        *text = t->valuestring;
        return NULL;
    }
    char *tab = strchr(line, '\t');
    if (!tab)
        return "expected label<TAB>sentence";
    *tab = '\0';
    *label = (char *)trim(line);
    *text = (char *)trim(tab + 1);
    return NULL;
}

struct dataset *dataset_load(char *const *files, size_t nfiles,
                             char *const *labels, int nlabels,
                             char *err, size_t errlen)
{
    struct dataset *d = xcalloc(1, sizeof *d);
    for (int i = 0; i < nlabels; i++)
        d->labels[d->nlabels++] = xstrdup(labels[i]);
    struct sha256 h;
    sha256_init(&h);
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    for (size_t f = 0; f < nfiles; f++) {
        FILE *fp = fopen(files[f], "r");
        if (!fp) {
            snprintf(err, errlen, "%s: %s", files[f], strerror(errno));
            goto fail;
        }
        ssize_t len;
        size_t lineno = 0;
        while ((len = getline(&line, &lcap, fp)) > 0) {
            lineno++;
            sha256_update(&h, line, (size_t)len);
            while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = '\0';
            if (len == 0 || line[0] == '#')
                continue;
            char *label = NULL, *text = NULL;
            cJSON *json = NULL;
            const char *why = parse_line(line, (size_t)len, &label, &text, &json);
            int li = -1;
            size_t bad;
            char nerr[128];
            if (!why && !text_is_valid_utf8(text, strlen(text), &bad))
                why = "invalid UTF-8";
            if (!why && !*text)
                why = "empty sentence";
            if (!why && (li = label_index(d, label, nlabels == 0)) < 0)
                why = nlabels ? "label not among the model's labels" : "too many labels";
            if (why) {
                snprintf(err, errlen, "%s:%zu: %s", files[f], lineno, why);
                cJSON_Delete(json);
                fclose(fp);
                goto fail;
            }
            if (d->n == cap) {
                cap = cap ? cap * 2 : 1024;
                d->text = xrealloc(d->text, cap * sizeof *d->text);
                d->norm = xrealloc(d->norm, cap * sizeof *d->norm);
                d->norm_len = xrealloc(d->norm_len, cap * sizeof *d->norm_len);
                d->label = xrealloc(d->label, cap * sizeof *d->label);
            }
            d->text[d->n] = xstrdup(text);
            text_normalize(text, strlen(text), &d->norm[d->n], &d->norm_len[d->n], nerr, sizeof nerr);
            d->label[d->n++] = li;
            cJSON_Delete(json);
        }
        fclose(fp);
    }
    free(line);
    line = NULL;
    if (d->n == 0) {
        snprintf(err, errlen, "no labelled sentences in the data");
        goto fail;
    }
    sha256_final_hex(&h, d->sha256);
    if (nlabels == 0) {
        /* sort the label names and renumber */
        int order[BUNDLE_MAX_LABELS], rank[BUNDLE_MAX_LABELS];
        for (int i = 0; i < d->nlabels; i++)
            order[i] = i;
        for (int i = 1; i < d->nlabels; i++)
            for (int j = i; j > 0 && strcmp(d->labels[order[j - 1]], d->labels[order[j]]) > 0; j--) {
                int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
            }
        char *sorted[BUNDLE_MAX_LABELS];
        for (int i = 0; i < d->nlabels; i++) {
            rank[order[i]] = i;
            sorted[i] = d->labels[order[i]];
        }
        memcpy(d->labels, sorted, (size_t)d->nlabels * sizeof *sorted);
        for (size_t i = 0; i < d->n; i++)
            d->label[i] = rank[d->label[i]];
    }
    return d;
fail:
    free(line);
    dataset_free(&d);
    return NULL;
}
