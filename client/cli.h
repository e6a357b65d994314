/*
 * cli: what the modules of the `stance` client share: its exit codes and the
 * parsed command line. main.c fills a struct cli_opts; classify.c, admin.c
 * and bench.c each read it and return one of the exit codes below.
 */
#ifndef STANCE_CLI_H
#define STANCE_CLI_H

#include <stddef.h>

#define CLI_VERSION "0.1.0"
#define CLI_DEFAULT_ENDPOINT "tcp://127.0.0.1:5555"
#define CLI_DEFAULT_TIMEOUT_MS 5000
#define CLI_DEFAULT_RETRIES 3

/* The exit codes, documented in --help and docs/client.md. */
enum cli_exit {
    CLI_OK = 0,          /* every request answered without error */
    CLI_USAGE = 1,       /* bad command line or unreadable input */
    CLI_UNREACHABLE = 2, /* no reply from the daemon within the timeout */
    CLI_ERROR_REPLY = 3, /* the daemon replied with an error, or not per the protocol */
};

/* One input in command-line order: a TEXT argument, or a file to read
 * ("-" is stdin). */
struct cli_input {
    const char *text; /* set for a TEXT argument */
    const char *path; /* set for -f/--file */
};

struct conn_security;

struct cli_opts {
    const char *endpoint;
    int timeout_ms;
    int retries;       /* --retries: tries after the first that timed out */
    const char *server_key;  /* --server-key FILE|Z85, or $STANCE_SERVER_KEY */
    const char *key;         /* --key FILE (our secret key), or $STANCE_KEY */
    const struct conn_security *security;  /* both keys read, or NULL: plaintext */
    const char *out;   /* keygen --out PREFIX */
    int json;          /* --json */
    int color;         /* -1 auto, 0 --no-color, 1 --color (readable output even off a terminal) */
    int split;         /* -1 the daemon's default, 0 --no-split, 1 --split */
    int explain;       /* --explain K */
    int lines;         /* --lines: each line of a file or stdin is one text */
    char **models;     /* --models a,b: names, or NULL for the daemon's default */
    size_t n_models;

    struct cli_input *inputs;
    size_t n_inputs;

    /* bench only */
    int clients;
    long requests;     /* total over all clients; 0 means bounded by duration only */
    int batch;
    double duration;   /* seconds; 0 means bounded by requests only */
};

/* The subcommands; each returns an enum cli_exit. */
int classify_run(const struct cli_opts *o);
int admin_run(const char *op, const struct cli_opts *o);
int bench_run(const struct cli_opts *o);
int keygen_run(const struct cli_opts *o);

#endif
