/*
 * bundle: loading, checking and writing model bundles. A linear model's
 * decision functions (one per pair of labels, or one per label) are
 * collapsed here, once, into one row of weights per feature, stored in the
 * vocabulary beside the feature's lookup entry (so scoring reads the row
 * with the lookup's cache lines).
 */
#include "bundle_internal.h"
#include "feat.h"
#include "score.h"
#include "xalloc.h"
#include "yamljson.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *join(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, file);
    return p;
}

void bundle_free(struct bundle **bp)
{
    struct bundle *b = bp ? *bp : NULL;
    if (!b)
        return;
    free(b->dir);
    free(b->name);
    for (int i = 0; i < b->nlabels; i++)
        free(b->labels[i]);
    vocab_free(&b->vocab);
    for (int i = 0; i < b->nmodels; i++)
        svm_free_and_destroy_model(&b->model[i]);
    cJSON_Delete(b->manifest);
    free(b);
    *bp = NULL;
}

/* Reads manifest.yaml into b; *nfeatures is its model.vocabulary. */
static int read_manifest(struct bundle *b, size_t *nfeatures, char *err, size_t errlen)
{
    char *path = join(b->dir, "manifest.yaml");
    char sub[256];
    b->manifest = yaml_load_json(path, err, errlen);
    if (!b->manifest)
        goto fail;
    const cJSON *m = b->manifest, *v;
    if (!cJSON_IsObject(m)) {
        snprintf(err, errlen, "%s: expected a mapping", path);
        goto fail;
    }
    v = cJSON_GetObjectItemCaseSensitive(m, "format");
    if (!cJSON_IsNumber(v) || v->valuedouble != BUNDLE_FORMAT) {
        snprintf(err, errlen, "%s: format must be %d (this build reads format %d only)", path, BUNDLE_FORMAT, BUNDLE_FORMAT);
        goto fail;
    }
    v = cJSON_GetObjectItemCaseSensitive(m, "name");
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        snprintf(err, errlen, "%s: missing name", path);
        goto fail;
    }
    b->name = xstrdup(v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(m, "labels");
    int n = cJSON_GetArraySize(v);
    if (!cJSON_IsArray(v) || n < 2 || n > BUNDLE_MAX_LABELS) {
        snprintf(err, errlen, "%s: labels must list 2 to %d labels", path, BUNDLE_MAX_LABELS);
        goto fail;
    }
    const cJSON *l;
    cJSON_ArrayForEach(l, v) {
        if (!cJSON_IsString(l) || !l->valuestring[0]) {
            snprintf(err, errlen, "%s: labels must be non-empty strings", path);
            goto fail;
        }
        for (int i = 0; i < b->nlabels; i++)
            if (strcmp(b->labels[i], l->valuestring) == 0) {
                snprintf(err, errlen, "%s: label '%s' appears twice", path, l->valuestring);
                goto fail;
            }
        b->labels[b->nlabels++] = xstrdup(l->valuestring);
    }
    if (feat_settings_from_json(cJSON_GetObjectItemCaseSensitive(m, "features"), &b->fs, sub, sizeof sub) < 0) {
        snprintf(err, errlen, "%s: %s", path, sub);
        goto fail;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(m, "model");
    /* bundles from before one-vs-rest say nothing of their scheme */
    v = cJSON_GetObjectItemCaseSensitive(model, "scheme");
    if (v) {
        const char *scheme = cJSON_GetStringValue(v);
        if (scheme && strcmp(scheme, "one-vs-rest") == 0) {
            b->one_vs_rest = 1;
        } else if (!scheme || strcmp(scheme, "one-vs-one") != 0) {
            snprintf(err, errlen, "%s: model.scheme must be one-vs-one or one-vs-rest", path);
            goto fail;
        }
    }
    /* the one check that sees a vocab.tsv cut at a line end */
    v = cJSON_GetObjectItemCaseSensitive(model, "vocabulary");
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1 && v->valuedouble <= 1e12) || v->valuedouble != floor(v->valuedouble)) {
        snprintf(err, errlen, "%s: model.vocabulary must give the number of features", path);
        goto fail;
    }
    *nfeatures = (size_t)v->valuedouble;
    free(path);
    return 0;
fail:
    free(path);
    return -1;
}

static int read_vocab(struct bundle *b, size_t nfeatures, char *err, size_t errlen)
{
    char *path = join(b->dir, "vocab.tsv");
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    b->vocab = vocab_read(fp, path, err, errlen);
    fclose(fp);
    /* The mnb setting needs one class ratio per label on every feature, and
     * ratios without it would be ignored: either way the bundle is not what
     * its manifest says. */
    int want = b->fs.mnb > 0 ? b->nlabels : 0;
    if (b->vocab && vocab_classes(b->vocab) != want) {
        snprintf(err, errlen, "%s: has %d class ratios per feature, the manifest's features need %d",
                 path, vocab_classes(b->vocab), want);
        vocab_free(&b->vocab);
    } else if (b->vocab && vocab_size(b->vocab) != nfeatures) {
        /* a file cut at a line end reads cleanly: only the count shows it */
        snprintf(err, errlen, "%s: has %zu features, the manifest says %zu (truncated?)",
                 path, vocab_size(b->vocab), nfeatures);
        vocab_free(&b->vocab);
    }
    free(path);
    return b->vocab ? 0 : -1;
}

/* Checks model file i (path) against the manifest: a C-SVC with
 * probability estimates over the manifest's labels (one-vs-one) or over
 * labels 0 and 1 (one-vs-rest), with the kernel of the first file, using
 * only the vocabulary's features. */
static int check_model(struct bundle *b, int i, const char *path, char *err, size_t errlen)
{
    const struct svm_model *m = b->model[i];
    int want = b->one_vs_rest ? 2 : b->nlabels;
    if (m->param.svm_type != C_SVC) {
        snprintf(err, errlen, "%s: only C-SVC models are supported", path);
        return -1;
    }
    if (!svm_check_probability_model(m)) {
        snprintf(err, errlen, "%s: model has no probability estimates (train with -b 1)", path);
        return -1;
    }
    if (m->param.kernel_type != b->model[0]->param.kernel_type) {
        snprintf(err, errlen, "%s: kernel differs from the first model's", path);
        return -1;
    }
    if (m->nr_class != want) {
        if (b->one_vs_rest)
            snprintf(err, errlen, "%s: model has %d classes, a one-vs-rest model has 2", path, m->nr_class);
        else
            snprintf(err, errlen, "%s: model has %d classes, manifest lists %d labels", path, m->nr_class, want);
        return -1;
    }
    int seen[BUNDLE_MAX_LABELS] = { 0 };
    for (int k = 0; k < m->nr_class; k++) {
        int lab = m->label[k];
        if (lab < 0 || lab >= want || seen[lab]++) {
            snprintf(err, errlen, "%s: model label %d does not match the manifest's labels", path, lab);
            return -1;
        }
        if (!b->one_vs_rest) {
            b->label_of_svm[k] = lab;
            b->svm_of_label[lab] = k;
        }
    }
    if (b->one_vs_rest)  /* model i is label i's */
        b->label_of_svm[i] = b->svm_of_label[i] = i;
    long nfeat = (long)vocab_size(b->vocab) + vocab_classes(b->vocab);
    for (int s = 0; s < m->l; s++)
        for (const struct svm_node *x = m->SV[s]; x->index != -1; x++)
            if (x->index < 1 || x->index > nfeat) {
                snprintf(err, errlen, "%s: support vector %d uses feature %d, vocabulary has %ld", path, s, x->index, nfeat);
                return -1;
            }
    return 0;
}

/* Adds sign * coef * sv for support vectors first..first+n-1 of m to
 * decision d of every feature's row. */
static void add_support_vectors(struct bundle *b, const struct svm_model *m, const double *coef,
                                int first, int n, double sign, int d)
{
    for (int s = first; s < first + n; s++)
        for (const struct svm_node *x = m->SV[s]; x->index != -1; x++)
            vocab_row(b->vocab, x->index - 1)[d] += sign * coef[s] * x->value;
}

/* One-vs-one: w_p = sum of coef * sv over the support vectors of both
 * classes of pair p, in libsvm's pair order (see svm_predict_values for
 * the layout of sv_coef that this mirrors). One-vs-rest: w_i is model i's
 * single weight vector, negated when libsvm put label 0 first. */
static void collapse_linear(struct bundle *b)
{
    vocab_set_row_width(b->vocab, b->ndecisions);
    if (b->one_vs_rest) {
        for (int i = 0; i < b->nmodels; i++) {
            const struct svm_model *m = b->model[i];
            add_support_vectors(b, m, m->sv_coef[0], 0, m->l, ovr_sign(m), i);
        }
        return;
    }
    const struct svm_model *m = b->model[0];
    int k = m->nr_class;
    int start[BUNDLE_MAX_LABELS];
    start[0] = 0;
    for (int i = 1; i < k; i++)
        start[i] = start[i - 1] + m->nSV[i - 1];
    int p = 0;
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++, p++) {
            add_support_vectors(b, m, m->sv_coef[j - 1], start[i], m->nSV[i], 1, p);
            add_support_vectors(b, m, m->sv_coef[i], start[j], m->nSV[j], 1, p);
        }
}

/* The decision functions' constant terms, and the one-vs-rest slope of
 * the scores (score_ovr_scale). */
static void set_decisions(struct bundle *b)
{
    b->ndecisions = b->one_vs_rest ? b->nlabels : b->nlabels * (b->nlabels - 1) / 2;
    if (!b->one_vs_rest) {
        for (int p = 0; p < b->ndecisions; p++)
            b->bias[p] = -b->model[0]->rho[p];
        return;
    }
    for (int i = 0; i < b->nlabels; i++)
        b->bias[i] = -ovr_sign(b->model[i]) * b->model[i]->rho[0];
    b->ovr_scale = score_ovr_scale(b->model, b->nlabels);
}

/* The file of model i: model.svm, or model.<i>.svm for one-vs-rest. */
static char *model_path(const char *dir, int one_vs_rest, int i)
{
    char name[32];
    if (one_vs_rest)
        snprintf(name, sizeof name, "model.%d.svm", i);
    else
        snprintf(name, sizeof name, "model.svm");
    return join(dir, name);
}

static int read_models(struct bundle *b, char *err, size_t errlen)
{
    int n = b->one_vs_rest ? b->nlabels : 1;
    for (int i = 0; i < n; i++) {
        char *path = model_path(b->dir, b->one_vs_rest, i);
        int rc = -1;
        if (access(path, R_OK) < 0)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        else if (!(b->model[i] = svm_load_model(path)))
            snprintf(err, errlen, "%s: not a valid libsvm model file", path);
        else {
            b->nmodels++;
            rc = check_model(b, i, path, err, errlen);
        }
        free(path);
        if (rc < 0)
            return -1;
    }
    return 0;
}

struct bundle *bundle_load(const char *dir, char *err, size_t errlen)
{
    struct bundle *b = xcalloc(1, sizeof *b);
    b->dir = xstrdup(dir);
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a bundle directory: %s", dir, errno ? strerror(errno) : "not a directory");
        goto fail;
    }
    size_t nfeatures;
    if (read_manifest(b, &nfeatures, err, errlen) < 0 || read_vocab(b, nfeatures, err, errlen) < 0 ||
        read_models(b, err, errlen) < 0)
        goto fail;
    set_decisions(b);
    b->linear = b->model[0]->param.kernel_type == LINEAR;
    if (b->linear)
        collapse_linear(b);
    return b;
fail:
    bundle_free(&b);
    return NULL;
}

const char *bundle_name(const struct bundle *b) { return b->name; }
const char *bundle_dir(const struct bundle *b) { return b->dir; }
int bundle_label_count(const struct bundle *b) { return b->nlabels; }
const char *bundle_label(const struct bundle *b, int i) { return b->labels[i]; }
int bundle_is_linear(const struct bundle *b) { return b->linear; }
int bundle_decision_count(const struct bundle *b) { return b->ndecisions; }

cJSON *bundle_describe(const struct bundle *b)
{
    cJSON *j = cJSON_Duplicate(b->manifest, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "features");
    cJSON_AddItemToObject(j, "features", feat_settings_to_json(&b->fs));
    cJSON_AddNumberToObject(j, "vocabulary", (double)vocab_size(b->vocab));
    int nsv = 0;
    for (int i = 0; i < b->nmodels; i++)
        nsv += b->model[i]->l;
    cJSON_AddStringToObject(j, "scheme", b->one_vs_rest ? "one-vs-rest" : "one-vs-one");
    cJSON_AddNumberToObject(j, "support_vectors", nsv);
    cJSON_AddBoolToObject(j, "explainable", b->linear);
    return j;
}

static const char *kernel_name(int k)
{
    switch (k) {
    case LINEAR: return "linear";
    case POLY: return "poly";
    case RBF: return "rbf";
    case SIGMOID: return "sigmoid";
    default: return "precomputed";
    }
}

static int sync_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fsync(fd) < 0) {
        snprintf(err, errlen, "%s: cannot sync: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Removes the files of a flat directory, then the directory. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p = join(dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int write_files(const char *tmp, const cJSON *manifest, const struct feat_settings *fs,
                       const struct vocab *v, const struct svm_model *const *models, int nmodels,
                       char *err, size_t errlen)
{
    char *mpath = join(tmp, "manifest.yaml"), *vpath = join(tmp, "vocab.tsv");
    char *spath[BUNDLE_MAX_LABELS] = { NULL };
    int rc = -1, ovr = nmodels > 1, nsv = 0;
    for (int i = 0; i < nmodels; i++) {
        spath[i] = model_path(tmp, ovr, i);
        nsv += models[i]->l;
    }
    cJSON *full = cJSON_CreateObject();
    cJSON_AddNumberToObject(full, "format", BUNDLE_FORMAT);
    const cJSON *item;
    cJSON_ArrayForEach(item, manifest)
        cJSON_AddItemToObject(full, item->string, cJSON_Duplicate(item, 1));
    cJSON_AddItemToObject(full, "features", feat_settings_to_json(fs));
    const struct svm_parameter *sp = &models[0]->param;
    cJSON *mj = cJSON_AddObjectToObject(full, "model");
    cJSON_AddStringToObject(mj, "scheme", ovr ? "one-vs-rest" : "one-vs-one");
    cJSON_AddStringToObject(mj, "kernel", kernel_name(sp->kernel_type));
    cJSON_AddNumberToObject(mj, "C", sp->C);
    if (sp->kernel_type != LINEAR)
        cJSON_AddNumberToObject(mj, "gamma", sp->gamma);
    cJSON_AddNumberToObject(mj, "support_vectors", nsv);
    cJSON_AddNumberToObject(mj, "vocabulary", (double)vocab_size(v));

    FILE *fp = fopen(mpath, "w");
    if (!fp)
        goto io;
    fprintf(fp, "# stanced model bundle manifest; see docs/model-format.md\n");
    yaml_write_json(fp, full);
    if (fclose(fp) != 0)
        goto io;
    fp = fopen(vpath, "w");
    if (!fp)
        goto io;
    if (vocab_write(v, fp, err, errlen) < 0) {
        fclose(fp);
        goto out;
    }
    if (fclose(fp) != 0)
        goto io;
    for (int i = 0; i < nmodels; i++)
        if (svm_save_model(spath[i], models[i]) != 0)
            goto io;
    if (sync_file(mpath, err, errlen) < 0 || sync_file(vpath, err, errlen) < 0)
        goto out;
    for (int i = 0; i < nmodels; i++)
        if (sync_file(spath[i], err, errlen) < 0)
            goto out;
    rc = 0;
    goto out;
io:
    snprintf(err, errlen, "%s: cannot write bundle: %s", tmp, strerror(errno));
out:
    cJSON_Delete(full);
    free(mpath);
    free(vpath);
    for (int i = 0; i < nmodels; i++)
        free(spath[i]);
    return rc;
}

int bundle_write(const char *dir, const cJSON *manifest, const struct feat_settings *fs,
                 const struct vocab *v, const struct svm_model *const *models, int nmodels,
                 char *err, size_t errlen)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    char *target = xstrndup(dir, n);
    char *tmp = xmalloc(n + 16);
    snprintf(tmp, n + 16, "%s.tmp-XXXXXX", target);
    int rc = -1;
    if (nmodels < 1 || nmodels > BUNDLE_MAX_LABELS) {
        snprintf(err, errlen, "%s: a bundle holds 1 to %d models, not %d", target, BUNDLE_MAX_LABELS, nmodels);
        goto out;
    }
    if (!mkdtemp(tmp)) {
        snprintf(err, errlen, "%s: cannot create temporary directory: %s", tmp, strerror(errno));
        goto out;
    }
    if (write_files(tmp, manifest, fs, v, models, nmodels, err, errlen) < 0) {
        remove_tree(tmp);
        goto out;
    }
    chmod(tmp, 0755);
    struct stat st;
    if (stat(target, &st) == 0) {
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_EXCHANGE) < 0) {
            snprintf(err, errlen, "%s: cannot replace bundle: %s", target, strerror(errno));
            remove_tree(tmp);
            goto out;
        }
        remove_tree(tmp);  /* now holds the old bundle */
    } else if (rename(tmp, target) < 0) {
        snprintf(err, errlen, "%s: cannot move bundle into place: %s", target, strerror(errno));
        remove_tree(tmp);
        goto out;
    }
    rc = 0;
out:
    free(target);
    free(tmp);
    return rc;
}
