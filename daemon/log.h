/*
 * log: one line per event on stderr, filtered by the configured level. The
 * level is set once at start-up, before any thread exists; after that the
 * functions are safe to call from any thread (stdio locks each line).
 */
#ifndef STANCED_LOG_H
#define STANCED_LOG_H

#include "conf.h"

/* Sets the lowest level that is written. Call before starting threads. */
void log_set_level(enum conf_log_level level);

/* 1 when messages of this level are written, so callers can skip the work
 * of building a message nobody will read. */
int log_enabled(enum conf_log_level level);

/* Writes "TIME LEVEL message" as one line when level is enabled. */
void log_msg(enum conf_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(CONF_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(CONF_LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(CONF_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(CONF_LOG_DEBUG, __VA_ARGS__)

#endif
