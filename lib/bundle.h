/*
 * bundle: a trained model on disk and in memory. A bundle directory holds
 * manifest.yaml (format number, name, labels, feature settings, training
 * figures), vocab.tsv (the feature vocabulary with its weights) and
 * libsvm's own model files: model.svm, one model over all the labels
 * (one-vs-one), or model.0.svm .. model.<k-1>.svm, one binary model per
 * label (one-vs-rest). docs/model-format.md describes them.
 * A loaded bundle is immutable: any number of threads may score with it.
 */
#ifndef STANCE_BUNDLE_H
#define STANCE_BUNDLE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define BUNDLE_FORMAT 1
#define BUNDLE_MAX_LABELS 16

struct bundle;

/* Loads and fully checks the bundle in directory dir (manifest, vocabulary,
 * libsvm model, label agreement between them, feature settings this build
 * can reproduce). Returns NULL and fills err on any failure. Caller owns
 * the result; free with bundle_free(). Not thread-safe against other
 * bundle_load calls: libsvm's loader changes the process locale briefly. */
struct bundle *bundle_load(const char *dir, char *err, size_t errlen);

/* Frees *b and sets *b to NULL. Accepts NULL and *b == NULL. */
void bundle_free(struct bundle **b);

/* The manifest's name; valid while the bundle lives. */
const char *bundle_name(const struct bundle *b);

/* The directory the bundle was loaded from; valid while the bundle lives. */
const char *bundle_dir(const struct bundle *b);

int bundle_label_count(const struct bundle *b);

/* Label i (0 <= i < bundle_label_count), in the manifest's order, which is
 * the order of every score array. Valid while the bundle lives. */
const char *bundle_label(const struct bundle *b, int i);

/* How many decision values a text gets (score_decision_values): one per
 * pair of labels for one-vs-one bundles, one per label for one-vs-rest. */
int bundle_decision_count(const struct bundle *b);

/* 1 when the model is linear and so can be scored fast and explained. */
int bundle_is_linear(const struct bundle *b);

/* A JSON description for clients: name, labels, kernel, feature settings
 * and the manifest's training figures. Caller owns it (cJSON_Delete). */
cJSON *bundle_describe(const struct bundle *b);

struct feat_settings;
struct vocab;
struct svm_model;

/* Writes a bundle to directory dir, atomically: everything goes into a
 * temporary directory beside dir, is synced, and is then renamed into
 * place (exchanged with an existing dir, whose old files are removed), so
 * a crash never leaves a half-written bundle at dir. manifest holds the
 * name, labels (in the order matching libsvm labels 0..k-1) and any
 * training figures; format, features, scheme and kernel are added here.
 * models are train_fit's: one model is one-vs-one, more are one-vs-rest
 * (model i telling label i, libsvm label 1, from the rest, 0). The caller
 * keeps ownership of everything passed. Returns 0, or -1 with err filled. */
int bundle_write(const char *dir, const cJSON *manifest, const struct feat_settings *fs,
                 const struct vocab *v, const struct svm_model *const *models, int nmodels,
                 char *err, size_t errlen);

#endif
