/*
 * stanced: the stance classification daemon. Reads the config and the
 * CURVE keys, loads every model bundle, then serves docs/protocol.md over
 * ZeroMQ until SIGTERM or SIGINT. With --broker it serves no models but
 * spreads requests over the daemons that connect to it (broker.h). Each
 * start-up failure has its own exit code (see usage()).
 */
#include "broker.h"
#include "conf.h"
#include "keys.h"
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
            "usage: stanced [--broker] [--config FILE]\n"
            "       stanced --help | --version\n"
            "\n"
            "Serves stance classification over ZeroMQ (docs/protocol.md).\n"
            "\n"
            "  --config FILE  the YAML config (default %s)\n"
            "  --broker       run as a broker in front of many daemons (the config's\n"
            "                 broker section; docs/deploy.md)\n"
            "  --help         this text\n"
            "  --version      the program and protocol versions\n"
            "\n"
            "Signals: SIGHUP reloads the models and the authorized keys,\n"
            "SIGTERM and SIGINT stop.\n"
            "Exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage,\n"
            "3 config or key file error, 4 model load error, 5 bind error.\n",
            DEFAULT_CONFIG);
}

/* Reads the key files the config names into srv. Returns 0, or -1 with
 * err filled. */
static int load_keys(struct server *srv, char *err, size_t errlen)
{
    const struct conf *c = srv->conf;
    struct keyring *keys;

    if (!c->has_security)
        return 0;
    if (key_read_file(c->security.secret_key, 1, srv->secret, err, errlen) < 0)
        return -1;
    if (key_public_of(srv->secret, srv->public) < 0) {
        snprintf(err, errlen, "this libzmq has no CURVE support; security needs it");
        return -1;
    }
    if (c->security.authorized_keys) {
        if (!(keys = keyring_load(c->security.authorized_keys, err, errlen)))
            return -1;
        srv->keys = zap_keys_new(&keys, c->security.authorized_keys);
    }
    if (c->has_upstream && key_read_arg(c->upstream.server_key, srv->upstream_key, err, errlen) < 0)
        return -1;
    return 0;
}

static void log_security(const struct server *srv)
{
    const struct conf *c = srv->conf;
    char z85[KEY_Z85_LEN + 1], summary[128];

    if (c->has_security) {
        key_to_z85(srv->public, z85);
        log_info("security: CURVE on every endpoint; this server's public key is %s", z85);
        if (srv->keys) {
            zap_keys_summary(srv->keys, summary, sizeof summary);
            log_info("security: %s from %s", summary, c->security.authorized_keys);
        }
    } else if (c->allow_plaintext_network) {
        log_warn("security: none, and allow_plaintext_network is true: anyone who can reach an "
                 "endpoint is served unencrypted, admin ops included");
    } else {
        log_info("security: none; plaintext on loopback and ipc only, every client may use the admin ops");
    }
}

int main(int argc, char **argv)
{
    const char *config = DEFAULT_CONFIG;
    struct server srv;
    struct conf *conf;
    char err[1024];
    enum server_status st;
    int broker = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("stanced %s (protocol %d)\n", STANCED_VERSION, PROTO_VERSION);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--broker") == 0) {
            broker = 1;
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
    if (broker != conf->has_broker) {
        fprintf(stderr, "stanced: config error: %s: %s\n", config,
                broker ? "--broker needs a broker section (docs/deploy.md)"
                       : "this is a broker's config (it has a broker section): run stanced --broker");
        conf_free(&conf);
        return EXIT_CONFIG;
    }
    log_set_level(conf->log_level);
    memset(&srv, 0, sizeof srv);
    srv.conf = conf;
    if (load_keys(&srv, err, sizeof err) < 0) {
        fprintf(stderr, "stanced: key error: %s\n", err);
        zap_keys_free(&srv.keys);
        conf_free(&conf);
        return EXIT_CONFIG;
    }
    log_security(&srv);
    /* Handlers first, so a SIGTERM during the (slow) model loading is kept
     * for the broker instead of killing the process half-way. */
    if ((srv.signal_fd = sig_init(err, sizeof err)) < 0) {
        log_error("%s", err);
        zap_keys_free(&srv.keys);
        conf_free(&conf);
        return EXIT_FAILURE_RUNTIME;
    }
    if (broker) {
        srv.stats = stats_new();
        st = broker_run(&srv, err, sizeof err);
        if (st != SERVER_OK)
            log_error("%s", err);
        else
            log_info("stopped");
        stats_free(&srv.stats);
        close(srv.signal_fd);
        zap_keys_free(&srv.keys);
        conf_free(&conf);
        return st == SERVER_OK ? EXIT_OK : st == SERVER_BIND_FAILED ? EXIT_BIND : EXIT_FAILURE_RUNTIME;
    }
    if (!(srv.models = registry_new(conf, err, sizeof err))) {
        log_error("cannot load models: %s", err);
        zap_keys_free(&srv.keys);
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
    zap_keys_free(&srv.keys);
    conf_free(&conf);
    return st == SERVER_OK ? EXIT_OK : st == SERVER_BIND_FAILED ? EXIT_BIND : EXIT_FAILURE_RUNTIME;
}
