/*
 * The fast linear scorer against libsvm on every bundled model: over some
 * thousands of real sentences, labels must be identical, decision values
 * within 1e-9 of svm_predict_values and probabilities within 1e-9 of
 * libsvm's path (svm_predict_probability for one-vs-one bundles).
 */
#include "check.h"
#include "bundle.h"
#include "score.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

static size_t read_sentences(const char *path, char ***lines, size_t n)
{
    FILE *fp = fopen(path, "r");
    CHECK(fp != NULL);
    if (!fp)
        return n;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) > 0) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        *lines = realloc(*lines, (n + 1) * sizeof **lines);
        (*lines)[n++] = strdup(tab + 1);
    }
    free(line);
    fclose(fp);
    return n;
}

/* One thread's share of the sentences. libsvm's kernel path costs about a
 * millisecond a sentence on a character n-gram model, so the comparison is
 * split over two threads to keep the suite short. */
struct share {
    const struct bundle *b;
    char **lines;
    size_t from, to;
    size_t label_diff;
    double worst_p, worst_d;
};

static void *compare_share(void *arg)
{
    struct share *sh = arg;
    char err[512];
    struct score_scratch *s = score_scratch_new();
    int k = bundle_label_count(sh->b), np = bundle_decision_count(sh->b);
    double *dec = malloc((size_t)np * sizeof *dec);
    for (size_t i = sh->from; i < sh->to; i++) {
        const char *text = sh->lines[i];
        struct score_result fast, ref;
        score_text_libsvm(sh->b, s, text, strlen(text), &ref, err, sizeof err);
        memcpy(dec, score_decision_values(s), (size_t)np * sizeof *dec);
        score_text(sh->b, s, text, strlen(text), &fast, err, sizeof err);
        const double *fd = score_decision_values(s);
        sh->label_diff += fast.label != ref.label;
        for (int c = 0; c < k; c++)
            sh->worst_p = fmax(sh->worst_p, fabs(fast.prob[c] - ref.prob[c]));
        for (int p = 0; p < np; p++)
            sh->worst_d = fmax(sh->worst_d, fabs(fd[p] - dec[p]));
    }
    free(dec);
    score_scratch_free(&s);
    return NULL;
}

static void compare_model(const char *dir, char **lines, size_t n)
{
    char err[512];
    struct bundle *b = bundle_load(dir, err, sizeof err);
    CHECK(b != NULL);
    if (!b) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    struct share sh[2] = {
        {.b = b, .lines = lines, .from = 0, .to = n / 2},
        {.b = b, .lines = lines, .from = n / 2, .to = n},
    };
    pthread_t t;
    int threaded = pthread_create(&t, NULL, compare_share, &sh[1]) == 0;
    compare_share(&sh[0]);
    if (threaded)
        pthread_join(t, NULL);
    else
        compare_share(&sh[1]);
    size_t label_diff = sh[0].label_diff + sh[1].label_diff;
    double worst_p = fmax(sh[0].worst_p, sh[1].worst_p);
    double worst_d = fmax(sh[0].worst_d, sh[1].worst_d);
    printf("%s: %zu sentences, %zu label differences, max |dp| %.3g, max |ddec| %.3g\n",
           dir, n, label_diff, worst_p, worst_d);
    CHECK(bundle_is_linear(b));
    CHECK(label_diff == 0);
    CHECK(worst_p < 1e-9);
    CHECK(worst_d < 1e-9);
    bundle_free(&b);
}

int main(void)
{
    char **lines = NULL;
    size_t n = 0;
    n = read_sentences("training/corpus/stance_dev_plover_part_a.tsv", &lines, n);
    n = read_sentences("training/corpus/sentiment_dev_newsmtsc_devtest_mt.tsv", &lines, n);
    n = read_sentences("training/corpus/stance_written_europe.tsv", &lines, n);
    n = read_sentences("training/corpus/stance_written_asia.tsv", &lines, n);
    n = read_sentences("tests/data/mini_sentiment.tsv", &lines, n);
    CHECK(n >= 2000);

    DIR *d = opendir("models");
    CHECK(d != NULL);
    int models = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "models/%s", e->d_name);
        compare_model(path, lines, n);
        models++;
    }
    if (d)
        closedir(d);
    CHECK(models >= 2);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    return check_report("test_score");
}
