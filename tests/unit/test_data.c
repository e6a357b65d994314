/* Unit tests for lib/dataset, lib/metrics and lib/sha256. */
#include "check.h"
#include "dataset.h"
#include "metrics.h"
#include "sha256.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static char path[64];

static struct dataset *load_text(const char *content, char *err, size_t errlen, char **labels, int nl)
{
    FILE *fp = fopen(path, "w");
    fputs(content, fp);
    fclose(fp);
    char *files[] = { path };
    return dataset_load(files, 1, labels, nl, err, errlen);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/stance-test-data-%d.tsv", (int)getpid());
    char err[256], want[128];

    struct dataset *d = load_text("# comment\nb\tSecond one.\n\n{\"label\":\"a\",\"text\":\"First.\"}\nb\t Third \n",
                                  err, sizeof err, NULL, 0);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->n == 3 && d->nlabels == 2);
        CHECK_STR(d->labels[0], "a");
        CHECK(d->label[0] == 1 && d->label[1] == 0);
        CHECK_STR(d->text[2], "Third");
        CHECK_STR(d->norm[0], "second one.");
        CHECK(strlen(d->sha256) == 64);
        dataset_free(&d);
    }
    d = load_text("a\tok\nno tab here\n", err, sizeof err, NULL, 0);
    snprintf(want, sizeof want, "%s:2:", path);
    CHECK(d == NULL && strstr(err, want) && strstr(err, "TAB"));
    d = load_text("a\tok\n{\"label\": 3}\n", err, sizeof err, NULL, 0);
    CHECK(d == NULL && strstr(err, want));
    d = load_text("a\tok\nb\tbad \xff\n", err, sizeof err, NULL, 0);
    CHECK(d == NULL && strstr(err, want) && strstr(err, "UTF-8"));
    d = load_text("a\tok\nb\t\n", err, sizeof err, NULL, 0);
    CHECK(d == NULL && strstr(err, "empty"));
    char *fixed[] = { "a", "b" };
    d = load_text("a\tok\nc\tnot allowed\n", err, sizeof err, fixed, 2);
    CHECK(d == NULL && strstr(err, want));
    d = load_text("", err, sizeof err, NULL, 0);
    CHECK(d == NULL);
    char *missing[] = { "/nonexistent.tsv" };
    CHECK(dataset_load(missing, 1, NULL, 0, err, sizeof err) == NULL && strstr(err, "/nonexistent.tsv"));
    remove(path);

    struct metrics m;
    metrics_init(&m, 3);
    /* truth a: 3 right, 1 as b; truth b: 2 right; no truth c, one c predicted */
    metrics_add(&m, 0, 0); metrics_add(&m, 0, 0); metrics_add(&m, 0, 0); metrics_add(&m, 0, 1);
    metrics_add(&m, 1, 1); metrics_add(&m, 1, 1); metrics_add(&m, 1, 2);
    CHECK(fabs(metrics_accuracy(&m) - 5.0 / 7) < 1e-12);
    double p, r, f;
    metrics_class(&m, 1, &p, &r, &f);
    CHECK(fabs(p - 2.0 / 3) < 1e-12 && fabs(r - 2.0 / 3) < 1e-12);
    /* macro over a and b only: F1(a) = 6/7, F1(b) = 2/3 */
    CHECK(fabs(metrics_macro_f1(&m) - (6.0 / 7 + 2.0 / 3) / 2) < 1e-12);
    char *labels[] = { "a", "b", "c" };
    char *rep = metrics_report(&m, labels);
    CHECK(strstr(rep, "accuracy=0.7143") != NULL);
    free(rep);
    cJSON *j = metrics_to_json(&m, labels);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "per_class"), "c") != NULL);
    cJSON_Delete(j);

    struct sha256 h;
    char hex[65];
    sha256_init(&h);
    sha256_final_hex(&h, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_init(&h);
    sha256_update(&h, "abc", 3);
    sha256_final_hex(&h, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_init(&h);
    for (int i = 0; i < 1000; i++)
        sha256_update(&h, "a", 1);  /* crosses block boundaries one byte at a time */
    sha256_final_hex(&h, hex);
    CHECK_STR(hex, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
    return check_report("test_data");
}
