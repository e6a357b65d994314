/*
 * feat: from normalised text to a sparse, weighted feature vector. The
 * feature settings travel in the bundle's manifest and the vocabulary in
 * its vocab.tsv, so training and scoring compute exactly the same vector.
 */
#ifndef STANCE_FEAT_H
#define STANCE_FEAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

enum feat_tf { FEAT_TF_BINARY, FEAT_TF_RAW, FEAT_TF_LOG };

struct feat_settings {
    int words;               /* word unigrams */
    int bigrams;             /* word bigrams */
    int char_min, char_max;  /* character n-grams inside padded words; 0 = off */
    int negation;            /* mark unigrams in a negation's scope as NOT_word */
    int punct;               /* every punctuation mark and symbol is a token, not
                                only ! ? and " (absent from older manifests: off) */
    enum feat_tf tf;         /* binary, raw count, or 1 + log(count) */
    int idf;                 /* multiply by smoothed inverse document frequency */
    int nb;                  /* multiply by the NB log-count ratio (Wang & Manning 2012) */
    int l2;                  /* scale the vector to unit length */
    int min_df;              /* features seen in fewer training texts are dropped */
    double mnb;              /* > 0: append one feature per class, tanh(S_c / mnb) of the
                                text's multinomial NB log-odds S_c (the sum of its features'
                                class log-count ratios; out-of-fold for training rows).
                                0 = off */
};

/* The defaults, chosen by cross-validation (README, "Accuracy"). */
void feat_settings_default(struct feat_settings *fs);

/* The name of a tf mode as stored in manifests ("binary", "raw", "log"),
 * and back; feat_tf_parse returns -1 for an unknown name. */
const char *feat_tf_name(enum feat_tf tf);
int feat_tf_parse(const char *name);

/* The settings as a JSON object for the manifest. Caller owns it. */
cJSON *feat_settings_to_json(const struct feat_settings *fs);

/* Reads settings from a manifest's "features" object, starting from the
 * defaults. Unknown keys and bad values are refused (a bundle whose
 * features this build cannot reproduce must not load): returns -1 with
 * err filled. */
int feat_settings_from_json(const cJSON *j, struct feat_settings *fs, char *err, size_t errlen);

/* A feature vocabulary: feature string -> dense id, with each feature's
 * document frequency and the scale (idf x nb) applied to it. */
struct vocab;

/* Caller owns the result; free with vocab_free(). */
struct vocab *vocab_new(void);
void vocab_free(struct vocab **v);
size_t vocab_size(const struct vocab *v);

/* The id of feature f[0..n), or -1. */
int32_t vocab_lookup(const struct vocab *v, const char *f, size_t n);

/* The id of f[0..n), adding it with scale 1 if new. */
int32_t vocab_add(struct vocab *v, const char *f, size_t n);

/* Feature string of id; owned by the vocabulary, valid until it next grows
 * (a loaded bundle's vocabulary never does). */
const char *vocab_feature(const struct vocab *v, int32_t id);
double vocab_scale(const struct vocab *v, int32_t id);
void vocab_set_weights(struct vocab *v, int32_t id, uint32_t df, double idf, double nb);

/* The mnb setting's class log-count ratios: vocab_set_classes gives every
 * feature, present and future, k (2..VOCAB_MAX_CLASSES) ratios, all zero; vocab_classes
 * returns k, or 0 when they were never set. The ratios of id are the k
 * doubles at vocab_ratios(v, id), owned by the vocabulary and valid until
 * it next grows. With k classes, feature vectors under a positive mnb
 * setting end with ids vocab_size(v) .. vocab_size(v) + k - 1, the
 * appended features, named "mnb:0" .. "mnb:<k-1>" by vocab_feature and
 * given rows by vocab_set_row_width like every other id. */
#define VOCAB_MAX_CLASSES 16
void vocab_set_classes(struct vocab *v, int k);
int vocab_classes(const struct vocab *v);
double *vocab_ratios(struct vocab *v, int32_t id);

/* Gives every feature a row of width doubles, all zero, kept beside the
 * feature's lookup entry so that scoring finds a feature's weights in the
 * cache lines its lookup has just read. Any earlier rows are dropped. */
void vocab_set_row_width(struct vocab *v, int width);

/* The row of id (see vocab_set_row_width); owned by the vocabulary, valid
 * until it next grows or its width changes. */
double *vocab_row(struct vocab *v, int32_t id);

/* Writes the vocabulary as TSV (id, df, idf, nb, then the k class ratios
 * when there are any, then the feature). Returns 0, or
 * -1 with err filled. */
int vocab_write(const struct vocab *v, FILE *fp, char *err, size_t errlen);

/* Reads what vocab_write wrote, checking every line; path is used in error
 * messages. Returns NULL with err filled ("vocab.tsv:12: ..."). Caller owns
 * the result. */
struct vocab *vocab_read(FILE *fp, const char *path, char *err, size_t errlen);

/* Working memory for feature extraction, reused across texts so that
 * extraction allocates nothing per token once it has grown. */
struct feat_scratch;
struct feat_scratch *feat_scratch_new(void);
void feat_scratch_free(struct feat_scratch **s);

/* Calls fn once per feature occurrence of the normalised text norm[0..len)
 * (a feature repeated in the text is reported each time). The string is
 * valid only during the call. */
typedef void (*feat_fn)(void *ctx, const char *f, size_t n);
void feat_each(const struct feat_settings *fs, struct feat_scratch *s,
               const char *norm, size_t len, feat_fn fn, void *ctx);

/* A sparse vector: distinct ids, one value each, and each id's row of
 * weights (NULL when the vocabulary has no rows). */
struct feat_vec {
    const int32_t *id;
    const double *val;
    const double *const *row;
    size_t n;
};

/* Vectorises norm[0..len) against vocab: features not in it are ignored.
 * A feature is recognised by its 64-bit hash (a string that is not a
 * feature is taken for one about once in 2^64 / vocabulary size lookups;
 * vocab_lookup compares strings). The ids come in no promised order (a
 * dot product needs none; see feat_vec_nodes). The vector lives in s and
 * is valid until the next call with s. */
struct feat_vec feat_vectorize(const struct feat_settings *fs, const struct vocab *v,
                               struct feat_scratch *s, const char *norm, size_t len);

/* Writes v as libsvm's nodes into out, which has room for v->n + 1: index
 * id + 1, ascending as libsvm requires, then the index -1 that ends them. */
struct svm_node;
void feat_vec_nodes(const struct feat_vec *v, struct svm_node *out);

#endif
