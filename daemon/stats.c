/*
 * stats: counters and a ring of recent latencies. Percentiles are computed
 * on demand by sorting a copy of the ring; stats requests are rare, the
 * per-request cost is one locked increment.
 */
#include "stats.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW 4096

struct stats {
    pthread_mutex_t lock;
    uint64_t started_ns;
    uint64_t requests;
    uint64_t errors[PROTO_NCODES];
    uint64_t texts;
    uint64_t reloads;
    uint64_t lat[WINDOW];   /* nanoseconds, the last WINDOW requests */
    size_t nlat, next;
};

uint64_t stats_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct stats *stats_new(void)
{
    struct stats *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->started_ns = stats_now_ns();
    return s;
}

void stats_free(struct stats **sp)
{
    if (!sp || !*sp)
        return;
    pthread_mutex_destroy(&(*sp)->lock);
    free(*sp);
    *sp = NULL;
}

void stats_record(struct stats *s, enum proto_code code, size_t texts, uint64_t latency_ns)
{
    pthread_mutex_lock(&s->lock);
    s->requests++;
    if (code != PROTO_OK && (unsigned)code < PROTO_NCODES)
        s->errors[code]++;
    s->texts += texts;
    s->lat[s->next] = latency_ns;
    s->next = (s->next + 1) % WINDOW;
    if (s->nlat < WINDOW)
        s->nlat++;
    pthread_mutex_unlock(&s->lock);
}

void stats_reloaded(struct stats *s)
{
    pthread_mutex_lock(&s->lock);
    s->reloads++;
    pthread_mutex_unlock(&s->lock);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted v[0..n), in milliseconds. */
static double pct_ms(const uint64_t *v, size_t n, double p)
{
    size_t rank;

    if (n == 0)
        return 0;
    rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)v[rank - 1] / 1e6;
}

cJSON *stats_render(struct stats *s)
{
    uint64_t *lat = xmalloc(WINDOW * sizeof *lat);
    cJSON *o = cJSON_CreateObject(), *errors, *l;
    size_t n;

    pthread_mutex_lock(&s->lock);
    n = s->nlat;
    memcpy(lat, s->lat, n * sizeof *lat);
    cJSON_AddNumberToObject(o, "uptime_s", (double)(stats_now_ns() - s->started_ns) / 1e9);
    cJSON_AddNumberToObject(o, "requests", (double)s->requests);
    errors = cJSON_AddObjectToObject(o, "errors");
    for (int c = PROTO_OK + 1; c < PROTO_NCODES; c++)
        cJSON_AddNumberToObject(errors, proto_code_name((enum proto_code)c), (double)s->errors[c]);
    cJSON_AddNumberToObject(o, "texts", (double)s->texts);
    cJSON_AddNumberToObject(o, "reloads", (double)s->reloads);
    pthread_mutex_unlock(&s->lock);
    qsort(lat, n, sizeof *lat, cmp_u64);
    l = cJSON_AddObjectToObject(o, "latency_ms");
    cJSON_AddNumberToObject(l, "p50", pct_ms(lat, n, 50));
    cJSON_AddNumberToObject(l, "p90", pct_ms(lat, n, 90));
    cJSON_AddNumberToObject(l, "p99", pct_ms(lat, n, 99));
    cJSON_AddNumberToObject(l, "max", n ? (double)lat[n - 1] / 1e6 : 0);
    cJSON_AddNumberToObject(l, "window", (double)n);
    free(lat);
    return o;
}
