/*
 * stance: the command-line client of stanced. This file reads the command
 * line, checks that each option suits the subcommand, and hands over to
 * classify.c (the default), admin.c (ping, models, stats, reload) or
 * bench.c (the load generator). Exit codes are enum cli_exit in cli.h.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "conn.h"
#include "keys.h"
#include "xalloc.h"

enum mode { MODE_CLASSIFY, MODE_ADMIN, MODE_BENCH, MODE_KEYGEN };

/* Long-only options get codes above the character range. */
enum {
    OPT_ENDPOINT = 256, OPT_TIMEOUT, OPT_JSON, OPT_MODELS, OPT_SPLIT, OPT_NO_SPLIT,
    OPT_EXPLAIN, OPT_LINES, OPT_COLOR, OPT_NO_COLOR, OPT_BATCH, OPT_DURATION,
    OPT_SERVER_KEY, OPT_KEY, OPT_RETRIES, OPT_OUT,
};

/* Which options each mode accepts, as bits of opt_bit(). */
#define B(x) (1u << ((x) - OPT_ENDPOINT))
#define B_FILE    (1u << 20)
#define B_CLIENTS (1u << 21)
#define B_REQUESTS (1u << 22)
#define COMMON (B(OPT_ENDPOINT) | B(OPT_TIMEOUT) | B(OPT_JSON) | B(OPT_SERVER_KEY) | B(OPT_KEY) | \
                B(OPT_RETRIES))
static const unsigned allowed[] = {
    [MODE_CLASSIFY] = COMMON | B(OPT_MODELS) | B(OPT_SPLIT) | B(OPT_NO_SPLIT) | B(OPT_EXPLAIN) |
                      B(OPT_LINES) | B(OPT_COLOR) | B(OPT_NO_COLOR) | B_FILE,
    [MODE_ADMIN] = COMMON | B(OPT_COLOR) | B(OPT_NO_COLOR),
    [MODE_BENCH] = COMMON | B(OPT_MODELS) | B(OPT_SPLIT) | B(OPT_NO_SPLIT) | B(OPT_BATCH) |
                   B(OPT_DURATION) | B_FILE | B_CLIENTS | B_REQUESTS,
    [MODE_KEYGEN] = B(OPT_OUT),
};

static const struct option long_opts[] = {
    { "endpoint", required_argument, NULL, OPT_ENDPOINT },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "json", no_argument, NULL, OPT_JSON },
    { "models", required_argument, NULL, OPT_MODELS },
    { "split", no_argument, NULL, OPT_SPLIT },
    { "no-split", no_argument, NULL, OPT_NO_SPLIT },
    { "explain", required_argument, NULL, OPT_EXPLAIN },
    { "lines", no_argument, NULL, OPT_LINES },
    { "color", no_argument, NULL, OPT_COLOR },
    { "no-color", no_argument, NULL, OPT_NO_COLOR },
    { "file", required_argument, NULL, 'f' },
    { "clients", required_argument, NULL, 'c' },
    { "requests", required_argument, NULL, 'n' },
    { "batch", required_argument, NULL, OPT_BATCH },
    { "duration", required_argument, NULL, OPT_DURATION },
    { "server-key", required_argument, NULL, OPT_SERVER_KEY },
    { "key", required_argument, NULL, OPT_KEY },
    { "retries", required_argument, NULL, OPT_RETRIES },
    { "out", required_argument, NULL, OPT_OUT },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
    fputs(
"Usage: stance [OPTIONS] [TEXT...]          classify texts\n"
"       stance ping|models|stats|reload [OPTIONS]\n"
"       stance bench [OPTIONS]               load-test a server\n"
"       stance keygen [--out PREFIX]         make a CURVE key pair\n"
"\n"
"Classifies each TEXT argument; or with -f, the whole of FILE as one document;\n"
"or, with neither, all of standard input as one document. Each text is split\n"
"into sentences and every sentence scored, unless --no-split.\n"
"\n"
"Options:\n"
"  --endpoint E     daemon address (default: $STANCE_ENDPOINT, else\n"
"                   " CLI_DEFAULT_ENDPOINT ")\n"
"  --timeout MS     wait at most MS milliseconds for each reply (default 5000)\n"
"  --retries N      after a timeout, send again on a fresh connection up to N\n"
"                   times (default 3; bench does not retry)\n"
"  --server-key K   the daemon's public key, a Z85 key or a file: talk CURVE\n"
"                   (default $STANCE_SERVER_KEY); needs --key\n"
"  --key FILE       our secret key file, from stance keygen, mode 0600\n"
"                   (default $STANCE_KEY)\n"
"  --json           one JSON object per line and text, even on a terminal\n"
"  -f, --file FILE  classify FILE as one text (- is standard input); repeatable\n"
"  --lines          each line of FILE or standard input is one text\n"
"  --models A,B     apply these models (default: all the daemon has loaded)\n"
"  --no-split       score each text as one unit, not sentence by sentence\n"
"  --explain K      show the K n-grams for and against each label\n"
"  --color          readable, coloured output even when not on a terminal\n"
"  --no-color       no colour (default: colour on a terminal unless NO_COLOR\n"
"                   is set)\n"
"  -h, --help       show this help\n"
"  -V, --version    show the version\n"
"\n"
"Subcommands (the first word that is not an option; use -- before a text\n"
"such as \"ping\" to classify it):\n"
"  ping             check that the daemon answers\n"
"  models           list the loaded models with their labels and figures\n"
"  stats            show the daemon's counters and latencies\n"
"  reload           ask the daemon to reload its models and authorized keys\n"
"  bench            load generator; options:\n"
"    -c, --clients N      concurrent clients, each a thread (default 4)\n"
"    -n, --requests M     requests in all (default 10000; none with --duration)\n"
"    --batch B            texts per request (default 1)\n"
"    -f, --file F         sentences, one a line, sent in turn (default: a few)\n"
"    --split, --no-split  ask for sentence splitting or not (default: server's)\n"
"    --duration S         stop after S seconds\n"
"    --json               print the figures as one JSON object\n"
"  keygen           write a CURVE key pair: PREFIX.key (secret, mode 0600)\n"
"                   and PREFIX.pub (public); --out PREFIX, default \"stance\"\n"
"\n"
"Output is readable on a terminal and JSON Lines otherwise; each JSON line is\n"
"the daemon's result with \"index\" (and \"line\" with --lines) added.\n"
"\n"
"Exit status:\n"
"  0  success\n"
"  1  usage error or unreadable input\n"
"  2  the daemon did not answer within the timeout\n"
"  3  the daemon replied with an error, or a reply broke the protocol\n"
"     (bench: some request failed or timed out)\n", out);
}

/* Prints "stance: MESSAGE" and the pointer to --help; returns CLI_USAGE. */
__attribute__((format(printf, 1, 2)))
static int misuse(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("stance: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'stance --help' for more information.\n", stderr);
    return CLI_USAGE;
}

/* Parses a whole decimal number in [lo, hi]. Returns 0, or -1. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Splits "a,b" into o->models. Returns 0, or -1 on an empty name. */
static int parse_models(struct cli_opts *o, const char *arg)
{
    const char *p = arg;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0)
            return -1;
        o->models = xrealloc(o->models, (o->n_models + 1) * sizeof *o->models);
        o->models[o->n_models++] = xstrndup(p, n);
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* The long name of the option whose code is c (every option has one). */
static const char *long_name(int c)
{
    for (const struct option *lo = long_opts; lo->name; lo++)
        if (lo->val == c)
            return lo->name;
    return "?";
}

/* Sets *mode and *op if word names a subcommand; returns whether it does. */
static int subcommand(const char *word, enum mode *mode, const char **op)
{
    static const char *const admin_ops[] = { "ping", "models", "stats", "reload" };
    for (size_t i = 0; i < sizeof admin_ops / sizeof admin_ops[0]; i++)
        if (strcmp(word, admin_ops[i]) == 0) {
            *mode = MODE_ADMIN;
            *op = admin_ops[i];
            return 1;
        }
    if (strcmp(word, "bench") == 0) {
        *mode = MODE_BENCH;
        *op = "bench";
        return 1;
    }
    if (strcmp(word, "keygen") == 0) {
        *mode = MODE_KEYGEN;
        *op = "keygen";
        return 1;
    }
    return 0;
}

static const char *mode_name(enum mode m, const char *op)
{
    return m == MODE_CLASSIFY ? "classifying" : op;
}

static void opts_free(struct cli_opts *o)
{
    for (size_t i = 0; i < o->n_models; i++)
        free(o->models[i]);
    free(o->models);
    free(o->inputs);
}

/* Fills o and the mode from argv. Returns -1 when the caller should carry
 * on, otherwise the exit code (after --help, --version or a misuse). */
static int parse(int argc, char **argv, struct cli_opts *o, enum mode *mode, const char **op)
{
    unsigned seen = 0;
    int operands = 0;
    const char *seen_name[32] = { 0 }; /* long names by bit number, for messages */
    long v;
    *mode = MODE_CLASSIFY;
    *op = NULL;
    o->inputs = xcalloc((size_t)argc, sizeof *o->inputs);

    /* A leading '-' makes getopt return operands in place (as code 1), so
     * that the first operand can name a subcommand whatever options come
     * before it, and TEXT arguments keep their order among -f files. */
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "-:f:c:n:hV", long_opts, NULL)) != -1) {
        unsigned bit = 0;
        const char *name = long_name(c);
        switch (c) {
        case 1:
            /* The first operand may name a subcommand; later ones are texts. */
            if (!operands++ && *mode == MODE_CLASSIFY && subcommand(optarg, mode, op))
                break;
            if (*mode != MODE_CLASSIFY)
                return misuse("unexpected argument '%s'", optarg);
            o->inputs[o->n_inputs++].text = optarg;
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        case 'V':
            printf("stance %s (protocol 1)\n", CLI_VERSION);
            return CLI_OK;
        case ':':
            return misuse("option --%s needs a value", long_name(optopt));
        case '?':
            if (optopt > 255)
                return misuse("option --%s takes no value", long_name(optopt));
            if (optopt) {
                char opt[2] = { (char)optopt, '\0' };
                return misuse("unknown option -%s", opt);
            }
            return misuse("unknown option %s", argv[optind - 1]);
        case OPT_ENDPOINT:
            o->endpoint = optarg;
            bit = B(c);
            break;
        case OPT_TIMEOUT:
            if (parse_long(optarg, 1, 3600000, &v))
                return misuse("--timeout needs milliseconds from 1 to 3600000, not '%s'", optarg);
            o->timeout_ms = (int)v;
            bit = B(c);
            break;
        case OPT_JSON:
            o->json = 1;
            bit = B(c);
            break;
        case OPT_SERVER_KEY:
            o->server_key = optarg;
            bit = B(c);
            break;
        case OPT_KEY:
            o->key = optarg;
            bit = B(c);
            break;
        case OPT_OUT:
            o->out = optarg;
            bit = B(c);
            break;
        case OPT_RETRIES:
            if (parse_long(optarg, 0, 100, &v))
                return misuse("--retries needs a number from 0 to 100, not '%s'", optarg);
            o->retries = (int)v;
            bit = B(c);
            break;
        case OPT_MODELS:
            if (parse_models(o, optarg))
                return misuse("--models needs comma-separated names, not '%s'", optarg);
            bit = B(c);
            break;
        case OPT_SPLIT:
        case OPT_NO_SPLIT:
            o->split = c == OPT_SPLIT;
            bit = B(c);
            break;
        case OPT_EXPLAIN:
            if (parse_long(optarg, 0, 1000, &v))
                return misuse("--explain needs a count from 0 to 1000, not '%s'", optarg);
            o->explain = (int)v;
            bit = B(c);
            break;
        case OPT_LINES:
            o->lines = 1;
            bit = B(c);
            break;
        case OPT_COLOR:
        case OPT_NO_COLOR:
            o->color = c == OPT_COLOR;
            bit = B(c);
            break;
        case 'f':
            o->inputs[o->n_inputs++].path = optarg;
            bit = B_FILE;
            break;
        case 'c':
            if (parse_long(optarg, 1, 1024, &v))
                return misuse("--clients needs a number from 1 to 1024, not '%s'", optarg);
            o->clients = (int)v;
            bit = B_CLIENTS;
            break;
        case 'n':
            if (parse_long(optarg, 1, 1000000000, &v))
                return misuse("--requests needs a number from 1 to 1000000000, not '%s'", optarg);
            o->requests = v;
            bit = B_REQUESTS;
            break;
        case OPT_BATCH:
            if (parse_long(optarg, 1, 100000, &v))
                return misuse("--batch needs a number from 1 to 100000, not '%s'", optarg);
            o->batch = (int)v;
            bit = B(c);
            break;
        case OPT_DURATION: {
            char *end;
            double d = strtod(optarg, &end);
            if (end == optarg || *end || !(d > 0 && d <= 86400))
                return misuse("--duration needs seconds, more than 0 and at most 86400, not '%s'",
                              optarg);
            o->duration = d;
            bit = B(c);
            break;
        }
        }
        if (bit) {
            seen |= bit;
            seen_name[__builtin_ctz(bit)] = name;
        }
    }
    /* Operands after "--" are always texts. */
    for (int i = optind; i < argc; i++) {
        if (*mode != MODE_CLASSIFY)
            return misuse("unexpected argument '%s'", argv[i]);
        o->inputs[o->n_inputs++].text = argv[i];
    }
    /* Checked at the end: an option may come before the subcommand. */
    unsigned bad = seen & ~allowed[*mode];
    if (bad) {
        return misuse("--%s does not apply to %s", seen_name[__builtin_ctz(bad)],
                      mode_name(*mode, *op));
    }
    if (*mode == MODE_BENCH && o->n_inputs > 1)
        return misuse("bench takes one --file");
    return -1;
}

/* Reads the keys named by --server-key and --key (or the environment)
 * into sec and points o->security at it. Returns -1 when there are none,
 * otherwise an exit code: CLI_OK, or CLI_USAGE after saying what is wrong. */
static int read_keys(struct cli_opts *o, struct conn_security *sec)
{
    char err[512];

    if (!o->server_key && !o->key)
        return -1;
    if (!o->server_key || !o->key) {
        fprintf(stderr, "stance: CURVE needs both the server's public key (--server-key) and "
                        "our secret key (--key)\n");
        return CLI_USAGE;
    }
    if (key_read_arg(o->server_key, sec->server, err, sizeof err) < 0 ||
        key_read_file(o->key, 1, sec->secret, err, sizeof err) < 0) {
        fprintf(stderr, "stance: %s\n", err);
        return CLI_USAGE;
    }
    if (key_public_of(sec->secret, sec->public) < 0) {
        fprintf(stderr, "stance: this libzmq has no CURVE support\n");
        return CLI_USAGE;
    }
    o->security = sec;
    return CLI_OK;
}

int main(int argc, char **argv)
{
    const char *env = getenv("STANCE_ENDPOINT");
    const char *env_server_key = getenv("STANCE_SERVER_KEY"), *env_key = getenv("STANCE_KEY");
    struct conn_security sec;
    struct cli_opts o = {
        .endpoint = env && *env ? env : CLI_DEFAULT_ENDPOINT,
        .timeout_ms = CLI_DEFAULT_TIMEOUT_MS,
        .retries = CLI_DEFAULT_RETRIES,
        .server_key = env_server_key && *env_server_key ? env_server_key : NULL,
        .key = env_key && *env_key ? env_key : NULL,
        .color = -1,
        .split = -1,
        .clients = 4,
        .batch = 1,
    };
    /* cJSON allocates through xmalloc, so no cJSON call returns NULL for
     * want of memory and call sites need not check. */
    static cJSON_Hooks hooks = { .malloc_fn = xmalloc, .free_fn = free };
    cJSON_InitHooks(&hooks);
    enum mode mode;
    const char *op;
    int rc = parse(argc, argv, &o, &mode, &op);
    if (rc < 0 && mode == MODE_KEYGEN)
        rc = keygen_run(&o);
    if (rc < 0 && (rc = read_keys(&o, &sec)) <= 0) {
        if (mode == MODE_BENCH && !o.requests && !o.duration)
            o.requests = 10000;
        rc = mode == MODE_ADMIN ? admin_run(op, &o)
           : mode == MODE_BENCH ? bench_run(&o)
           : classify_run(&o);
    }
    opts_free(&o);
    return rc;
}
