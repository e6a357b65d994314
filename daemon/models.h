/*
 * models: the set of loaded bundles the workers share. A set is immutable
 * and reference counted: a request holds the set it started with until its
 * reply is written, so a reload swaps in a new set without disturbing
 * requests in flight, and the old set is freed by whoever releases it last.
 */
#ifndef STANCED_MODELS_H
#define STANCED_MODELS_H

#include <stddef.h>
#include "conf.h"
#include "doc.h"

struct modelset {
    struct doc_model *models;   /* in config order; names owned by the set */
    size_t n;
    unsigned long generation;   /* 1 for the first set, +1 per successful reload */
    int refs;                   /* guarded by the registry's lock */
};

struct registry;

/* Loads every model of c and returns a registry holding them as its
 * current set, or NULL with err filled (naming the model and bundle
 * directory) if any bundle fails to load. Caller owns the result; free
 * with registry_free() once no set is held any more. */
struct registry *registry_new(const struct conf *c, char *err, size_t errlen);

/* Frees *r and its current set and sets *r to NULL. Accepts NULL. */
void registry_free(struct registry **r);

/* The current set, with a reference the caller must give back with
 * registry_release(). Never NULL. */
struct modelset *registry_acquire(struct registry *r);

/* Gives back a reference from registry_acquire and sets *set to NULL; the
 * set is freed when it was the last reference to a replaced set. */
void registry_release(struct registry *r, struct modelset **set);

/* Loads the models of c into a new set and, only if every bundle loaded
 * and checked and every model that keeps its name keeps its label set,
 * makes it current. Returns 0, or -1 with err filled while the
 * current set stays. Reloads are serialised: a second caller waits. */
int registry_reload(struct registry *r, const struct conf *c, char *err, size_t errlen);

#endif
