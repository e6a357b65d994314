/*
 * conf: stanced's configuration, read from YAML. One struct holds every
 * setting; its defaults live in conf_defaults() and one table in conf.c
 * drives the loader, so adding a key is one line there plus one line of
 * documentation in config/stanced.yaml. Anything the loader does not
 * recognise is an error naming the file and line.
 */
#ifndef STANCE_CONF_H
#define STANCE_CONF_H

#include <stddef.h>

enum conf_log_level { CONF_LOG_ERROR, CONF_LOG_WARN, CONF_LOG_INFO, CONF_LOG_DEBUG };

struct conf_limits {
    size_t max_message_bytes;  /* one request; also the socket's ZMQ_MAXMSGSIZE */
    size_t max_texts;          /* entries of one `texts` batch */
    size_t max_text_bytes;     /* one text */
    size_t max_json_depth;     /* nesting of arrays and objects in a request */
    size_t max_queue;          /* requests waiting for a worker before `busy` */
    size_t max_sentences;      /* sentences of one request, all texts together */
};

struct conf_model {
    char *name;  /* what clients ask for */
    char *dir;   /* bundle directory, absolute or relative to the working directory */
};

struct conf {
    char *path;                 /* the file loaded, NULL for pure defaults */
    char **endpoints;           /* ZeroMQ endpoints to bind */
    size_t n_endpoints;
    int workers;
    enum conf_log_level log_level;
    struct conf_limits limits;
    struct conf_model *models;  /* in the config's order, names unique */
    size_t n_models;
};

/* A configuration holding only the defaults (one endpoint, workers = the
 * number of online processors, no models). Caller owns the result; free
 * with conf_free(). */
struct conf *conf_defaults(void);

/* Reads the YAML file at path over the defaults. Model directories that are
 * relative are resolved against the directory of path. Returns NULL and
 * fills err with "FILE:LINE: message" on an unreadable file, a YAML syntax
 * error, an unknown key, a wrong type, an out-of-range value or a
 * duplicate model name. Caller owns the result; free with conf_free(). */
struct conf *conf_load(const char *path, char *err, size_t errlen);

/* Frees *c and sets *c to NULL. Accepts NULL and *c == NULL. */
void conf_free(struct conf **c);

/* "error", "warn", "info" or "debug"; a static string. */
const char *conf_log_level_name(enum conf_log_level level);

#endif
