/* Unit tests for lib/feat: feature strings, vocabulary, vectors, settings. */
#include "check.h"
#include "feat.h"

#include <math.h>
#include <stdlib.h>

struct seen {
    char all[1024];
};

static void record(void *ctx, const char *f, size_t n)
{
    struct seen *s = ctx;
    strncat(s->all, f, n);
    strcat(s->all, "|");
}

int main(void)
{
    struct feat_settings fs;
    feat_settings_default(&fs);
    struct feat_scratch *s = feat_scratch_new();
    struct seen seen = { "" };
    const char *text = "we will not attack";
    feat_each(&fs, s, text, strlen(text), record, &seen);
    CHECK_STR(seen.all, "we|we will|will|will not|not|not attack|NOT_attack|");

    fs.bigrams = 0;
    fs.negation = 0;
    fs.char_min = 2;
    fs.char_max = 3;
    seen.all[0] = '\0';
    feat_each(&fs, s, "war", 3, record, &seen);
    CHECK_STR(seen.all, "war|c: w|c: wa|c:wa|c:war|c:ar|c:ar |c:r |");
    seen.all[0] = '\0';
    feat_each(&fs, s, "köln", strlen("köln"), record, &seen);
    CHECK(strstr(seen.all, "c:kö|") != NULL);   /* n-grams never cut a code point */
    CHECK(strstr(seen.all, "c:k\xc3|") == NULL);

    /* vocabulary: add, look up, grow past the first table size */
    struct vocab *v = vocab_new();
    char name[32];
    int dense = 1;
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "f%d", i);
        dense &= vocab_add(v, name, strlen(name)) == i;
    }
    CHECK(dense);
    CHECK(vocab_add(v, "f42", 3) == 42);
    CHECK(vocab_lookup(v, "f4999", 5) == 4999);
    CHECK(vocab_lookup(v, "f5000", 5) == -1);
    CHECK(vocab_lookup(v, "f4", 2) == 4);
    vocab_set_weights(v, 7, 3, 2.0, 1.5);
    CHECK(vocab_scale(v, 7) == 3.0);

    FILE *fp = tmpfile();
    char err[256];
    CHECK(vocab_write(v, fp, err, sizeof err) == 0);
    rewind(fp);
    struct vocab *r = vocab_read(fp, "vocab.tsv", err, sizeof err);
    fclose(fp);
    CHECK(r != NULL && vocab_size(r) == 5000);
    if (r) {
        CHECK(vocab_scale(r, 7) == 3.0);
        CHECK_STR(vocab_feature(r, 4321), "f4321");
        vocab_free(&r);
    }
    vocab_free(&v);
    CHECK(v == NULL);

    /* vectors: ids ascending, unit length, unknown features ignored */
    feat_settings_default(&fs);
    v = vocab_new();
    vocab_add(v, "troops", 6);
    vocab_add(v, "border", 6);
    vocab_add(v, "more troops", 11);
    struct feat_vec x = feat_vectorize(&fs, v, s, "more troops, more troops to the border", 38);
    CHECK(x.n == 3);
    double norm = 0;
    for (size_t i = 0; i < x.n; i++) {
        norm += x.val[i] * x.val[i];
        if (i)
            CHECK(x.id[i] > x.id[i - 1]);
    }
    CHECK(fabs(norm - 1) < 1e-12);
    CHECK(x.val[0] > x.val[1]);   /* "troops" twice, "border" once, log tf */
    x = feat_vectorize(&fs, v, s, "nothing known", 13);
    CHECK(x.n == 0);
    vocab_free(&v);

    /* settings survive the manifest round trip; unknown ones are refused */
    fs.char_min = 2; fs.char_max = 4; fs.tf = FEAT_TF_BINARY; fs.nb = 1; fs.min_df = 2;
    cJSON *j = feat_settings_to_json(&fs);
    struct feat_settings back;
    CHECK(feat_settings_from_json(j, &back, err, sizeof err) == 0);
    CHECK(memcmp(&fs, &back, sizeof fs) == 0);
    cJSON_AddTrueToObject(j, "stemming");
    CHECK(feat_settings_from_json(j, &back, err, sizeof err) == -1 && strstr(err, "stemming"));
    cJSON_DeleteItemFromObject(j, "stemming");
    cJSON_ReplaceItemInObject(j, "tf", cJSON_CreateString("sqrt"));
    CHECK(feat_settings_from_json(j, &back, err, sizeof err) == -1 && strstr(err, "tf"));
    cJSON_Delete(j);
    feat_scratch_free(&s);
    return check_report("test_feat");
}
