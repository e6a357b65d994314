/*
 * stance-train: the command-line shell over lib/train, lib/bundle and
 * lib/score. Subcommands: train (writes a bundle), cv, eval, predict and
 * speed. All printing and exit codes live here; the library only returns.
 */
#include "bundle.h"
#include "dataset.h"
#include "metrics.h"
#include "score.h"
#include "train.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <svm.h>
#include <time.h>
#include <unistd.h>

enum exit_code { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const char usage[] =
    "usage: stance-train COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  train   --data FILE... --out DIR --name NAME   train and write a model bundle\n"
    "  cv      --data FILE... --folds K               stratified K-fold cross-validation\n"
    "  eval    --model DIR --data FILE...             figures of a bundle on labelled data\n"
    "  predict --model DIR [--input FILE]             label each line of FILE (default stdin)\n"
    "  speed   --model DIR --input FILE               in-process scoring speed, fast path vs libsvm\n"
    "\n"
    "data: TSV lines 'label<TAB>sentence' or JSON Lines {\"label\":..,\"text\":..}\n"
    "\n"
    "options:\n"
    "  --data FILE        labelled data (repeatable)\n"
    "  --dev FILE         held-out labelled data, reported in the manifest (train)\n"
    "  --out DIR          bundle directory to write (train)\n"
    "  --name NAME        model name (train)\n"
    "  --labels a,b,c     label order (default: sorted)\n"
    "  --folds K          cross-validation folds (default 5; train: 0 skips CV)\n"
    "  --grid             choose C (and gamma for rbf) by cross-validated macro-F1\n"
    "  --C X              SVM cost (default 1)\n"
    "  --kernel K         linear (default) or rbf\n"
    "  --gamma X          RBF gamma (default 1)\n"
    "  --no-balance       do not weight classes by inverse frequency\n"
    "  --scheme S         ovo: one libsvm model over all labels, pair by pair\n"
    "                     (default); ovr: one binary model per label against the rest\n"
    "  --seed N           fold assignment and probability fitting seed (default 1)\n"
    "  --threads N        threads for cross-validation, and predict's scoring\n"
    "                     (1, or 2 when N > 1; default: online cores)\n"
    "  --json             print figures as one JSON object\n"
    "  --libsvm           score through libsvm (svm_predict_probability; one-vs-rest:\n"
    "                     svm_predict_values) instead of the fast path\n"
    "features:\n"
    "  --[no-]words --[no-]bigrams --[no-]negation --[no-]idf --[no-]nb --[no-]l2\n"
    "  --[no-]punct       every punctuation mark is a token (default), or only ! ? \"\n"
    "  --char MIN-MAX (0-0 off)   --tf binary|raw|log   --min-df N\n"
    "  --mnb S            append each class's NB log-odds, tanh(odds / S), as a\n"
    "                     feature (0: off, the default; 10 for SUBJ, CR, MPQA)\n"
    "\n"
    "exit codes: 0 ok, 1 failure (bad data, unreadable bundle), 2 usage\n";

struct opts {
    const char *cmd, *out, *name, *model, *input, *dev, *labels;
    char **data;
    size_t ndata;
    int folds, grid, json, libsvm, folds_set;
    struct train_params p;
};

static void die_usage(const char *msg)
{
    fprintf(stderr, "stance-train: %s\n(try stance-train --help)\n", msg);
    exit(EXIT_USAGE);
}

static double parse_num(const char *s, const char *what)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end) {
        fprintf(stderr, "stance-train: %s: not a number: '%s'\n", what, s);
        exit(EXIT_USAGE);
    }
    return v;
}

/* A whole number in [lo, hi]; converting an out-of-range double to an
 * integer type is undefined, so the range is checked first. */
static long parse_whole(const char *s, const char *what, long lo, long hi)
{
    double v = parse_num(s, what);
    if (!(v >= (double)lo && v <= (double)hi) || v != (double)(long)v) {
        fprintf(stderr, "stance-train: %s: expected a whole number from %ld to %ld: '%s'\n", what, lo, hi, s);
        exit(EXIT_USAGE);
    }
    return (long)v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    enum { O_DATA = 256, O_DEV, O_OUT, O_NAME, O_LABELS, O_FOLDS, O_GRID, O_C, O_KERNEL, O_GAMMA,
           O_NOBAL, O_SEED, O_THREADS, O_JSON, O_MODEL, O_INPUT, O_LIBSVM, O_CHAR, O_TF, O_MINDF, O_MNB,
           O_SCHEME };
    static int flag_val;
    static const struct option lo[] = {
        { "data", 1, 0, O_DATA }, { "dev", 1, 0, O_DEV }, { "out", 1, 0, O_OUT },
        { "name", 1, 0, O_NAME }, { "labels", 1, 0, O_LABELS }, { "folds", 1, 0, O_FOLDS },
        { "grid", 0, 0, O_GRID }, { "C", 1, 0, O_C }, { "kernel", 1, 0, O_KERNEL },
        { "gamma", 1, 0, O_GAMMA }, { "no-balance", 0, 0, O_NOBAL }, { "seed", 1, 0, O_SEED },
        { "threads", 1, 0, O_THREADS }, { "json", 0, 0, O_JSON }, { "model", 1, 0, O_MODEL },
        { "input", 1, 0, O_INPUT }, { "libsvm", 0, 0, O_LIBSVM }, { "char", 1, 0, O_CHAR },
        { "tf", 1, 0, O_TF }, { "min-df", 1, 0, O_MINDF }, { "mnb", 1, 0, O_MNB },
        { "scheme", 1, 0, O_SCHEME }, { "help", 0, 0, 'h' },
        { "words", 0, &flag_val, 1 }, { "no-words", 0, &flag_val, 2 },
        { "bigrams", 0, &flag_val, 3 }, { "no-bigrams", 0, &flag_val, 4 },
        { "negation", 0, &flag_val, 5 }, { "no-negation", 0, &flag_val, 6 },
        { "idf", 0, &flag_val, 7 }, { "no-idf", 0, &flag_val, 8 },
        { "nb", 0, &flag_val, 9 }, { "no-nb", 0, &flag_val, 10 },
        { "l2", 0, &flag_val, 11 }, { "no-l2", 0, &flag_val, 12 },
        { "punct", 0, &flag_val, 13 }, { "no-punct", 0, &flag_val, 14 },
        { 0, 0, 0, 0 },
    };
    train_params_default(&o->p);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->p.threads = ncpu > 0 ? (int)ncpu : 1;
    o->folds = 5;
    if (argc < 2)
        die_usage("missing command");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        exit(EXIT_OK);
    }
    o->cmd = argv[1];
    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        struct feat_settings *fs = &o->p.fs;
        switch (c) {
        case 0: {
            int *flags[] = { &fs->words, &fs->bigrams, &fs->negation, &fs->idf, &fs->nb, &fs->l2, &fs->punct };
            *flags[(flag_val - 1) / 2] = flag_val % 2;
            break;
        }
        case O_DATA:
            o->data = xrealloc(o->data, (o->ndata + 1) * sizeof *o->data);
            o->data[o->ndata++] = optarg;
            break;
        case O_DEV: o->dev = optarg; break;
        case O_OUT: o->out = optarg; break;
        case O_NAME: o->name = optarg; break;
        case O_LABELS: o->labels = optarg; break;
        case O_FOLDS: o->folds = (int)parse_whole(optarg, "--folds", 0, 1000000); o->folds_set = 1; break;
        case O_GRID: o->grid = 1; break;
        case O_C: o->p.C = parse_num(optarg, "--C"); break;
        case O_GAMMA: o->p.gamma = parse_num(optarg, "--gamma"); break;
        case O_KERNEL:
            if (strcmp(optarg, "linear") == 0) o->p.kernel = LINEAR;
            else if (strcmp(optarg, "rbf") == 0) o->p.kernel = RBF;
            else die_usage("--kernel must be linear or rbf");
            break;
        case O_NOBAL: o->p.balanced = 0; break;
        case O_SCHEME:
            if (strcmp(optarg, "ovo") == 0) o->p.one_vs_rest = 0;
            else if (strcmp(optarg, "ovr") == 0) o->p.one_vs_rest = 1;
            else die_usage("--scheme must be ovo or ovr");
            break;
        case O_SEED: o->p.seed = (unsigned)parse_whole(optarg, "--seed", 0, UINT_MAX); break;
        case O_THREADS: o->p.threads = (int)parse_whole(optarg, "--threads", 1, 1024); break;
        case O_JSON: o->json = 1; break;
        case O_MODEL: o->model = optarg; break;
        case O_INPUT: o->input = optarg; break;
        case O_LIBSVM: o->libsvm = 1; break;
        case O_CHAR:
            if (sscanf(optarg, "%d-%d", &fs->char_min, &fs->char_max) != 2 || fs->char_min < 0 ||
                fs->char_max > 8 || fs->char_min > fs->char_max || (fs->char_min == 0) != (fs->char_max == 0))
                die_usage("--char takes MIN-MAX with 1 <= MIN <= MAX <= 8, or 0-0");
            break;
        case O_TF: {
            int tf = feat_tf_parse(optarg);
            if (tf < 0)
                die_usage("--tf must be binary, raw or log");
            fs->tf = (enum feat_tf)tf;
            break;
        }
        case O_MINDF: fs->min_df = (int)parse_whole(optarg, "--min-df", 1, 1000000); break;
        case O_MNB: fs->mnb = parse_num(optarg, "--mnb"); break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: die_usage("unknown option");
        }
    }
    if (optind < argc)
        die_usage("unexpected argument");
    if (o->p.C <= 0 || o->p.gamma <= 0)  /* the whole-number options are checked as parsed */
        die_usage("--C and --gamma must be positive");
    if (!(o->p.fs.mnb >= 0 && o->p.fs.mnb <= 1e6))
        die_usage("--mnb must be 0 (off) or a positive scale");
}

static void progress_bar(void *ctx, int done, int total)
{
    (void)ctx;
    int width = 40, fill = total ? done * width / total : width;
    fprintf(stderr, "\r[%.*s%*s] %d/%d fits", fill, "########################################", width - fill, "", done, total);
    if (done == total)
        fputc('\n', stderr);
}

static struct dataset *load_data(char **files, size_t n, char *const *labels, int nlabels)
{
    char err[512];
    struct dataset *d = dataset_load(files, n, labels, nlabels, err, sizeof err);
    if (!d) {
        fprintf(stderr, "stance-train: %s\n", err);
        exit(EXIT_FAIL);
    }
    return d;
}

/* Splits "a,b,c" in place into at most max names. */
static int split_labels(char *s, char **names, int max)
{
    int n = 0;
    for (char *t = strtok(s, ","); t && n < max; t = strtok(NULL, ","))
        names[n++] = t;
    return n;
}

static void print_metrics(const struct metrics *m, char *const *labels, const char *title, int json)
{
    if (json) {
        cJSON *j = metrics_to_json(m, labels);
        char *s = cJSON_PrintUnformatted(j);
        puts(s);
        cJSON_free(s);
        cJSON_Delete(j);
        return;
    }
    char *r = metrics_report(m, labels);
    printf("%s\n%s", title, r);
    free(r);
}

/* Below 0.3, balanced unit-length features leave libsvm underfitting badly
 * (training/EXPERIMENTS.md), so the grid starts there. */
static const double grid_C[] = { 0.3, 1, 3, 10 };
static const double grid_gamma[] = { 0.1, 0.3, 1, 3 };

/* Cross-validates (with a grid search when asked), leaving the chosen
 * parameters in o->p. */
static int cross_validate(struct opts *o, const struct dataset *d, struct metrics *m)
{
    char err[512];
    train_progress_fn pb = isatty(2) ? progress_bar : NULL;
    int rc;
    if (o->grid)
        rc = train_grid(d, &o->p, o->folds, grid_C, 4, grid_gamma, o->p.kernel == RBF ? 4 : 0,
                        m, pb, NULL, err, sizeof err);
    else
        rc = train_cv(d, &o->p, o->folds, m, pb, NULL, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "stance-train: %s\n", err);
    return rc;
}

static int cmd_cv(struct opts *o)
{
    if (!o->ndata)
        die_usage("cv needs --data");
    char *names[BUNDLE_MAX_LABELS];
    int nl = o->labels ? split_labels((char *)o->labels, names, BUNDLE_MAX_LABELS) : 0;
    struct dataset *d = load_data(o->data, o->ndata, names, nl);
    struct metrics m;
    int rc = cross_validate(o, d, &m);
    if (rc == 0) {
        char title[128];
        snprintf(title, sizeof title, "%d-fold cross-validation, C=%g%s", o->folds, o->p.C, o->grid ? " (grid)" : "");
        print_metrics(&m, d->labels, title, o->json);
    }
    dataset_free(&d);
    return rc ? EXIT_FAIL : EXIT_OK;
}

/* Figures of an in-memory fit on labelled data, predicting as the bundle
 * will (the most probable label). */
static void eval_fit(const struct train_fit *fit, const struct train_params *p,
                     const struct dataset *dev, struct metrics *m)
{
    struct feat_scratch *s = feat_scratch_new();
    struct svm_node *x = NULL;
    size_t cap = 0;
    double prob[BUNDLE_MAX_LABELS];
    metrics_init(m, dev->nlabels);
    for (size_t i = 0; i < dev->n; i++)
        metrics_add(m, dev->label[i], train_predict(fit, &p->fs, s, &x, &cap, dev->norm[i], dev->norm_len[i], prob));
    free(x);
    feat_scratch_free(&s);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static cJSON *figures_json(const struct metrics *m, char *const *labels)
{
    cJSON *j = metrics_to_json(m, labels);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "confusion");
    return j;
}

static int cmd_train(struct opts *o)
{
    if (!o->ndata || !o->out || !o->name)
        die_usage("train needs --data, --out and --name");
    if (!o->folds_set)
        o->folds = 5;
    char *names[BUNDLE_MAX_LABELS];
    int nl = o->labels ? split_labels((char *)o->labels, names, BUNDLE_MAX_LABELS) : 0;
    struct dataset *d = load_data(o->data, o->ndata, names, nl);
    if (d->nlabels < 2) {
        fprintf(stderr, "stance-train: the data has only one label\n");
        dataset_free(&d);
        return EXIT_FAIL;
    }
    cJSON *man = cJSON_CreateObject();
    cJSON_AddStringToObject(man, "name", o->name);
    char when[32];
    time_t now = time(NULL);
    const char *epoch = getenv("SOURCE_DATE_EPOCH");  /* reproducible builds set it */
    if (epoch)
        now = (time_t)strtoll(epoch, NULL, 10);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    cJSON_AddStringToObject(man, "created", when);
    cJSON *labels = cJSON_AddArrayToObject(man, "labels");
    for (int i = 0; i < d->nlabels; i++)
        cJSON_AddItemToArray(labels, cJSON_CreateString(d->labels[i]));
    cJSON *tr = cJSON_AddObjectToObject(man, "training");
    cJSON *files = cJSON_AddArrayToObject(tr, "files");
    for (size_t i = 0; i < o->ndata; i++)
        cJSON_AddItemToArray(files, cJSON_CreateString(base_name(o->data[i])));
    cJSON_AddNumberToObject(tr, "rows", (double)d->n);
    size_t counts[BUNDLE_MAX_LABELS];
    dataset_counts(d, counts);
    cJSON *pl = cJSON_AddObjectToObject(tr, "per_label");
    for (int i = 0; i < d->nlabels; i++)
        cJSON_AddNumberToObject(pl, d->labels[i], (double)counts[i]);
    cJSON_AddStringToObject(tr, "sha256", d->sha256);
    cJSON_AddNumberToObject(tr, "seed", o->p.seed);
    cJSON_AddBoolToObject(tr, "balanced", o->p.balanced);
    cJSON *ev = cJSON_AddObjectToObject(man, "evaluation");

    int rc = EXIT_FAIL;
    struct metrics m;
    if (o->folds > 0) {
        if (cross_validate(o, d, &m) < 0)
            goto out;
        cJSON *cv = figures_json(&m, d->labels);
        cJSON_AddNumberToObject(cv, "folds", o->folds);
        cJSON_AddBoolToObject(cv, "grid_search", o->grid);
        cJSON_AddItemToObject(ev, "cv", cv);
        if (!o->json)
            fprintf(stderr, "cv: accuracy %.4f, macro-F1 %.4f (C=%g)\n", metrics_accuracy(&m), metrics_macro_f1(&m), o->p.C);
    }
    char err[512];
    struct train_fit fit;
    if (train_fit(d, NULL, d->n, &o->p, 1, &fit, err, sizeof err) < 0) {
        fprintf(stderr, "stance-train: %s\n", err);
        goto out;
    }
    if (o->dev) {
        char *devf[] = { (char *)o->dev };
        struct dataset *dev = load_data(devf, 1, d->labels, d->nlabels);
        struct metrics dm;
        eval_fit(&fit, &o->p, dev, &dm);
        cJSON *dj = figures_json(&dm, d->labels);
        cJSON_AddStringToObject(dj, "file", base_name(o->dev));
        cJSON_AddStringToObject(dj, "sha256", dev->sha256);
        cJSON_AddItemToObject(ev, "dev", dj);
        if (!o->json)
            fprintf(stderr, "dev %s: accuracy %.4f, macro-F1 %.4f\n", base_name(o->dev), metrics_accuracy(&dm), metrics_macro_f1(&dm));
        dataset_free(&dev);
    }
    if (bundle_write(o->out, man, &o->p.fs, fit.vocab, (const struct svm_model *const *)fit.model,
                     fit.nmodels, err, sizeof err) < 0) {
        fprintf(stderr, "stance-train: %s\n", err);
        train_fit_free(&fit);
        goto out;
    }
    train_fit_free(&fit);
    if (o->json) {
        char *s = cJSON_PrintUnformatted(man);
        puts(s);
        cJSON_free(s);
    } else {
        fprintf(stderr, "wrote %s (%zu sentences, %d labels)\n", o->out, d->n, d->nlabels);
    }
    rc = EXIT_OK;
out:
    cJSON_Delete(man);
    dataset_free(&d);
    return rc;
}

static struct bundle *load_bundle(const char *dir)
{
    char err[512];
    struct bundle *b = bundle_load(dir, err, sizeof err);
    if (!b) {
        fprintf(stderr, "stance-train: %s\n", err);
        exit(EXIT_FAIL);
    }
    return b;
}

typedef int (*score_fn)(const struct bundle *, struct score_scratch *, const char *, size_t,
                        struct score_result *, char *, size_t);

static int cmd_eval(struct opts *o)
{
    if (!o->model || !o->ndata)
        die_usage("eval needs --model and --data");
    struct bundle *b = load_bundle(o->model);
    char *names[BUNDLE_MAX_LABELS];
    for (int i = 0; i < bundle_label_count(b); i++)
        names[i] = (char *)bundle_label(b, i);
    struct dataset *d = load_data(o->data, o->ndata, names, bundle_label_count(b));
    struct score_scratch *s = score_scratch_new();
    score_fn score = o->libsvm ? score_text_libsvm : score_text;
    struct metrics m;
    metrics_init(&m, d->nlabels);
    char err[256];
    for (size_t i = 0; i < d->n; i++) {
        struct score_result r;
        if (score(b, s, d->text[i], strlen(d->text[i]), &r, err, sizeof err) < 0) {
            /* the loader validates every text, so this is a broken invariant */
            fprintf(stderr, "stance-train: %s: row %zu: %s\n", o->data[0], i + 1, err);
            exit(EXIT_FAIL);
        }
        metrics_add(&m, d->label[i], r.label);
    }
    char title[512];
    snprintf(title, sizeof title, "model %s on %s", bundle_name(b), base_name(o->data[0]));
    print_metrics(&m, d->labels, title, o->json);
    score_scratch_free(&s);
    dataset_free(&d);
    bundle_free(&b);
    return EXIT_OK;
}

static FILE *open_input(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return stdin;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "stance-train: %s: %s\n", path, strerror(errno));
        exit(EXIT_FAIL);
    }
    return fp;
}

/* Appends p as printf's "%.6f" writes it. printf's decimal conversion is
 * most of predict's output cost; p * 1e6 is within 1e-7 of the exact
 * product, so rounding it gives printf's digits unless it lies near a
 * half, where printf itself decides. */
static char *put_prob(char *o, double p)
{
    double v = p * 1e6;
    if (!(p >= 0 && p < 1000) || fabs(v - floor(v) - 0.5) < 1e-6)
        return o + sprintf(o, "%.6f", p);
    unsigned long u = (unsigned long)floor(v + 0.5), ip = u / 1000000, fp = u % 1000000;
    char digits[24];
    int nd = 0;
    do
        digits[nd++] = (char)('0' + ip % 10);
    while ((ip /= 10) > 0);
    while (nd > 0)
        *o++ = digits[--nd];
    *o++ = '.';
    for (int i = 5; i >= 0; i--, fp /= 10)
        o[i] = (char)('0' + fp % 10);
    return o + 6;
}

/* One thread's share of a block of input lines, and the output it makes. */
struct predict_job {
    const struct bundle *b;
    struct score_scratch *s;
    int (*score)(const struct bundle *, struct score_scratch *, const char *, size_t,
                 struct score_result *, char *, size_t);
    const char *base;
    const size_t *start, *len;
    size_t n;
    char *out, *errs;    /* the output lines; the error messages for stderr */
    size_t out_len, out_cap, errs_len, errs_cap;
};

static void *predict_run(void *arg)
{
    struct predict_job *j = arg;
    const struct bundle *b = j->b;
    int k = bundle_label_count(b);
    size_t longest = 0;
    for (int i = 0; i < k; i++)
        if (strlen(bundle_label(b, i)) > longest)
            longest = strlen(bundle_label(b, i));
    size_t line_max = longest + (size_t)k * 48 + 8;
    char err[256];
    j->out_len = j->errs_len = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (j->out_cap - j->out_len < line_max) {
            j->out_cap = (j->out_len + line_max) * 2;
            j->out = xrealloc(j->out, j->out_cap);
        }
        char *o = j->out + j->out_len;
        struct score_result r;
        if (j->score(b, j->s, j->base + j->start[i], j->len[i], &r, err, sizeof err) < 0) {
            size_t el = strlen(err);
            if (j->errs_cap - j->errs_len < el + 16) {
                j->errs_cap = (j->errs_len + el + 16) * 2;
                j->errs = xrealloc(j->errs, j->errs_cap);
            }
            j->errs_len += (size_t)sprintf(j->errs + j->errs_len, "stance-train: %s\n", err);
            memcpy(o, "error\n", 6);
            j->out_len += 6;
            continue;
        }
        const char *lab = bundle_label(b, r.label);
        size_t ll = strlen(lab);
        memcpy(o, lab, ll);
        o += ll;
        for (int c = 0; c < k; c++) {
            *o++ = '\t';
            o = put_prob(o, r.prob[c]);
        }
        *o++ = '\n';
        j->out_len = (size_t)(o - j->out);
    }
    return NULL;
}

/* One output line per input line: label, then each label's probability.
 * The input is read in blocks; with --threads 2 or more, each block's
 * lines are shared between two threads (more give nothing on the small
 * per-line cost) and written back in input order. */
static int cmd_predict(struct opts *o)
{
    if (!o->model)
        die_usage("predict needs --model");
    struct bundle *b = load_bundle(o->model);
    FILE *in = open_input(o->input);
    int fd = fileno(in), nthreads = o->p.threads > 1 ? 2 : 1, rc = EXIT_OK;
    struct predict_job job[2];
    for (int t = 0; t < 2; t++)
        job[t] = (struct predict_job){ .b = b, .s = score_scratch_new(),
                                       .score = o->libsvm ? score_text_libsvm : score_text };
    size_t cap = 1 << 20, have = 0, nl_cap = 0;
    char *buf = xmalloc(cap);
    size_t *start = NULL, *len = NULL;
    int eof = 0;
    while (!eof || have > 0) {
        if (!eof) {
            if (have == cap) {
                cap *= 2;
                buf = xrealloc(buf, cap);
            }
            ssize_t got = read(fd, buf + have, cap - have);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                fprintf(stderr, "stance-train: %s: %s\n", o->input ? o->input : "stdin", strerror(errno));
                rc = EXIT_FAIL;
                break;
            }
            eof = got == 0;
            have += (size_t)got;
        }
        /* Complete lines, and at the end the last one without its newline. */
        size_t n = 0, at = 0;
        for (;;) {
            char *nl = memchr(buf + at, '\n', have - at);
            if (!nl && !(eof && at < have))
                break;
            size_t end = nl ? (size_t)(nl - buf) : have;
            if (n == nl_cap) {
                nl_cap = nl_cap ? nl_cap * 2 : 4096;
                start = xrealloc(start, nl_cap * sizeof *start);
                len = xrealloc(len, nl_cap * sizeof *len);
            }
            start[n] = at;
            len[n++] = end - at;
            at = nl ? end + 1 : have;
        }
        if (n == 0)
            continue;
        size_t half = nthreads > 1 && n >= 256 ? n / 2 : n;
        job[0].base = job[1].base = buf;
        job[0].start = start, job[0].len = len, job[0].n = half;
        job[1].start = start + half, job[1].len = len + half, job[1].n = n - half;
        pthread_t th;
        int spawned = job[1].n > 0 && pthread_create(&th, NULL, predict_run, &job[1]) == 0;
        predict_run(&job[0]);
        if (job[1].n > 0 && !spawned)
            predict_run(&job[1]);
        if (spawned)
            pthread_join(th, NULL);
        for (int t = 0; t < 2; t++) {
            if (t == 1 && job[1].n == 0)
                break;
            if (job[t].errs_len) {  /* errs stays NULL until a line fails */
                fwrite(job[t].errs, 1, job[t].errs_len, stderr);
                rc = EXIT_FAIL;
            }
            fwrite(job[t].out, 1, job[t].out_len, stdout);
        }
        fflush(stdout);
        memmove(buf, buf + at, have - at);
        have -= at;
    }
    free(buf); free(start); free(len);
    for (int t = 0; t < 2; t++) {
        score_scratch_free(&job[t].s);
        free(job[t].out);
        free(job[t].errs);
    }
    if (in != stdin)
        fclose(in);
    bundle_free(&b);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Scores every line of the input with both paths, single-threaded, and
 * reports sentences per second of each and their ratio. */
static int cmd_speed(struct opts *o)
{
    if (!o->model || !o->input)
        die_usage("speed needs --model and --input");
    struct bundle *b = load_bundle(o->model);
    FILE *in = open_input(o->input);
    char **lines = NULL, *line = NULL, err[256];
    size_t n = 0, lcap = 0, cap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, in)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            lines = xrealloc(lines, cap * sizeof *lines);
        }
        lines[n++] = xstrdup(line);
    }
    free(line);
    if (in != stdin)
        fclose(in);
    struct score_scratch *s = score_scratch_new();
    score_fn fns[2] = { score_text, score_text_libsvm };
    double rate[2] = { 0, 0 };
    size_t limit[2] = { n, n < 20000 ? n : 20000 };  /* libsvm is slow: a sample suffices */
    for (int f = 0; f < 2; f++) {
        double t0 = now_s();
        for (size_t i = 0; i < limit[f]; i++) {
            struct score_result r;
            fns[f](b, s, lines[i], strlen(lines[i]), &r, err, sizeof err);
        }
        rate[f] = (double)limit[f] / (now_s() - t0);
    }
    if (o->json)
        printf("{\"model\":\"%s\",\"sentences\":%zu,\"fast_per_s\":%.0f,\"libsvm_per_s\":%.0f,\"ratio\":%.1f}\n",
               bundle_name(b), n, rate[0], rate[1], rate[0] / rate[1]);
    else
        printf("%s: fast path %.0f sentences/s, libsvm %.0f sentences/s, ratio %.1fx (%zu sentences, one core)\n",
               bundle_name(b), rate[0], rate[1], rate[0] / rate[1], n);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    score_scratch_free(&s);
    bundle_free(&b);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    struct opts o = { 0 };
    parse_args(argc, argv, &o);
    int rc;
    if (strcmp(o.cmd, "train") == 0)
        rc = cmd_train(&o);
    else if (strcmp(o.cmd, "cv") == 0)
        rc = cmd_cv(&o);
    else if (strcmp(o.cmd, "eval") == 0)
        rc = cmd_eval(&o);
    else if (strcmp(o.cmd, "predict") == 0)
        rc = cmd_predict(&o);
    else if (strcmp(o.cmd, "speed") == 0)
        rc = cmd_speed(&o);
    else
        die_usage("unknown command");
    free(o.data);
    return rc;
}
