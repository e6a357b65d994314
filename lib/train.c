/*
 * train: the learning side. Cross-validation and grid search run their
 * fits on a small pool of threads; libsvm's training is re-entrant as long
 * as its print hook is silenced first and probability fitting (which calls
 * rand()) stays out of the parallel part.
 */
#include "train.h"
#include "score.h"
#include "xalloc.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <svm.h>

static void quiet(const char *s) { (void)s; }

void train_params_default(struct train_params *p)
{
    memset(p, 0, sizeof *p);
    feat_settings_default(&p->fs);
    p->kernel = LINEAR;
    p->C = 1.0;
    p->gamma = 1.0;
    p->balanced = 1;
    p->seed = 1;
    p->threads = 2;
}

struct doc_ids {
    struct vocab *v;
    int32_t *ids;
    size_t n, cap;
};

static void add_feature(void *ctx, const char *f, size_t n)
{
    struct doc_ids *d = ctx;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->ids = xrealloc(d->ids, d->cap * sizeof *d->ids);
    }
    d->ids[d->n++] = vocab_add(d->v, f, n);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

#define ROW(i) (idx ? idx[i] : (i))

/* One class's add-one smoothed log-count ratio of a feature that in rows
 * of the class have and out rows of the other classes, against the
 * smoothed totals over all kept features (Wang & Manning's r). */
static double log_count_ratio(uint32_t in, uint32_t out, double tot_in, double tot_out)
{
    return log(((1.0 + in) / tot_in) / ((1.0 + out) / tot_out));
}

/* Document frequencies over the rows, then the kept features' idf and NB
 * weights (NB: the largest one-vs-rest log-count ratio of binarised
 * counts with add-one smoothing, which for two classes is |r| of Wang &
 * Manning; a linear model absorbs the sign). */
static struct vocab *fit_vocab(const struct dataset *d, const size_t *idx, size_t n,
                               const struct feat_settings *fs)
{
    struct doc_ids doc = { vocab_new(), NULL, 0, 0 };
    struct feat_scratch *s = feat_scratch_new();
    int k = d->nlabels;
    size_t cap = 0;
    uint32_t *df = NULL, *cdf = NULL;
    for (size_t r = 0; r < n; r++) {
        size_t i = ROW(r);
        doc.n = 0;
        feat_each(fs, s, d->norm[i], d->norm_len[i], add_feature, &doc);
        size_t nv = vocab_size(doc.v);
        if (nv > cap) {
            size_t old = cap;
            cap = nv * 2;
            df = xrealloc(df, cap * sizeof *df);
            cdf = xrealloc(cdf, cap * (size_t)k * sizeof *cdf);
            memset(df + old, 0, (cap - old) * sizeof *df);
            memset(cdf + old * k, 0, (cap - old) * (size_t)k * sizeof *cdf);
        }
        if (doc.n > 1)
            qsort(doc.ids, doc.n, sizeof *doc.ids, cmp_i32);
        for (size_t j = 0; j < doc.n; j++)
            if (j == 0 || doc.ids[j] != doc.ids[j - 1]) {
                df[doc.ids[j]]++;
                cdf[(size_t)doc.ids[j] * k + d->label[i]]++;
            }
    }
    feat_scratch_free(&s);
    free(doc.ids);

    size_t nall = vocab_size(doc.v);
    double tot_in[BUNDLE_MAX_LABELS] = { 0 }, tot_out[BUNDLE_MAX_LABELS] = { 0 };
    for (size_t f = 0; f < nall; f++)
        if (df[f] >= (uint32_t)fs->min_df)
            for (int c = 0; c < k; c++) {
                tot_in[c] += 1.0 + cdf[f * k + c];
                tot_out[c] += 1.0 + (df[f] - cdf[f * k + c]);
            }
    struct vocab *v = vocab_new();
    if (fs->mnb > 0)
        vocab_set_classes(v, k);
    for (size_t f = 0; f < nall; f++) {
        if (df[f] < (uint32_t)fs->min_df)
            continue;
        const char *name = vocab_feature(doc.v, (int32_t)f);
        int32_t id = vocab_add(v, name, strlen(name));
        double idf = fs->idf ? log((1.0 + (double)n) / (1.0 + df[f])) + 1.0 : 1.0;
        double nb = 1.0, r[BUNDLE_MAX_LABELS];
        for (int c = 0; c < k; c++)
            r[c] = log_count_ratio(cdf[f * k + c], df[f] - cdf[f * k + c], tot_in[c], tot_out[c]);
        if (fs->nb) {
            nb = 0;
            for (int c = 0; c < k; c++)
                if (fabs(r[c]) > nb)
                    nb = fabs(r[c]);
        }
        vocab_set_weights(v, id, df[f], idf, nb);
        if (fs->mnb > 0)
            memcpy(vocab_ratios(v, id), r, (size_t)k * sizeof *r);
    }
    vocab_free(&doc.v);
    free(df);
    free(cdf);
    return v;
}

void train_fit_free(struct train_fit *f)
{
    vocab_free(&f->vocab);
    for (int i = 0; i < f->nmodels; i++)
        svm_free_and_destroy_model(&f->model[i]);
    free(f->pool);
    free(f->rows);
    free(f->y);
    memset(f, 0, sizeof *f);
}

/* libsvm's parameters for a fit on the n rows whose labels are y; with
 * p->balanced, each of its nlab labels (0..nlab-1) weighs n / (nlab *
 * its count), into wl and w (room for nlab). */
static void set_svm_params(const double *y, size_t n, int nlab,
                           const struct train_params *p, int probability,
                           struct svm_parameter *sp, int *wl, double *w)
{
    memset(sp, 0, sizeof *sp);
    sp->svm_type = C_SVC;
    sp->kernel_type = p->kernel;
    sp->gamma = p->gamma;
    sp->C = p->C;
    sp->cache_size = 200;
    sp->eps = 1e-3;
    sp->shrinking = 1;
    sp->probability = probability;
    if (!p->balanced)
        return;
    size_t count[BUNDLE_MAX_LABELS] = { 0 };
    for (size_t r = 0; r < n; r++)
        count[(int)y[r]]++;
    for (int c = 0; c < nlab; c++) {
        wl[sp->nr_weight] = c;
        w[sp->nr_weight++] = count[c] ? (double)n / ((double)nlab * (double)count[c]) : 1.0;
    }
    sp->weight_label = wl;
    sp->weight = w;
}

#define MNB_FOLDS 5

/* Per-fold class counts of binarised features for the mnb features. */
struct mnb_counts {
    size_t nv, k;
    uint32_t *fold;      /* [fold][feature][class] */
    uint32_t *all;       /* [feature][class], all folds */
};

/* Rows of class c (in) and of the other classes (out) that have feature
 * id, counting only the folds other than f. */
static void mnb_outside(const struct mnb_counts *m, int f, size_t id, size_t c,
                        uint32_t *in, uint32_t *out)
{
    const uint32_t *a = m->all + id * m->k, *x = m->fold + ((size_t)f * m->nv + id) * m->k;
    uint32_t df = 0;
    for (size_t j = 0; j < m->k; j++)
        df += a[j] - x[j];
    *in = a[c] - x[c];
    *out = df - *in;
}

/* The mnb features of training rows must not see the row's own label, or
 * the SVM learns to trust them far more than they deserve on new text: each
 * row's are recomputed from the class counts of the other MNB_FOLDS - 1
 * folds (rows dealt to folds in turn within each class), over the features
 * seen there, with the same smoothing as the bundle's ratios. rows[r] ends
 * with the k appended features, whose values are overwritten. */
static void mnb_out_of_fold(const struct dataset *d, const size_t *idx, size_t n,
                            const struct vocab *v, double scale, struct svm_node **rows)
{
    struct mnb_counts m = { vocab_size(v), (size_t)d->nlabels, NULL, NULL };
    m.fold = xcalloc((MNB_FOLDS + 1) * m.nv * m.k, sizeof *m.fold);
    m.all = m.fold + MNB_FOLDS * m.nv * m.k;
    unsigned char *fold = xmalloc(n ? n : 1);
    size_t dealt[BUNDLE_MAX_LABELS] = { 0 };
    for (size_t r = 0; r < n; r++) {
        int y = d->label[ROW(r)];
        fold[r] = (unsigned char)(dealt[y]++ % MNB_FOLDS);
        for (const struct svm_node *x = rows[r]; x->index != -1; x++)
            if ((size_t)x->index <= m.nv) {
                m.fold[((size_t)fold[r] * m.nv + (size_t)x->index - 1) * m.k + (size_t)y]++;
                m.all[((size_t)x->index - 1) * m.k + (size_t)y]++;
            }
    }
    double tot_in[MNB_FOLDS][BUNDLE_MAX_LABELS] = { { 0 } }, tot_out[MNB_FOLDS][BUNDLE_MAX_LABELS] = { { 0 } };
    for (int f = 0; f < MNB_FOLDS; f++)
        for (size_t id = 0; id < m.nv; id++)
            for (size_t c = 0; c < m.k; c++) {
                uint32_t in, out;
                mnb_outside(&m, f, id, c, &in, &out);
                if (in + out) {
                    tot_in[f][c] += 1.0 + in;
                    tot_out[f][c] += 1.0 + out;
                }
            }
    for (size_t r = 0; r < n; r++) {
        double odds[BUNDLE_MAX_LABELS] = { 0 };
        struct svm_node *x = rows[r];
        int f = fold[r];
        for (; x->index != -1 && (size_t)x->index <= m.nv; x++)
            for (size_t c = 0; c < m.k; c++) {
                uint32_t in, out;
                mnb_outside(&m, f, (size_t)x->index - 1, c, &in, &out);
                if (in + out)
                    odds[c] += log_count_ratio(in, out, tot_in[f][c], tot_out[f][c]);
            }
        for (size_t c = 0; c < m.k; c++, x++)
            x->value = tanh(odds[c] / scale);
    }
    free(fold);
    free(m.fold);
}

/* Trains the next model of out on its rows with labels y (0..nlab-1). */
static int fit_model(struct train_fit *out, double *y, size_t n, int nlab,
                     const struct train_params *p, int probability, char *err, size_t errlen)
{
    struct svm_problem prob = { (int)n, y, out->rows };
    struct svm_parameter sp;
    int wl[BUNDLE_MAX_LABELS];
    double w[BUNDLE_MAX_LABELS];
    set_svm_params(y, n, nlab, p, probability, &sp, wl, w);
    const char *bad = svm_check_parameter(&prob, &sp);
    if (bad) {
        snprintf(err, errlen, "libsvm: %s", bad);
        return -1;
    }
    /* each model's Platt folds are drawn from the seed, whatever came before */
    if (probability)
        srand(p->seed);
    struct svm_model *m = svm_train(&prob, &sp);
    /* libsvm keeps pointers to weight arrays on the stack; drop them. */
    m->param.weight_label = NULL;
    m->param.weight = NULL;
    m->param.nr_weight = 0;
    out->model[out->nmodels++] = m;
    return 0;
}

int train_fit(const struct dataset *d, const size_t *idx, size_t n,
              const struct train_params *p, int probability,
              struct train_fit *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    svm_set_print_string_function(quiet);
    out->vocab = fit_vocab(d, idx, n, &p->fs);
    struct feat_scratch *s = feat_scratch_new();
    size_t pool_cap = 1024, used = 0;
    size_t *start = xmalloc(n * sizeof *start);
    out->pool = xmalloc(pool_cap * sizeof *out->pool);
    out->y = xmalloc(n * sizeof *out->y);
    for (size_t r = 0; r < n; r++) {
        size_t i = ROW(r);
        struct feat_vec v = feat_vectorize(&p->fs, out->vocab, s, d->norm[i], d->norm_len[i]);
        if (used + v.n + 1 > pool_cap) {
            pool_cap = (used + v.n + 1) * 2;
            out->pool = xrealloc(out->pool, pool_cap * sizeof *out->pool);
        }
        start[r] = used;
        feat_vec_nodes(&v, out->pool + used);
        used += v.n + 1;
        out->y[r] = d->label[i];
    }
    feat_scratch_free(&s);
    out->rows = xmalloc(n * sizeof *out->rows);
    for (size_t r = 0; r < n; r++)
        out->rows[r] = out->pool + start[r];
    free(start);
    if (p->fs.mnb > 0)
        mnb_out_of_fold(d, idx, n, out->vocab, p->fs.mnb, out->rows);

    int rc = 0;
    if (p->one_vs_rest) {
        double *yb = xmalloc((n ? n : 1) * sizeof *yb);
        for (int c = 0; c < d->nlabels && rc == 0; c++) {
            for (size_t r = 0; r < n; r++)
                yb[r] = out->y[r] == c;
            rc = fit_model(out, yb, n, 2, p, probability, err, errlen);
        }
        free(yb);
    } else {
        rc = fit_model(out, out->y, n, d->nlabels, p, probability, err, errlen);
    }
    if (rc < 0)
        train_fit_free(out);
    return rc;
}

int train_predict(const struct train_fit *fit, const struct feat_settings *fs,
                  struct feat_scratch *s, struct svm_node **buf, size_t *cap,
                  const char *norm, size_t len, double *prob)
{
    struct feat_vec v = feat_vectorize(fs, fit->vocab, s, norm, len);
    if (v.n + 1 > *cap) {
        *cap = v.n + 64;
        *buf = xrealloc(*buf, *cap * sizeof **buf);
    }
    feat_vec_nodes(&v, *buf);
    if (fit->nmodels == 1)
        return (int)(prob ? svm_predict_probability(fit->model[0], *buf, prob) : svm_predict(fit->model[0], *buf));
    /* the label with the largest decision value, as bundles predict */
    double dec[BUNDLE_MAX_LABELS];
    int best = 0;
    for (int c = 0; c < fit->nmodels; c++) {
        dec[c] = score_ovr_decision(fit->model[c], *buf);
        if (dec[c] > dec[best])
            best = c;
    }
    if (prob)
        score_ovr_probabilities(fit->nmodels, dec, score_ovr_scale(fit->model, fit->nmodels), prob);
    return best;
}

/* ---- cross-validation ---- */

struct job {
    double C, gamma;
    int fold;
};

struct pool {
    const struct dataset *d;
    const struct train_params *p;
    int folds;
    const int *fold_of;             /* per row */
    const struct job *jobs;
    int njobs, next, done;
    struct metrics *result;         /* per job */
    train_progress_fn progress;
    void *ctx;
    pthread_mutex_t lock;
    char err[256];
    int failed;
};

static void run_job(struct pool *pl, const struct job *jb, struct metrics *m)
{
    const struct dataset *d = pl->d;
    size_t *tr = xmalloc(d->n * sizeof *tr), *te = xmalloc(d->n * sizeof *te), ntr = 0, nte = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (pl->fold_of[i] == jb->fold)
            te[nte++] = i;
        else
            tr[ntr++] = i;
    }
    struct train_params p = *pl->p;
    p.C = jb->C;
    p.gamma = jb->gamma;
    struct train_fit fit;
    char err[256];
    metrics_init(m, d->nlabels);
    if (train_fit(d, tr, ntr, &p, 0, &fit, err, sizeof err) < 0) {
        pthread_mutex_lock(&pl->lock);
        pl->failed = 1;
        snprintf(pl->err, sizeof pl->err, "%s", err);
        pthread_mutex_unlock(&pl->lock);
    } else {
        struct feat_scratch *s = feat_scratch_new();
        struct svm_node *x = NULL;
        size_t xcap = 0;
        for (size_t r = 0; r < nte; r++) {
            size_t i = te[r];
            metrics_add(m, d->label[i], train_predict(&fit, &p.fs, s, &x, &xcap, d->norm[i], d->norm_len[i], NULL));
        }
        free(x);
        feat_scratch_free(&s);
        train_fit_free(&fit);
    }
    free(tr);
    free(te);
}

static void *worker(void *arg)
{
    struct pool *pl = arg;
    for (;;) {
        pthread_mutex_lock(&pl->lock);
        int j = pl->failed ? pl->njobs : pl->next++;
        pthread_mutex_unlock(&pl->lock);
        if (j >= pl->njobs)
            return NULL;
        run_job(pl, &pl->jobs[j], &pl->result[j]);
        pthread_mutex_lock(&pl->lock);
        pl->done++;
        if (pl->progress)
            pl->progress(pl->ctx, pl->done, pl->njobs);
        pthread_mutex_unlock(&pl->lock);
    }
}

/* xorshift64*: a small, seedable generator so folds do not depend on the
 * C library's rand(). */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Deals each class's rows, shuffled, round-robin into folds. */
static int *stratified_folds(const struct dataset *d, int folds, unsigned seed)
{
    int *fold_of = xmalloc(d->n * sizeof *fold_of);
    size_t *rows = xmalloc(d->n * sizeof *rows);
    uint64_t st = 0x9E3779B97F4A7C15ULL ^ seed;
    int offset = 0;
    for (int c = 0; c < d->nlabels; c++) {
        size_t n = 0;
        for (size_t i = 0; i < d->n; i++)
            if (d->label[i] == c)
                rows[n++] = i;
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)(next_rand(&st) % i);
            size_t t = rows[i - 1]; rows[i - 1] = rows[j]; rows[j] = t;
        }
        for (size_t i = 0; i < n; i++)
            fold_of[rows[i]] = (int)((i + (size_t)offset) % (size_t)folds);
        offset += (int)(n % (size_t)folds);
    }
    free(rows);
    return fold_of;
}

static int run_pool(const struct dataset *d, const struct train_params *p, int folds,
                    const struct job *jobs, int njobs, struct metrics *result,
                    train_progress_fn progress, void *ctx, char *err, size_t errlen)
{
    svm_set_print_string_function(quiet);
    int *fold_of = stratified_folds(d, folds, p->seed);
    struct pool pl = { .d = d, .p = p, .folds = folds, .fold_of = fold_of, .jobs = jobs,
                       .njobs = njobs, .result = result, .progress = progress, .ctx = ctx };
    pthread_mutex_init(&pl.lock, NULL);
    int nt = p->threads < 1 ? 1 : p->threads > 64 ? 64 : p->threads;
    pthread_t th[64];
    for (int t = 0; t < nt; t++)
        pthread_create(&th[t], NULL, worker, &pl);
    for (int t = 0; t < nt; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&pl.lock);
    free(fold_of);
    if (pl.failed) {
        snprintf(err, errlen, "%s", pl.err);
        return -1;
    }
    return 0;
}

int train_cv(const struct dataset *d, const struct train_params *p, int folds,
             struct metrics *out, train_progress_fn progress, void *ctx,
             char *err, size_t errlen)
{
    struct train_params copy = *p;
    return train_grid(d, &copy, folds, &p->C, 1, &p->gamma, p->kernel == LINEAR ? 0 : 1,
                      out, progress, ctx, err, errlen);
}

int train_grid(const struct dataset *d, struct train_params *p, int folds,
               const double *Cs, int nC, const double *gammas, int ngammas,
               struct metrics *best, train_progress_fn progress, void *ctx,
               char *err, size_t errlen)
{
    if (folds < 2 || (size_t)folds > d->n) {
        snprintf(err, errlen, "folds must be between 2 and the number of rows (%zu)", d->n);
        return -1;
    }
    int ng = ngammas > 0 ? ngammas : 1, njobs = nC * ng * folds;
    struct job *jobs = xmalloc((size_t)njobs * sizeof *jobs);
    struct metrics *res = xmalloc((size_t)njobs * sizeof *res);
    int j = 0;
    for (int c = 0; c < nC; c++)
        for (int g = 0; g < ng; g++)
            for (int f = 0; f < folds; f++)
                jobs[j++] = (struct job){ Cs[c], ngammas > 0 ? gammas[g] : p->gamma, f };
    int rc = run_pool(d, p, folds, jobs, njobs, res, progress, ctx, err, errlen);
    if (rc == 0) {
        double best_f1 = -1;
        for (int c = 0; c < nC * ng; c++) {
            struct metrics m;
            metrics_init(&m, d->nlabels);
            for (int f = 0; f < folds; f++)
                metrics_merge(&m, &res[c * folds + f]);
            double f1 = metrics_macro_f1(&m);
            if (f1 > best_f1 + 1e-12) {
                best_f1 = f1;
                *best = m;
                p->C = jobs[c * folds].C;
                p->gamma = jobs[c * folds].gamma;
            }
        }
    }
    free(jobs);
    free(res);
    return rc;
}
