/*
 * score: the scoring path. Linear bundles use the collapsed weights built
 * by bundle_load; every other kernel goes through libsvm. One-vs-one
 * probabilities follow libsvm's Platt sigmoids and its pairwise coupling
 * (Wu, Lin and Weng 2004, method 2) step by step, so the figures agree with
 * svm_predict_probability to rounding; one-vs-rest probabilities are the
 * labels' sigmoids with one shared slope, divided by their sum (score.h
 * says why).
 */
#include "score.h"
#include "bundle_internal.h"
#include "text.h"
#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct score_scratch {
    struct feat_scratch *feat;
    char *norm;                   /* the normalised text, reused across calls */
    size_t norm_cap;
    struct feat_vec vec;          /* the last text's features, for score_explain */
    struct svm_node *nodes;
    size_t nodes_cap;
    double dec[BUNDLE_MAX_DECISIONS];
    struct score_reason *reasons;
    size_t reasons_cap;
};

struct score_scratch *score_scratch_new(void)
{
    struct score_scratch *s = xcalloc(1, sizeof *s);
    s->feat = feat_scratch_new();
    return s;
}

void score_scratch_free(struct score_scratch **sp)
{
    struct score_scratch *s = sp ? *sp : NULL;
    if (!s)
        return;
    feat_scratch_free(&s->feat);
    free(s->norm);
    free(s->nodes);
    free(s->reasons);
    free(s);
    *sp = NULL;
}

/* Platt's sigmoid, written so that neither branch cancels catastrophically. */
static double sigmoid(double dec, double a, double b)
{
    double f = dec * a + b;
    if (f >= 0) {
        double e = exp(-f);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + exp(f));
}

/* Couples the k x k pairwise probabilities r (r[i][j] = P(i | i or j)) into
 * class probabilities p by the fixed-point iteration libsvm uses, with its
 * stopping rule, so that both give the same numbers. Inlined into
 * couple_k for the common small k, where constant loop bounds let the
 * compiler unroll it and pair up its independent divisions; the
 * arithmetic, and its order, stay libsvm's. */
static inline __attribute__((always_inline)) void couple(int k, double r[][BUNDLE_MAX_LABELS], double *p)
{
    double q[BUNDLE_MAX_LABELS][BUNDLE_MAX_LABELS], qp[BUNDLE_MAX_LABELS];
    double eps = 0.005 / k;
    int max_iter = k > 100 ? k : 100;

    for (int t = 0; t < k; t++) {
        p[t] = 1.0 / k;
        q[t][t] = 0;
        for (int j = 0; j < t; j++) {
            q[t][t] += r[j][t] * r[j][t];
            q[t][j] = q[j][t];
        }
        for (int j = t + 1; j < k; j++) {
            q[t][t] += r[j][t] * r[j][t];
            q[t][j] = -r[j][t] * r[t][j];
        }
    }
    for (int iter = 0; iter < max_iter; iter++) {
        double pqp = 0, max_err = 0;
        for (int t = 0; t < k; t++) {
            qp[t] = 0;
            for (int j = 0; j < k; j++)
                qp[t] += q[t][j] * p[j];
            pqp += p[t] * qp[t];
        }
        for (int t = 0; t < k; t++) {
            double e = fabs(qp[t] - pqp);
            if (e > max_err)
                max_err = e;
        }
        if (max_err < eps)
            break;
        for (int t = 0; t < k; t++) {
            double diff = (-qp[t] + pqp) / q[t][t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t][t] + 2 * qp[t])) / (1 + diff) / (1 + diff);
            for (int j = 0; j < k; j++) {
                qp[j] = (qp[j] + diff * q[t][j]) / (1 + diff);
                p[j] /= (1 + diff);
            }
        }
    }
}

static void couple_k(int k, double r[][BUNDLE_MAX_LABELS], double *p)
{
    switch (k) {
    case 2: couple(2, r, p); break;
    case 3: couple(3, r, p); break;
    case 4: couple(4, r, p); break;
    default: couple(k, r, p); break;
    }
}

static void set_label(int k, const double *p, const int *label_of, struct score_result *out)
{
    int best = 0;
    for (int i = 1; i < k; i++)
        if (p[i] > p[best])
            best = i;
    out->label = label_of[best];
    for (int i = 0; i < k; i++)
        out->prob[label_of[i]] = p[i];
}

/* A Platt probability, clamped to [1e-7, 1 - 1e-7] as libsvm clamps it. */
static double platt(double dec, double a, double b)
{
    const double min_prob = 1e-7;
    return fmin(fmax(sigmoid(dec, a, b), min_prob), 1 - min_prob);
}

/* From one-vs-one decision values to probabilities in manifest order. */
static void pair_probabilities(const struct bundle *b, const double *dec, struct score_result *out)
{
    const struct svm_model *m = b->model[0];
    int k = m->nr_class;
    double r[BUNDLE_MAX_LABELS][BUNDLE_MAX_LABELS], p[BUNDLE_MAX_LABELS];
    int pair = 0;
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++, pair++) {
            double v = platt(dec[pair], m->probA[pair], m->probB[pair]);
            r[i][j] = v;
            r[j][i] = 1 - v;
        }
    couple_k(k, r, p);
    set_label(k, p, b->label_of_svm, out);
}

double score_ovr_scale(struct svm_model *const *m, int k)
{
    double sum = 0;
    for (int i = 0; i < k; i++)
        sum += fabs(m[i]->probA ? m[i]->probA[0] : 0);
    return sum > 0 ? sum / k : 1;
}

/* log(1 / (1 + exp(-z))), finite for every finite z */
static double log_sigmoid(double z)
{
    return z >= 0 ? -log1p(exp(-z)) : z - log1p(exp(z));
}

void score_ovr_probabilities(int k, const double *dec, double scale, double *p)
{
    double top = -INFINITY, sum = 0;
    for (int i = 0; i < k; i++)
        top = fmax(top, p[i] = log_sigmoid(scale * dec[i]));
    /* divided through by the largest, so that no sum underflows to 0 */
    for (int i = 0; i < k; i++)
        sum += p[i] = exp(p[i] - top);
    for (int i = 0; i < k; i++)
        p[i] /= sum;
}

double score_ovr_decision(const struct svm_model *m, const struct svm_node *x)
{
    double v;
    svm_predict_values(m, x, &v);
    return ovr_sign(m) * v;
}

static void probabilities(const struct bundle *b, const double *dec, struct score_result *out)
{
    if (!b->one_vs_rest) {
        pair_probabilities(b, dec, out);
        return;
    }
    double p[BUNDLE_MAX_LABELS];
    score_ovr_probabilities(b->nlabels, dec, b->ovr_scale, p);
    set_label(b->nlabels, p, b->label_of_svm, out);
}

static int vectorize(const struct bundle *b, struct score_scratch *s,
                     const char *text, size_t len, char *err, size_t errlen)
{
    size_t nlen;
    if (text_normalize_into(text, len, &s->norm, &s->norm_cap, &nlen, err, errlen) < 0)
        return -1;
    s->vec = feat_vectorize(&b->fs, b->vocab, s->feat, s->norm, nlen);
    return 0;
}

int score_text(const struct bundle *b, struct score_scratch *s,
               const char *text, size_t len, struct score_result *out,
               char *err, size_t errlen)
{
    if (!b->linear)
        return score_text_libsvm(b, s, text, len, out, err, errlen);
    if (vectorize(b, s, text, len, err, errlen) < 0)
        return -1;
    int np = b->ndecisions;
    for (int p = 0; p < np; p++)
        s->dec[p] = b->bias[p];
    for (size_t i = 0; i < s->vec.n; i++) {
        const double *row = s->vec.row[i];
        double x = s->vec.val[i];
        for (int p = 0; p < np; p++)
            s->dec[p] += x * row[p];
    }
    probabilities(b, s->dec, out);
    return 0;
}

int score_text_libsvm(const struct bundle *b, struct score_scratch *s,
                      const char *text, size_t len, struct score_result *out,
                      char *err, size_t errlen)
{
    if (vectorize(b, s, text, len, err, errlen) < 0)
        return -1;
    if (s->nodes_cap < s->vec.n + 1) {
        s->nodes_cap = s->vec.n + 64;
        s->nodes = xrealloc(s->nodes, s->nodes_cap * sizeof *s->nodes);
    }
    feat_vec_nodes(&s->vec, s->nodes);
    if (!b->one_vs_rest) {
        const struct svm_model *m = b->model[0];
        double p[BUNDLE_MAX_LABELS];
        int label = (int)svm_predict_probability(m, s->nodes, p);
        svm_predict_values(m, s->nodes, s->dec);
        out->label = label;
        for (int i = 0; i < m->nr_class; i++)
            out->prob[b->label_of_svm[i]] = p[i];
        return 0;
    }
    for (int i = 0; i < b->nlabels; i++)
        s->dec[i] = score_ovr_decision(b->model[i], s->nodes);
    probabilities(b, s->dec, out);
    return 0;
}

const double *score_decision_values(const struct score_scratch *s)
{
    return s->dec;
}

/* Equal weights go in feature order, so that the explanation does not
 * depend on the order the features were found in. */
static int by_weight_desc(const void *a, const void *b)
{
    const struct score_reason *p = a, *q = b;
    double x = p->weight, y = q->weight;
    return x != y ? (x < y) - (x > y) : strcmp(p->feature, q->feature);
}

/* A feature's push towards label, per unit of its value: its weight in
 * label's one-vs-rest decision, or its mean share in every pairwise
 * decision involving label, signed so that positive favours label. */
static double push(const struct bundle *b, const double *row, int label)
{
    if (b->one_vs_rest)
        return row[label];
    int c = b->svm_of_label[label], nc = b->model[0]->nr_class;
    double sum = 0;
    int pair = 0;
    for (int i = 0; i < nc; i++)
        for (int j = i + 1; j < nc; j++, pair++)
            if (i == c)
                sum += row[pair];
            else if (j == c)
                sum -= row[pair];
    return sum / (nc - 1);
}

int score_explain(const struct bundle *b, const struct score_scratch *s_,
                  int label, size_t k,
                  struct score_reason *pro, size_t *npro,
                  struct score_reason *con, size_t *ncon,
                  char *err, size_t errlen)
{
    struct score_scratch *s = (struct score_scratch *)s_;
    *npro = *ncon = 0;
    if (!b->linear) {
        snprintf(err, errlen, "model '%s' has a %s kernel: only linear models can be explained",
                 b->name, b->model[0]->param.kernel_type == RBF ? "RBF" : "non-linear");
        return -1;
    }
    if (s->reasons_cap < s->vec.n) {
        s->reasons_cap = s->vec.n + 16;
        s->reasons = xrealloc(s->reasons, s->reasons_cap * sizeof *s->reasons);
    }
    for (size_t f = 0; f < s->vec.n; f++)
        s->reasons[f] = (struct score_reason){ vocab_feature(b->vocab, s->vec.id[f]),
                                               push(b, s->vec.row[f], label) * s->vec.val[f] };
    if (s->vec.n > 1)
        qsort(s->reasons, s->vec.n, sizeof *s->reasons, by_weight_desc);
    for (size_t f = 0; f < s->vec.n && *npro < k && s->reasons[f].weight > 0; f++)
        pro[(*npro)++] = s->reasons[f];
    for (size_t f = s->vec.n; f-- > 0 && *ncon < k && s->reasons[f].weight < 0;)
        con[(*ncon)++] = s->reasons[f];
    return 0;
}
