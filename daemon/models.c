/*
 * models: loading and swapping model sets. One mutex guards the current
 * pointer and all reference counts (taken twice per request, so cheap
 * enough); a second one serialises reloads because bundle_load must not
 * run in two threads at once (libsvm's loader changes the locale).
 */
#include "models.h"
#include "bundle.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct registry {
    pthread_mutex_t lock;
    pthread_mutex_t reload_lock;
    struct modelset *current;
};

static void set_free(struct modelset **sp)
{
    struct modelset *s = *sp;

    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        struct bundle *b = (struct bundle *)s->models[i].bundle;
        bundle_free(&b);
        free((char *)s->models[i].name);
    }
    free(s->models);
    free(s);
    *sp = NULL;
}

static struct modelset *set_load(const struct conf *c, char *err, size_t errlen)
{
    struct modelset *s = xcalloc(1, sizeof *s);
    char why[512];

    s->models = xcalloc(c->n_models ? c->n_models : 1, sizeof *s->models);
    for (size_t i = 0; i < c->n_models; i++) {
        struct bundle *b = bundle_load(c->models[i].dir, why, sizeof why);
        if (!b) {
            snprintf(err, errlen, "model %s (%s): %s", c->models[i].name, c->models[i].dir, why);
            set_free(&s);
            return NULL;
        }
        s->models[i].bundle = b;
        s->models[i].name = xstrdup(c->models[i].name);
        s->n++;
    }
    s->refs = 1;  /* the registry's own reference while current */
    return s;
}

struct registry *registry_new(const struct conf *c, char *err, size_t errlen)
{
    struct modelset *s = set_load(c, err, errlen);
    struct registry *r;

    if (!s)
        return NULL;
    r = xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->reload_lock, NULL);
    s->generation = 1;
    r->current = s;
    return r;
}

void registry_free(struct registry **rp)
{
    struct registry *r;

    if (!rp || !*rp)
        return;
    r = *rp;
    set_free(&r->current);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->reload_lock);
    free(r);
    *rp = NULL;
}

struct modelset *registry_acquire(struct registry *r)
{
    struct modelset *s;

    pthread_mutex_lock(&r->lock);
    s = r->current;
    s->refs++;
    pthread_mutex_unlock(&r->lock);
    return s;
}

void registry_release(struct registry *r, struct modelset **sp)
{
    int last;

    if (!*sp)
        return;
    pthread_mutex_lock(&r->lock);
    last = --(*sp)->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last)
        set_free(sp);
    *sp = NULL;
}

static int has_label(const struct bundle *b, const char *label)
{
    for (int i = 0; i < bundle_label_count(b); i++)
        if (strcmp(bundle_label(b, i), label) == 0)
            return 1;
    return 0;
}

/* A model that keeps its name must keep its label set: clients read
 * scores by label, and a reload must not change the meaning of a reply
 * under them. Changing labels takes a restart. */
static int same_labels(const struct modelset *old, const struct modelset *fresh,
                       char *err, size_t errlen)
{
    for (size_t i = 0; i < fresh->n; i++)
        for (size_t k = 0; k < old->n; k++) {
            const struct bundle *a = old->models[k].bundle, *b = fresh->models[i].bundle;
            int same = bundle_label_count(a) == bundle_label_count(b);
            if (strcmp(old->models[k].name, fresh->models[i].name) != 0)
                continue;
            for (int l = 0; same && l < bundle_label_count(b); l++)
                same = has_label(a, bundle_label(b, l));
            if (!same) {
                snprintf(err, errlen, "model %s (%s): its labels differ from the loaded model's;"
                         " changing labels needs a restart", fresh->models[i].name, bundle_dir(b));
                return 0;
            }
        }
    return 1;
}

int registry_reload(struct registry *r, const struct conf *c, char *err, size_t errlen)
{
    struct modelset *fresh, *old;

    pthread_mutex_lock(&r->reload_lock);
    fresh = set_load(c, err, errlen);
    /* Only reloads change the current set, and they are serialised by
     * reload_lock, so reading r->current here needs no other lock. */
    if (fresh && !same_labels(r->current, fresh, err, errlen))
        set_free(&fresh);
    if (!fresh) {
        pthread_mutex_unlock(&r->reload_lock);
        return -1;
    }
    pthread_mutex_lock(&r->lock);
    old = r->current;
    fresh->generation = old->generation + 1;
    r->current = fresh;
    pthread_mutex_unlock(&r->lock);
    /* Drops the registry's reference; requests still holding the old set
     * free it when they finish. */
    registry_release(r, &old);
    pthread_mutex_unlock(&r->reload_lock);
    return 0;
}
