/*
 * stanced: the stance classification daemon. Reads the config, loads every
 * model bundle, then serves docs/protocol.md over ZeroMQ until SIGTERM or
 * SIGINT. Each start-up failure has its own exit code (see usage()).
 */
#include "conf.h"
#include "log.h"
#include "models.h"
#include "proto.h"
#include "server.h"
#include "sig.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STANCED_VERSION "0.1.0"
#define DEFAULT_CONFIG "config/stanced.yaml"

enum exit_code {
    EXIT_OK = 0,
    EXIT_FAILURE_RUNTIME = 1,   /* failed after start-up */
    EXIT_USAGE = 2,
    EXIT_CONFIG = 3,            /* the config file is missing or wrong */
    EXIT_MODELS = 4,            /* a model bundle failed to load */
    EXIT_BIND = 5               /* an endpoint could not be bound */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: stanced [--config FILE]\n"
            "       stanced --help | --version\n"
            "\n"
            "Serves stance classification over ZeroMQ (docs/protocol.md).\n"
            "\n"
            "  --config FILE  the YAML config (default %s)\n"
            "  --help         this text\n"
            "  --version      the program and protocol versions\n"
            "\n"
            "Signals: SIGHUP reloads the models, SIGTERM and SIGINT stop.\n"
            "Exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage,\n"
            "3 config error, 4 model load error, 5 bind error.\n",
            DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
    const char *config = DEFAULT_CONFIG;
    struct server srv;
    struct conf *conf;
    char err[1024];
    enum server_status st;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("stanced %s (protocol %d)\n", STANCED_VERSION, PROTO_VERSION);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config = argv[i] + 9;
        } else {
            fprintf(stderr, "stanced: unexpected argument \"%s\"\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!(conf = conf_load(config, err, sizeof err))) {
        fprintf(stderr, "stanced: config error: %s\n", err);
        return EXIT_CONFIG;
    }
    log_set_level(conf->log_level);
    memset(&srv, 0, sizeof srv);
    srv.conf = conf;
    /* Handlers first, so a SIGTERM during the (slow) model loading is kept
     * for the broker instead of killing the process half-way. */
    if ((srv.signal_fd = sig_init(err, sizeof err)) < 0) {
        log_error("%s", err);
        conf_free(&conf);
        return EXIT_FAILURE_RUNTIME;
    }
    if (!(srv.models = registry_new(conf, err, sizeof err))) {
        log_error("cannot load models: %s", err);
        conf_free(&conf);
        return EXIT_MODELS;
    }
    for (size_t i = 0; i < conf->n_models; i++)
        log_info("loaded model %s from %s", conf->models[i].name, conf->models[i].dir);
    srv.stats = stats_new();
    st = server_run(&srv, err, sizeof err);
    if (st != SERVER_OK)
        log_error("%s", err);
    else
        log_info("stopped");
    stats_free(&srv.stats);
    registry_free(&srv.models);
    close(srv.signal_fd);
    conf_free(&conf);
    return st == SERVER_OK ? EXIT_OK : st == SERVER_BIND_FAILED ? EXIT_BIND : EXIT_FAILURE_RUNTIME;
}
