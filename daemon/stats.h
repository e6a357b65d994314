/*
 * stats: the counters behind {"op":"stats"}. Updated by the broker and the
 * workers under one mutex; latencies are kept for the most recent requests
 * only, so percentiles describe current behaviour in bounded memory.
 */
#ifndef STANCED_STATS_H
#define STANCED_STATS_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "proto.h"

struct stats;

/* Caller owns the result; free with stats_free(). */
struct stats *stats_new(void);

/* Frees *s and sets *s to NULL. Accepts NULL. */
void stats_free(struct stats **s);

/* Counts one answered request: its outcome code (PROTO_OK for success),
 * the number of texts it classified and its latency from arrival to reply
 * in nanoseconds. */
void stats_record(struct stats *s, enum proto_code code, size_t texts, uint64_t latency_ns);

/* Counts one successful reload. */
void stats_reloaded(struct stats *s);

/* {"uptime_s", "requests", "errors": {code: n}, "texts", "reloads",
 * "latency_ms": {"p50", "p90", "p99", "max", "window"}}. Caller owns it. */
cJSON *stats_render(struct stats *s);

/* Monotonic clock in nanoseconds. */
uint64_t stats_now_ns(void);

#endif
