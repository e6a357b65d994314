/*
 * metrics: everything is derived from the confusion matrix, so merging
 * folds is a matter of adding matrices.
 */
#include "metrics.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void metrics_init(struct metrics *m, int k)
{
    memset(m, 0, sizeof *m);
    m->k = k;
}

void metrics_add(struct metrics *m, int truth, int predicted)
{
    m->confusion[truth][predicted]++;
}

void metrics_merge(struct metrics *into, const struct metrics *from)
{
    for (int i = 0; i < from->k; i++)
        for (int j = 0; j < from->k; j++)
            into->confusion[i][j] += from->confusion[i][j];
}

static long total(const struct metrics *m, long *correct)
{
    long n = 0;
    *correct = 0;
    for (int i = 0; i < m->k; i++)
        for (int j = 0; j < m->k; j++) {
            n += m->confusion[i][j];
            if (i == j)
                *correct += m->confusion[i][j];
        }
    return n;
}

double metrics_accuracy(const struct metrics *m)
{
    long correct, n = total(m, &correct);
    return n ? (double)correct / (double)n : 0;
}

static long support(const struct metrics *m, int c)
{
    long s = 0;
    for (int j = 0; j < m->k; j++)
        s += m->confusion[c][j];
    return s;
}

void metrics_class(const struct metrics *m, int c, double *precision, double *recall, double *f1)
{
    long tp = m->confusion[c][c], pred = 0, truth = support(m, c);
    for (int i = 0; i < m->k; i++)
        pred += m->confusion[i][c];
    *precision = pred ? (double)tp / (double)pred : 0;
    *recall = truth ? (double)tp / (double)truth : 0;
    *f1 = *precision + *recall > 0 ? 2 * *precision * *recall / (*precision + *recall) : 0;
}

double metrics_macro_f1(const struct metrics *m)
{
    double sum = 0;
    int n = 0;
    for (int c = 0; c < m->k; c++) {
        if (!support(m, c))
            continue;
        double p, r, f;
        metrics_class(m, c, &p, &r, &f);
        sum += f;
        n++;
    }
    return n ? sum / n : 0;
}

static double round4(double x)
{
    return (double)(long)(x * 10000 + 0.5) / 10000;
}

cJSON *metrics_to_json(const struct metrics *m, char *const *labels)
{
    long correct, n = total(m, &correct);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "n", (double)n);
    cJSON_AddNumberToObject(j, "accuracy", round4(metrics_accuracy(m)));
    cJSON_AddNumberToObject(j, "macro_f1", round4(metrics_macro_f1(m)));
    cJSON *pc = cJSON_AddObjectToObject(j, "per_class");
    for (int c = 0; c < m->k; c++) {
        double p, r, f;
        metrics_class(m, c, &p, &r, &f);
        cJSON *o = cJSON_AddObjectToObject(pc, labels[c]);
        cJSON_AddNumberToObject(o, "precision", round4(p));
        cJSON_AddNumberToObject(o, "recall", round4(r));
        cJSON_AddNumberToObject(o, "f1", round4(f));
        cJSON_AddNumberToObject(o, "support", (double)support(m, c));
    }
    cJSON *conf = cJSON_AddObjectToObject(j, "confusion");
    cJSON *ls = cJSON_AddArrayToObject(conf, "labels");
    cJSON *mx = cJSON_AddArrayToObject(conf, "matrix");
    for (int i = 0; i < m->k; i++) {
        cJSON_AddItemToArray(ls, cJSON_CreateString(labels[i]));
        cJSON *row = cJSON_CreateArray();
        for (int c = 0; c < m->k; c++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)m->confusion[i][c]));
        cJSON_AddItemToArray(mx, row);
    }
    return j;
}

struct sbuf {
    char *s;
    size_t n, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (w >= 0 && (size_t)w < b->cap - b->n) {
            b->n += (size_t)w;
            return;
        }
        b->cap = b->cap * 2 + (size_t)(w > 0 ? w : 0) + 64;
        b->s = xrealloc(b->s, b->cap);
    }
}

char *metrics_report(const struct metrics *m, char *const *labels)
{
    struct sbuf b = { xmalloc(256), 0, 256 };
    long correct, n = total(m, &correct);
    sb_printf(&b, "n=%ld  accuracy=%.4f  macro-F1=%.4f\n\n", n, metrics_accuracy(m), metrics_macro_f1(m));
    sb_printf(&b, "%-14s %9s %9s %9s %9s\n", "label", "precision", "recall", "F1", "support");
    for (int c = 0; c < m->k; c++) {
        double p, r, f;
        metrics_class(m, c, &p, &r, &f);
        sb_printf(&b, "%-14s %9.4f %9.4f %9.4f %9ld\n", labels[c], p, r, f, support(m, c));
    }
    sb_printf(&b, "\nconfusion (rows: truth, columns: predicted)\n%-14s", "");
    for (int c = 0; c < m->k; c++)
        sb_printf(&b, " %12.12s", labels[c]);
    sb_printf(&b, "\n");
    for (int i = 0; i < m->k; i++) {
        sb_printf(&b, "%-14s", labels[i]);
        for (int c = 0; c < m->k; c++)
            sb_printf(&b, " %12ld", m->confusion[i][c]);
        sb_printf(&b, "\n");
    }
    return b.s;
}
