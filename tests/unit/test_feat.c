/* Unit tests for lib/feat: feature strings, vocabulary, vectors, settings. */
#include "check.h"
#include "feat.h"

#include <math.h>
#include <svm.h>
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

    /* bigrams are the same whether the tokens sit one space apart or not */
    feat_settings_default(&fs);
    seen.all[0] = '\0';
    feat_each(&fs, s, "putin's  army, not  troops", 26, record, &seen);
    CHECK_STR(seen.all, "putin|putin army|army|army ,|,|, not|not|not troops|NOT_troops|");
    fs.punct = 0;
    seen.all[0] = '\0';
    feat_each(&fs, s, "putin's  army, not  troops", 26, record, &seen);
    CHECK_STR(seen.all, "putin|putin army|army|army not|not|not troops|NOT_troops|");

    /* features are cut at 128 bytes, in every form */
    char longw[300];
    memset(longw, 'x', 200);
    memcpy(longw + 200, " y", 3);
    struct vocab *lv = vocab_new();
    vocab_add(lv, longw, 128);
    fs.negation = 0;
    struct feat_vec lx = feat_vectorize(&fs, lv, s, longw, 202);
    CHECK(lx.n == 1 && lx.id[0] == 0 && lx.row[0] == NULL);   /* word and bigram both cut to it */
    vocab_free(&lv);

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
    /* rows sit beside the entries and survive nothing but a new width */
    vocab_set_row_width(v, 6);
    CHECK(vocab_row(v, 4999)[5] == 0.0);
    vocab_row(v, 4999)[5] = 2.5;
    vocab_row(v, 0)[0] = -1.0;
    CHECK(vocab_lookup(v, "f4999", 5) == 4999 && vocab_scale(v, 7) == 3.0);
    CHECK_STR(vocab_feature(v, 4321), "f4321");
    CHECK(vocab_row(v, 4999)[5] == 2.5 && vocab_row(v, 0)[0] == -1.0 && vocab_row(v, 1)[0] == 0.0);
    char longf[100];
    memset(longf, 'z', 99);
    longf[99] = '\0';
    CHECK(vocab_add(v, longf, 99) == 5000);             /* too long to sit inline */
    CHECK(vocab_lookup(v, longf, 99) == 5000 && vocab_lookup(v, longf, 98) == -1);
    CHECK(vocab_row(v, 5000)[0] == 0.0 && vocab_row(v, 4999)[5] == 2.5);
    vocab_set_row_width(v, 0);
    /* narrower records leave room for more of them in the same block; the
     * entries added into that room need room in every other array too */
    int grown = 1;
    for (int i = 5001; i < 12000; i++) {
        snprintf(name, sizeof name, "g%d", i);
        grown &= vocab_add(v, name, strlen(name)) == i;
        vocab_set_weights(v, i, 2, 0.5, 2.0);
    }
    CHECK(grown && vocab_lookup(v, "g11999", 6) == 11999 && vocab_scale(v, 11999) == 1.0);
    CHECK(vocab_scale(v, 7) == 3.0 && vocab_lookup(v, longf, 99) == 5000);

    FILE *fp = tmpfile();
    char err[256];
    CHECK(vocab_write(v, fp, err, sizeof err) == 0);
    rewind(fp);
    struct vocab *r = vocab_read(fp, "vocab.tsv", err, sizeof err);
    fclose(fp);
    CHECK(r != NULL && vocab_size(r) == 12000);
    if (r) {
        CHECK(vocab_scale(r, 7) == 3.0);
        CHECK_STR(vocab_feature(r, 4321), "f4321");
        vocab_free(&r);
    }
    vocab_free(&v);
    CHECK(v == NULL);

    /* weights come back bit for bit, whichever way their text is parsed */
    v = vocab_new();
    srand(7);
    double want[3000];
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "w%d", i);
        vocab_add(v, name, strlen(name));
        double x = (double)rand() / RAND_MAX * pow(10, rand() % 40 - 20);
        want[i] = i % 3 == 0 ? x : i % 3 == 1 ? 1.0 + log1p(x) : (double)(rand() % 1000) / 8;
        vocab_set_weights(v, i, 1, want[i], 1.0);
    }
    fp = tmpfile();
    CHECK(vocab_write(v, fp, err, sizeof err) == 0);
    rewind(fp);
    r = vocab_read(fp, "vocab.tsv", err, sizeof err);
    fclose(fp);
    int exact = r != NULL;
    for (int i = 0; exact && i < 3000; i++)
        exact = vocab_scale(r, i) == want[i];
    CHECK(exact);
    vocab_free(&r);
    vocab_free(&v);

    /* vectors: distinct ids, unit length, unknown features ignored; the
     * libsvm nodes hold the same entries, indices ascending */
    feat_settings_default(&fs);
    v = vocab_new();
    vocab_add(v, "troops", 6);
    vocab_add(v, "border", 6);
    vocab_add(v, "more troops", 11);
    vocab_set_row_width(v, 2);
    vocab_row(v, 2)[1] = 0.5;
    struct feat_vec x = feat_vectorize(&fs, v, s, "more troops, more troops to the border", 38);
    CHECK(x.n == 3);
    int32_t ids[3];
    double vals[3];
    for (size_t i = 0; i < x.n && i < 3; i++) {
        ids[i] = x.id[i];
        vals[i] = x.val[i];
        for (size_t j = 0; j < i; j++)
            CHECK(x.id[j] != x.id[i]);
    }
    struct svm_node nodes[4];
    feat_vec_nodes(&x, nodes);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < x.n; j++)
            if (nodes[j].index == ids[i] + 1)
                CHECK(nodes[j].value == vals[i]);
    CHECK(nodes[3].index == -1);
    for (size_t i = 0; i < x.n; i++)
        if (x.id[i] == 2)
            CHECK(x.row[i] == vocab_row(v, 2) && x.row[i][1] == 0.5);
    double norm = 0;
    for (size_t i = 0; i < x.n; i++) {
        norm += nodes[i].value * nodes[i].value;
        if (i)
            CHECK(nodes[i].index > nodes[i - 1].index);
    }
    CHECK(fabs(norm - 1) < 1e-12);
    CHECK(nodes[0].value > nodes[1].value);   /* "troops" twice, "border" once, log tf */
    x = feat_vectorize(&fs, v, s, "nothing known", 13);
    CHECK(x.n == 0);
    vocab_free(&v);

    /* counts: 300 words, word i said 1 + i % 4 times, scattered through a
     * long text, each counted once per occurrence (raw tf, no scaling) */
    fs.bigrams = 0;
    fs.tf = FEAT_TF_RAW;
    fs.idf = fs.nb = fs.l2 = 0;
    v = vocab_new();
    char *many = malloc(300 * 4 * 8);
    size_t mlen = 0;
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "w%d", i);
        vocab_add(v, name, strlen(name));
    }
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < 300; i++)
            if (i % 4 >= round)
                mlen += (size_t)sprintf(many + mlen, "w%d ", (i * 7 + round * 31) % 300);
    x = feat_vectorize(&fs, v, s, many, mlen);
    int counts_ok = x.n == 300;
    for (size_t i = 0; i < x.n; i++) {
        int w = x.id[i], said = 0;
        for (int k = 0; k < 300; k++)
            for (int round = 0; round < 4; round++)
                said += k % 4 >= round && (k * 7 + round * 31) % 300 == w;
        counts_ok &= x.val[i] == said;
    }
    CHECK(counts_ok);
    free(many);
    vocab_free(&v);
    feat_settings_default(&fs);

    /* settings survive the manifest round trip; unknown ones are refused */
    fs.char_min = 2; fs.char_max = 4; fs.tf = FEAT_TF_BINARY; fs.nb = 1; fs.min_df = 2; fs.mnb = 2.5;
    cJSON *j = feat_settings_to_json(&fs);
    struct feat_settings back;
    CHECK(feat_settings_from_json(j, &back, err, sizeof err) == 0);
    CHECK(memcmp(&fs, &back, sizeof fs) == 0);
    /* a manifest from before the punct setting tokenised without it */
    CHECK(fs.punct == 1);
    cJSON_DeleteItemFromObject(j, "punct");
    CHECK(feat_settings_from_json(j, &back, err, sizeof err) == 0 && back.punct == 0);
    cJSON_AddTrueToObject(j, "stemming");
    CHECK(feat_settings_from_json(j, &back, err, sizeof err) == -1 && strstr(err, "stemming"));
    cJSON_DeleteItemFromObject(j, "stemming");
    cJSON_ReplaceItemInObject(j, "tf", cJSON_CreateString("sqrt"));
    CHECK(feat_settings_from_json(j, &back, err, sizeof err) == -1 && strstr(err, "tf"));
    cJSON_Delete(j);
    feat_scratch_free(&s);
    return check_report("test_feat");
}
