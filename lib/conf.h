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

/* `security:` CURVE on every socket. Paths are resolved against the
 * config's directory; the files are read by the program, not here. */
struct conf_security {
    char *secret_key;          /* this process's secret key file; NULL: no security */
    char *authorized_keys;     /* the public keys admitted; NULL only when nothing is bound */
};

/* `broker:` what `stanced --broker` binds. */
struct conf_broker {
    char **frontend;           /* endpoints for clients */
    size_t n_frontend;
    char *backend;             /* the endpoint daemons connect to */
    int heartbeat_ms;          /* interval of the broker's heartbeats to each daemon */
    int liveness;              /* heartbeats a daemon may miss before it is dropped */
};

/* `upstream:` the broker a daemon serves through. */
struct conf_upstream {
    char *endpoint;            /* the broker's back end; NULL: no upstream */
    char *server_key;          /* the broker's public key: a Z85 key or a file */
    char *name;                /* how the broker calls this daemon; NULL: host:pid */
    int heartbeat_ms;
    int liveness;
};

struct conf {
    char *path;                 /* the file loaded, NULL for pure defaults */
    char **endpoints;           /* ZeroMQ endpoints to bind; none only with an upstream */
    size_t n_endpoints;
    int allow_plaintext_network; /* without security, bind and connect beyond loopback anyway */
    int has_security, has_broker, has_upstream;  /* the section was given */
    struct conf_security security;
    struct conf_broker broker;
    struct conf_upstream upstream;
    int workers;
    enum conf_log_level log_level;
    struct conf_limits limits;
    struct conf_model *models;  /* in the config's order, names unique */
    size_t n_models;
};

/* A configuration holding only the defaults (one endpoint, workers = the
 * number of online processors plus one, no models). Caller owns the result; free
 * with conf_free(). */
struct conf *conf_defaults(void);

/* Reads the YAML file at path over the defaults. Model directories and key
 * files that are relative are resolved against the directory of path.
 * Returns NULL and fills err with "FILE:LINE: message" on an unreadable
 * file, a YAML syntax error, an unknown key, a wrong type, an out-of-range
 * value, a duplicate model name, or settings that do not fit together: no
 * models outside a broker, a security section without its files, and,
 * without security, an endpoint beyond loopback unless
 * allow_plaintext_network is true. Caller owns the result; free with conf_free(). */
struct conf *conf_load(const char *path, char *err, size_t errlen);

/* 1 when endpoint stays on this machine: ipc://, inproc://, or tcp:// on
 * a loopback address (127.x.y.z, [::1], localhost, lo). */
int conf_endpoint_is_local(const char *endpoint);

/* Frees *c and sets *c to NULL. Accepts NULL and *c == NULL. */
void conf_free(struct conf **c);

/* "error", "warn", "info" or "debug"; a static string. */
const char *conf_log_level_name(enum conf_log_level level);

#endif
