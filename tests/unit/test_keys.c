/*
 * test_keys: CURVE key files, the authorized-keys list, and the config
 * sections built on them (security, broker, upstream, the plaintext rule).
 * Every refusal must name the file and, where there is one, the line.
 */
#include "check.h"
#include "conf.h"
#include "keys.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static char dir[] = "/tmp/test_keys_XXXXXX";

static const char *file(const char *name, const char *text, int mode)
{
    static char p[4][300];
    static int turn;
    char *path = p[turn++ % 4];
    FILE *f;

    snprintf(path, 300, "%s/%s", dir, name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
    return path;
}

static char pub_z[41], sec_z[41], pub2_z[41], sec2_z[41];

static void z85(void)
{
    unsigned char k[KEY_BYTES], p[KEY_BYTES];
    char back[41];

    CHECK(key_from_z85(pub_z, 40, k));
    key_to_z85(k, back);
    CHECK_STR(back, pub_z);
    CHECK(!key_from_z85(pub_z, 39, NULL));
    CHECK(!key_from_z85("0123456789012345678901234567890123456 78", 40, NULL));
    CHECK(!key_from_z85("~123456789012345678901234567890123456789", 40, NULL));
    CHECK(key_from_z85(sec_z, 40, k));
    CHECK(key_public_of(k, p) == 0);
    key_to_z85(p, back);
    CHECK_STR(back, pub_z);
}

static void key_files(void)
{
    unsigned char k[KEY_BYTES];
    char err[512], text[300], *s;
    const char *path;

    snprintf(text, sizeof text, "# a secret key\n\n%s\n", sec_z);
    path = file("s.key", text, 0600);
    CHECK(key_read_file(path, 1, k, err, sizeof err) == 0);
    path = file("s.key", text, 0640);
    CHECK(key_read_file(path, 1, k, err, sizeof err) < 0);
    CHECK(strstr(err, "chmod 600") && strstr(err, path) && strstr(err, "0640"));
    CHECK(key_read_file(path, 0, k, err, sizeof err) == 0);  /* public files may be shared */
    path = file("bad.key", "# x\nnot-a-key\n", 0600);
    CHECK(key_read_file(path, 1, k, err, sizeof err) < 0);
    CHECK((s = strstr(err, ":2: ")) != NULL && strstr(err, "Z85"));
    snprintf(text, sizeof text, "%s\n%s\n", pub_z, pub2_z);
    path = file("two.pub", text, 0644);
    CHECK(key_read_file(path, 0, k, err, sizeof err) < 0);
    CHECK(strstr(err, ":2: ") != NULL);
    path = file("empty.pub", "# nothing\n", 0644);
    CHECK(key_read_file(path, 0, k, err, sizeof err) < 0);
    CHECK(strstr(err, "no key") != NULL);
    CHECK(key_read_file("/nonexistent/x.key", 1, k, err, sizeof err) < 0);
    CHECK(strstr(err, "/nonexistent/x.key") != NULL);
    CHECK(key_read_arg(pub_z, k, err, sizeof err) == 0);
    CHECK(key_read_arg("nonsense", k, err, sizeof err) < 0);
}

static void keyrings(void)
{
    char err[512], text[600];
    struct keyring *r;
    const struct key_entry *e;
    unsigned char k[KEY_BYTES];

    snprintf(text, sizeof text, "# clients\n%s alice admin\n\n%s\n", pub_z, pub2_z);
    r = keyring_load(file("ak", text, 0644), err, sizeof err);
    CHECK(r && r->n == 2);
    if (r) {
        key_from_z85(pub_z, 40, k);
        CHECK((e = keyring_find(r, k)) && strcmp(e->name, "alice") == 0 && e->roles == KEY_ROLE_ADMIN);
        key_from_z85(pub2_z, 40, k);
        CHECK((e = keyring_find(r, k)) && strncmp(e->name, "key-", 4) == 0 && e->roles == 0);
        CHECK(keyring_count(r, KEY_ROLE_ADMIN) == 1);
        CHECK(keyring_count(r, 0) == 2);
        keyring_summary(r, text, sizeof text);
        CHECK(strcmp(text, "2 authorized keys (1 admin, 0 daemon)") == 0);
    }
    keyring_free(&r);
    CHECK(r == NULL);
    snprintf(text, sizeof text, "%s daemon admin\n", pub_z);
    r = keyring_load(file("ak", text, 0644), err, sizeof err);
    CHECK(r && r->n == 1 && r->keys[0].roles == (KEY_ROLE_ADMIN | KEY_ROLE_DAEMON));
    keyring_free(&r);

    snprintf(text, sizeof text, "%s a\n%s a\n", pub_z, pub2_z);
    CHECK(!keyring_load(file("ak", text, 0644), err, sizeof err) && strstr(err, ":2: ") && strstr(err, "twice"));
    snprintf(text, sizeof text, "%s a\n%s b\n", pub_z, pub_z);
    CHECK(!keyring_load(file("ak", text, 0644), err, sizeof err) && strstr(err, ":2: ") && strstr(err, "twice"));
    snprintf(text, sizeof text, "# x\n%s a root\n", pub_z);
    CHECK(!keyring_load(file("ak", text, 0644), err, sizeof err) && strstr(err, ":2: ") && strstr(err, "role"));
    CHECK(!keyring_load(file("ak", "garbage here\n", 0644), err, sizeof err) && strstr(err, ":1: "));
    snprintf(text, sizeof text, "%s b@d!name\n", pub_z);
    CHECK(!keyring_load(file("ak", text, 0644), err, sizeof err) && strstr(err, "name"));
    r = keyring_load(file("ak", "", 0644), err, sizeof err);
    CHECK(r && r->n == 0);
    keyring_free(&r);
}

static struct conf *conf_text(const char *text, char *err, size_t errlen)
{
    return conf_load(file("c.yaml", text, 0644), err, errlen);
}

static void bad_conf(const char *text, int line, const char *word)
{
    char err[512], where[320];
    struct conf *c = conf_text(text, err, sizeof err);

    CHECK(c == NULL);
    conf_free(&c);
    snprintf(where, sizeof where, "c.yaml:%d:", line);
    if (!strstr(err, where) || !strstr(err, word))
        fprintf(stderr, "for %s\n  got: %s\n  want %s and %s\n", text, err, where, word);
    CHECK(strstr(err, where) != NULL);
    CHECK(strstr(err, word) != NULL);
}

static void conf_sections(void)
{
    char err[512], want[400];
    struct conf *c;

    CHECK(conf_endpoint_is_local("tcp://127.0.0.1:5"));
    CHECK(conf_endpoint_is_local("tcp://[::1]:5"));
    CHECK(conf_endpoint_is_local("tcp://localhost:5"));
    CHECK(conf_endpoint_is_local("ipc:///tmp/x"));
    CHECK(!conf_endpoint_is_local("tcp://0.0.0.0:5"));
    CHECK(!conf_endpoint_is_local("tcp://*:5"));
    CHECK(!conf_endpoint_is_local("tcp://127.0.0.1.evil.example:5"));
    CHECK(!conf_endpoint_is_local("tcp://10.0.0.1:5"));

    c = conf_text("models:\n  a: x\nsecurity:\n  secret_key: k/server.key\n  authorized_keys: /etc/ak\n",
                  err, sizeof err);
    CHECK(c && c->has_security);
    if (c) {
        snprintf(want, sizeof want, "%s/k/server.key", dir);
        CHECK_STR(c->security.secret_key, want);
        CHECK_STR(c->security.authorized_keys, "/etc/ak");
    }
    conf_free(&c);
    /* With security, any address may be bound. */
    c = conf_text("models:\n  a: x\nendpoints: [\"tcp://0.0.0.0:5\"]\n"
                  "security:\n  secret_key: s\n  authorized_keys: a\n", err, sizeof err);
    CHECK(c != NULL);
    conf_free(&c);
    c = conf_text("models:\n  a: x\nendpoints: [\"tcp://0.0.0.0:5\"]\nallow_plaintext_network: true\n",
                  err, sizeof err);
    CHECK(c && c->allow_plaintext_network);
    conf_free(&c);
    bad_conf("models:\n  a: x\nendpoints:\n  - tcp://127.0.0.1:5\n  - tcp://0.0.0.0:5\n", 5,
             "allow_plaintext_network");
    bad_conf("models:\n  a: x\nallow_plaintext_network: yes\n", 3, "true or false");
    bad_conf("models:\n  a: x\nsecurity:\n  authorized_keys: a\n", 4, "secret_key");
    bad_conf("models:\n  a: x\nsecurity:\n  secret_key: s\n", 4, "authorized_keys");
    bad_conf("models:\n  a: x\nsecurity:\n  secret_key: s\n  pubkey: p\n", 5, "unknown key");

    /* A daemon behind a broker. */
    snprintf(want, sizeof want,
             "models:\n  a: x\nendpoints: []\nupstream:\n  endpoint: tcp://127.0.0.1:9\n  name: d1\n"
             "  heartbeat_ms: 500\n");
    c = conf_text(want, err, sizeof err);
    CHECK(c && c->has_upstream && c->n_endpoints == 0 && c->upstream.heartbeat_ms == 500 &&
          c->upstream.liveness == 3);
    if (c)
        CHECK_STR(c->upstream.name, "d1");
    conf_free(&c);
    snprintf(want, sizeof want, "models:\n  a: x\nupstream:\n  endpoint: tcp://10.1.1.1:9\n"
             "  server_key: \"%s\"\nsecurity:\n  secret_key: s\n  authorized_keys: a\n", pub_z);
    c = conf_text(want, err, sizeof err);
    CHECK(c != NULL);
    if (c)
        CHECK_STR(c->upstream.server_key, pub_z);  /* a key stays a key, not a path */
    conf_free(&c);
    bad_conf("models:\n  a: x\nupstream:\n  endpoint: tcp://10.1.1.1:9\n", 4, "allow_plaintext_network");
    bad_conf("models:\n  a: x\nupstream:\n  name: d\n", 4, "upstream.endpoint");
    bad_conf("models:\n  a: x\nendpoints: []\n", 3, "between 1 and");
    bad_conf("models:\n  a: x\nupstream:\n  endpoint: tcp://127.0.0.1:9\n  server_key: k\n", 4,
             "security");

    /* A broker. */
    c = conf_text("broker:\n  frontend: [\"tcp://127.0.0.1:1\"]\n  backend: ipc:///tmp/b\n", err, sizeof err);
    CHECK(c && c->has_broker && c->broker.n_frontend == 1 && c->broker.heartbeat_ms == 1000);
    if (c)
        CHECK_STR(c->broker.backend, "ipc:///tmp/b");
    conf_free(&c);
    bad_conf("broker:\n  frontend: [\"tcp://127.0.0.1:1\"]\n", 2, "backend");
    bad_conf("broker:\n  backend: ipc:///tmp/b\n", 2, "frontend");
    bad_conf("broker:\n  frontend: [\"tcp://127.0.0.1:1\"]\n  backend: tcp://0.0.0.0:2\n", 3,
             "allow_plaintext_network");
    bad_conf("broker:\n  frontend: [\"tcp://127.0.0.1:1\"]\n  backend: ipc:///b\nmodels:\n  a: x\n", 2,
             "models");
    bad_conf("broker:\n  frontend: [\"tcp://127.0.0.1:1\"]\n  backend: ipc:///b\n  liveness: 1\n", 4,
             "between");
    bad_conf("log_level: info\n", 1, "models");
}

int main(void)
{
    if (!mkdtemp(dir) || zmq_curve_keypair(pub_z, sec_z) != 0 || zmq_curve_keypair(pub2_z, sec2_z) != 0) {
        fprintf(stderr, "test_keys: cannot set up (no CURVE in libzmq?)\n");
        return 1;
    }
    z85();
    key_files();
    keyrings();
    conf_sections();
    {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_keys: could not remove %s\n", dir);
    }
    return check_report("test_keys");
}
