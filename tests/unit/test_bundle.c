/*
 * Unit tests for lib/bundle, lib/train and lib/score together: a bundle
 * trained from the small test corpus is written, loaded and scored; the
 * fast path must agree with libsvm; broken bundles must be refused with a
 * message naming what is wrong.
 */
#include "check.h"
#include "bundle.h"
#include "dataset.h"
#include "score.h"
#include "train.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <svm.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], bdir[300], mdir[300], odir[300];

static void sh(const char *fmt, const char *arg)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, arg, arg);
    CHECK(system(cmd) == 0);
}

/* Loads a copy of the good bundle src after running a shell edit on it,
 * and checks the error mentions want. */
static void refused_from(const char *src, const char *edit, const char *want)
{
    char copy[400], cmd[2048], err[512];
    snprintf(copy, sizeof copy, "%s/broken", dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s && cd %s && %s", copy, src, copy, copy, edit);
    CHECK(system(cmd) == 0);
    err[0] = '\0';
    struct bundle *b = bundle_load(copy, err, sizeof err);
    CHECK(b == NULL);
    if (!strstr(err, want))
        fprintf(stderr, "edit '%s': error '%s' lacks '%s'\n", edit, err, want);
    CHECK(strstr(err, want) != NULL);
    bundle_free(&b);
}

static void refused(const char *edit, const char *want)
{
    refused_from(bdir, edit, want);
}

/* Trains a bundle on d with p into path; returns 0 on success. */
static int write_bundle(const struct dataset *d, const struct train_params *p, const char *path)
{
    char err[512];
    struct train_fit fit;
    if (train_fit(d, NULL, d->n, p, 1, &fit, err, sizeof err) != 0)
        return -1;
    cJSON *man = cJSON_CreateObject();
    cJSON_AddStringToObject(man, "name", "mini");
    cJSON *labels = cJSON_AddArrayToObject(man, "labels");
    for (int i = 0; i < d->nlabels; i++)
        cJSON_AddItemToArray(labels, cJSON_CreateString(d->labels[i]));
    int rc = bundle_write(path, man, &p->fs, fit.vocab, (const struct svm_model *const *)fit.model, fit.nmodels, err, sizeof err);
    train_fit_free(&fit);
    cJSON_Delete(man);
    return rc;
}

/* The fast path against libsvm on every sentence of d: the same labels,
 * probabilities and decision values (ndec of them) within 1e-9. Returns
 * how many sentences the bundle labels as d does. */
static int agrees_with_libsvm(const struct bundle *b, const struct dataset *d, int ndec)
{
    CHECK(bundle_decision_count(b) == ndec);
    char err[512];
    struct score_scratch *s = score_scratch_new();
    int agree = 1, correct = 0;
    double worst = 0;
    for (size_t i = 0; i < d->n; i++) {
        struct score_result fast, ref;
        double dec[6];
        CHECK(score_text_libsvm(b, s, d->text[i], strlen(d->text[i]), &ref, err, sizeof err) == 0);
        memcpy(dec, score_decision_values(s), sizeof dec);
        CHECK(score_text(b, s, d->text[i], strlen(d->text[i]), &fast, err, sizeof err) == 0);
        const double *fdec = score_decision_values(s);
        agree &= fast.label == ref.label;
        double sum = 0;
        for (int k = 0; k < 4; k++) {
            worst = fmax(worst, fabs(fast.prob[k] - ref.prob[k]));
            sum += fast.prob[k];
        }
        for (int k = 0; k < ndec; k++)
            worst = fmax(worst, fabs(fdec[k] - dec[k]));
        CHECK(fabs(sum - 1) < 1e-9);
        correct += fast.label == d->label[i];
    }
    CHECK(agree);
    CHECK(worst < 1e-9);
    score_scratch_free(&s);
    return correct;
}

/* One-vs-rest as docs/model-format.md states it, worked out here from the
 * model files in dir: the label is the one with the largest decision
 * value, and the probabilities are sigmoids of the decision values with
 * one slope, the mean magnitude of the files' Platt slopes, divided by
 * their sum. */
static void follows_ovr_rule(const struct bundle *b, const char *dir, const struct dataset *d)
{
    int k = bundle_label_count(b);
    double slope = 0;
    for (int i = 0; i < k; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/model.%d.svm", dir, i);
        struct svm_model *m = svm_load_model(path);
        CHECK(m != NULL && m->probA != NULL);
        if (!m)
            return;
        slope += fabs(m->probA[0]) / k;
        svm_free_and_destroy_model(&m);
    }
    char err[512];
    struct score_scratch *s = score_scratch_new();
    int rule_kept = 1;
    for (size_t t = 0; t < d->n; t++) {
        struct score_result r;
        CHECK(score_text(b, s, d->text[t], strlen(d->text[t]), &r, err, sizeof err) == 0);
        const double *dec = score_decision_values(s);
        int best = 0;
        double sum = 0;
        for (int i = 0; i < k; i++) {
            best = dec[i] > dec[best] ? i : best;
            sum += 1 / (1 + exp(-slope * dec[i]));
        }
        rule_kept &= r.label == best;
        for (int i = 0; i < k; i++)
            rule_kept &= fabs(r.prob[i] - 1 / (1 + exp(-slope * dec[i])) / sum) < 1e-12;
    }
    CHECK(rule_kept);
    score_scratch_free(&s);
}

/* b calls a sentence about tanks and troops escalatory, and explains it
 * with reasons in order and pointing the right way. */
static void explains_escalation(const struct bundle *b, struct score_scratch *s)
{
    char err[512];
    struct score_result r;
    const char *t = "The army will send more tanks and troops to the border.";
    CHECK(score_text(b, s, t, strlen(t), &r, err, sizeof err) == 0);
    CHECK_STR(bundle_label(b, r.label), "escalatory");
    struct score_reason pro[3], con[3];
    size_t npro, ncon;
    CHECK(score_explain(b, s, r.label, 3, pro, &npro, con, &ncon, err, sizeof err) == 0);
    CHECK(npro > 0 && pro[0].weight > 0);
    for (size_t i = 1; i < npro; i++)
        CHECK(pro[i].weight <= pro[i - 1].weight);
    for (size_t i = 0; i < ncon; i++)
        CHECK(con[i].weight < 0);
}

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/stance-test-bundle-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(bdir, sizeof bdir, "%s/model", dir);
    snprintf(mdir, sizeof mdir, "%s/mnb", dir);
    snprintf(odir, sizeof odir, "%s/ovr", dir);

    char err[512];
    char *files[] = { "tests/data/mini_stance.tsv" };
    struct dataset *d = dataset_load(files, 1, NULL, 0, err, sizeof err);
    CHECK(d != NULL);
    if (!d)
        return check_report("test_bundle");
    CHECK(d->nlabels == 4);
    CHECK_STR(d->labels[0], "conciliatory");

    struct train_params p;
    train_params_default(&p);
    struct train_fit fit;
    CHECK(train_fit(d, NULL, d->n, &p, 1, &fit, err, sizeof err) == 0);
    cJSON *man = cJSON_CreateObject();
    cJSON_AddStringToObject(man, "name", "mini");
    cJSON *labels = cJSON_AddArrayToObject(man, "labels");
    for (int i = 0; i < d->nlabels; i++)
        cJSON_AddItemToArray(labels, cJSON_CreateString(d->labels[i]));
    CHECK(bundle_write(bdir, man, &p.fs, fit.vocab, (const struct svm_model *const *)fit.model, fit.nmodels, err, sizeof err) == 0);
    /* writing again replaces the bundle in place and leaves no temporary */
    CHECK(bundle_write(bdir, man, &p.fs, fit.vocab, (const struct svm_model *const *)fit.model, fit.nmodels, err, sizeof err) == 0);
    CHECK(count_entries(dir) == 1);
    CHECK(count_entries(bdir) == 3);
    train_fit_free(&fit);
    cJSON_Delete(man);

    struct bundle *b = bundle_load(bdir, err, sizeof err);
    CHECK(b != NULL);
    if (!b)
        return check_report("test_bundle");
    CHECK_STR(bundle_name(b), "mini");
    CHECK(bundle_label_count(b) == 4);
    CHECK(bundle_is_linear(b));

    /* it learnt its own training data */
    CHECK(agrees_with_libsvm(b, d, 6) > (int)d->n * 8 / 10);
    struct score_scratch *s = score_scratch_new();
    explains_escalation(b, s);
    struct score_result r;

    /* Invalid UTF-8 and empty text. */
    CHECK(score_text(b, s, "bad\xff", 4, &r, err, sizeof err) == -1);
    CHECK(score_text(b, s, "", 0, &r, err, sizeof err) == 0);
    score_scratch_free(&s);
    CHECK(s == NULL);
    bundle_free(&b);
    CHECK(b == NULL);

    /* With the mnb features: the class ratios survive the bundle, each
     * vector ends with the appended features, and the fast path still
     * agrees with libsvm. */
    p.fs.mnb = 10;
    CHECK(write_bundle(d, &p, mdir) == 0);
    b = bundle_load(mdir, err, sizeof err);
    CHECK(b != NULL);
    if (!b)
        return check_report("test_bundle");
    CHECK(agrees_with_libsvm(b, d, 6) > (int)d->n * 8 / 10);
    bundle_free(&b);
    refused_from(mdir, "sed -i 's/^  mnb: 10$/  mnb: 0/' manifest.yaml", "class ratios");
    refused_from(mdir, "sed -i '7s/\t[^\t]*\t/\t/4' vocab.tsv", "vocab.tsv:7");
    refused("sed -i 's/^  mnb: 0$/  mnb: 3/' manifest.yaml", "class ratios");
    refused("sed -i 's/^  mnb: 0$/  mnb: -1/' manifest.yaml", "mnb");

    /* One-vs-rest: a binary model file per label, each agreeing with
     * libsvm's own; the scheme and the files must match. */
    p.fs.mnb = 0;
    p.one_vs_rest = 1;
    CHECK(write_bundle(d, &p, odir) == 0);
    CHECK(count_entries(odir) == 6);
    b = bundle_load(odir, err, sizeof err);
    CHECK(b != NULL);
    if (!b)
        return check_report("test_bundle");
    CHECK(agrees_with_libsvm(b, d, 4) > (int)d->n * 8 / 10);
    follows_ovr_rule(b, odir, d);
    s = score_scratch_new();
    explains_escalation(b, s);
    score_scratch_free(&s);
    cJSON *desc = bundle_describe(b);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(desc, "scheme")), "one-vs-rest");
    cJSON_Delete(desc);
    bundle_free(&b);
    refused_from(odir, "rm model.2.svm", "model.2.svm");
    refused_from(odir, "sed -i 's/one-vs-rest/one-vs-all/' manifest.yaml", "scheme");
    refused_from(odir, "sed -i 's/one-vs-rest/one-vs-one/' manifest.yaml", "model.svm");
    refused_from(odir, "cp ../model/model.svm model.1.svm", "model.1.svm: model has 4 classes");
    refused("sed -i 's/one-vs-one/one-vs-rest/' manifest.yaml", "model.0.svm");
    dataset_free(&d);

    refused("rm model.svm", "model.svm");
    refused("head -c 300 model.svm > m && mv m model.svm", "model.svm");
    refused("sed -i 's/^format: 1/format: 2/' manifest.yaml", "format");
    refused("sed -i 's/^  words: true/  words: true\\n  stems: true/' manifest.yaml", "stems");
    refused("sed -i 's/\"neutral\"/\"neutral\", \"other\"/' manifest.yaml", "labels");
    refused("sed -i '5s/.*/x\\ty/' vocab.tsv", "vocab.tsv:5");
    refused("sed -i 's/^labels:/labels: [/' manifest.yaml", "manifest.yaml");
    refused("rm vocab.tsv", "vocab.tsv");
    refused("head -n 50 vocab.tsv > v && mv v vocab.tsv", "has 49 features, the manifest says");
    refused("sed -i '/^  vocabulary:/d' manifest.yaml", "model.vocabulary");
    refused("sed -i 's/^  vocabulary: .*/  vocabulary: 2.5/' manifest.yaml", "model.vocabulary");

    CHECK(bundle_load("/nonexistent/bundle", err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/bundle") != NULL);

    sh("rm -rf %s", dir);
    return check_report("test_bundle");
}
