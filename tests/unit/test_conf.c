/*
 * test_conf: the YAML loader. Good files, the defaults, relative model
 * paths, and one bad file per kind of mistake, each of which must be
 * refused with the file name and the line of the mistake.
 */
#include "check.h"
#include "conf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/test_conf_XXXXXX";
static char path[256];

static struct conf *load(const char *text, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return conf_load(path, err, errlen);
}

static void defaults(void)
{
    struct conf *c = conf_defaults();

    CHECK(c->n_endpoints == 1);
    CHECK_STR(c->endpoints[0], "tcp://127.0.0.1:5555");
    /* one worker per core and a spare (this machine has far fewer cores
     * than the cap) */
    CHECK(c->workers == sysconf(_SC_NPROCESSORS_ONLN) + 1);
    CHECK(c->log_level == CONF_LOG_INFO);
    CHECK(c->limits.max_message_bytes > c->limits.max_text_bytes);
    CHECK(c->n_models == 0);
    conf_free(&c);
    CHECK(c == NULL);
    conf_free(&c);
    conf_free(NULL);
}

static void good(void)
{
    char err[512], want[300];
    struct conf *c = load("# comment\n"
                          "endpoints:\n  - tcp://127.0.0.1:7001\n  - ipc:///tmp/x.sock\n"
                          "workers: 3\nlog_level: debug\n"
                          "limits:\n  max_texts: 7\n  max_queue: 9\n"
                          "models:\n  stance: ../m/stance\n  other: /abs/other\n", err, sizeof err);

    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK(c->n_endpoints == 2);
    CHECK_STR(c->endpoints[1], "ipc:///tmp/x.sock");
    CHECK(c->workers == 3);
    CHECK(c->log_level == CONF_LOG_DEBUG);
    CHECK(c->limits.max_texts == 7);
    CHECK(c->limits.max_queue == 9);
    CHECK(c->limits.max_json_depth == 16);  /* untouched keys keep their default */
    CHECK(c->n_models == 2);
    CHECK_STR(c->models[0].name, "stance");
    snprintf(want, sizeof want, "%s/../m/stance", dir);
    CHECK_STR(c->models[0].dir, want);
    CHECK_STR(c->models[1].dir, "/abs/other");
    CHECK_STR(c->path, path);
    conf_free(&c);

    c = load("models:\n  - a: x\n  - b: y\n", err, sizeof err);
    CHECK(c && c->n_models == 2);
    if (c)
        CHECK_STR(c->models[1].name, "b");
    conf_free(&c);
}

/* The file must be refused with "PATH:LINE:" and word in the message. */
static void bad(const char *text, int line, const char *word)
{
    char err[512], where[300];
    struct conf *c = load(text, err, sizeof err);

    CHECK(c == NULL);
    conf_free(&c);
    snprintf(where, sizeof where, "%s:%d:", path, line);
    if (!strstr(err, where) || !strstr(err, word))
        fprintf(stderr, "for %s\n  got: %s\n  want %s and %s\n", text, err, where, word);
    CHECK(strstr(err, where) != NULL);
    CHECK(strstr(err, word) != NULL);
}

static void bad_files(void)
{
    bad("models:\n  a: x\nworkerz: 2\n", 3, "unknown key \"workerz\"");
    bad("models:\n  a: x\nworkers: 0\n", 3, "between 1 and");
    bad("models:\n  a: x\nworkers: 1000\n", 3, "between 1 and");
    bad("models:\n  a: x\nworkers: \"2\"\n", 3, "integer");
    bad("models:\n  a: x\nworkers: 2.5\n", 3, "integer");
    bad("models:\n  a: x\nworkers: [2]\n", 3, "scalar");
    bad("models:\n  a: x\nlimits:\n  max_texts: 99999999999999999999999\n", 4, "max_texts");
    bad("models:\n  a: x\nlimits:\n  max_text_bytes: -5\n", 4, "integer");
    bad("models:\n  a: x\nlimits:\n  max_json_depth: 1\n", 4, "between 2 and");
    bad("models:\n  a: x\nlimits:\n  nope: 1\n", 4, "unknown key \"nope\" in limits");
    bad("models:\n  a: x\nlimits: 5\n", 3, "mapping");
    bad("models:\n  a: x\nlog_level: verbose\n", 3, "log_level");
    bad("models:\n  a: x\nendpoints: tcp://127.0.0.1:1\n", 3, "list");
    bad("models:\n  a: x\nendpoints: []\n", 3, "between 1 and");
    bad("models:\n  a: x\nendpoints:\n  - localhost:5\n", 4, "transport://");
    bad("models:\n  a: x\n  a: y\n", 3, "listed twice");
    bad("models:\n  - a: x\n  - a: y\n", 3, "listed twice");
    bad("models:\n  - a\n", 2, "one \"name: directory\" pair");
    bad("models:\n  \"bad name\": x\n", 2, "model name");
    bad("models:\n  a: \"\"\n", 2, "empty directory");
    bad("models: {}\n", 1, "no model");
    bad("workers: 2\n", 1, "models");
    bad("", 1, "empty");
    bad("models:\n  a: x\nworkers: 2\nworkers: 3\n", 4, "given twice");
    bad("models:\n  a: [x\n", 3, "YAML syntax error");
    bad("- just\n- a list\n", 1, "mapping");
    bad("models:\n  a: x\n---\nworkers: 2\n", 4, "one YAML document");
}

static void unreadable(void)
{
    char err[512];
    struct conf *c = conf_load("/nonexistent/stanced.yaml", err, sizeof err);

    CHECK(c == NULL);
    CHECK(strstr(err, "/nonexistent/stanced.yaml") != NULL);
}

static void shipped_config(void)
{
    char err[512];
    struct conf *c = conf_load("config/stanced.yaml", err, sizeof err);

    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK(c->n_models == 2);
    CHECK_STR(c->models[0].name, "stance");
    CHECK_STR(c->models[0].dir, "config/../models/stance");
    conf_free(&c);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/stanced.yaml", dir);
    defaults();
    good();
    bad_files();
    unreadable();
    shipped_config();
    unlink(path);
    rmdir(dir);
    return check_report("test_conf");
}
