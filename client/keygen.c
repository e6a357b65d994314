/*
 * keygen: `stance keygen [--out PREFIX]`, a CURVE key pair for a client, a
 * daemon or a broker. PREFIX.key holds the secret key and is created with
 * mode 0600; PREFIX.pub holds the public key (0644). Both are the key-file
 * format of lib/keys.h: '#' comments and one Z85 key. Existing files are
 * never overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "keys.h"
#include "xalloc.h"

/* Creates path (which must not exist) with exactly mode and writes text.
 * Returns 0, or -1 after saying why. */
static int write_new(const char *path, int mode, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    size_t len = strlen(text), done = 0;

    if (fd < 0) {
        fprintf(stderr, "stance: cannot create %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (keygen never overwrites a key)" : "");
        return -1;
    }
    /* The umask may only have removed bits; set exactly what we mean. */
    if (fchmod(fd, (mode_t)mode) < 0)
        goto fail;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        done += (size_t)n;
    }
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    fprintf(stderr, "stance: cannot write %s: %s\n", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(path);
    return -1;
}

int keygen_run(const struct cli_opts *o)
{
    const char *prefix = o->out ? o->out : "stance";
    const char *base = strrchr(prefix, '/') ? strrchr(prefix, '/') + 1 : prefix;
    char pub[KEY_Z85_LEN + 1], sec[KEY_Z85_LEN + 1], text[512];
    size_t n = strlen(prefix) + 5;
    char *sec_path = xmalloc(n), *pub_path = xmalloc(n);
    int rc = CLI_USAGE;

    snprintf(sec_path, n, "%s.key", prefix);
    snprintf(pub_path, n, "%s.pub", prefix);
    if (!zmq_has("curve") || zmq_curve_keypair(pub, sec) != 0) {
        fprintf(stderr, "stance: this libzmq has no CURVE support\n");
        goto out;
    }
    snprintf(text, sizeof text,
             "# stance CURVE secret key (Z85). Keep it private: mode 0600, never copied off this machine.\n"
             "# Its public key: %s\n%s\n", pub, sec);
    if (write_new(sec_path, 0600, text) < 0)
        goto out;
    snprintf(text, sizeof text,
             "# stance CURVE public key (Z85). Give it to the server's authorized_keys, or to clients as --server-key.\n"
             "%s\n", pub);
    if (write_new(pub_path, 0644, text) < 0) {
        unlink(sec_path);
        goto out;
    }
    printf("secret key: %s (mode 0600)\n", sec_path);
    printf("public key: %s\n", pub_path);
    printf("authorized_keys line: %s %s\n", pub, *base ? base : "stance");
    rc = CLI_OK;
out:
    memset(sec, 0, sizeof sec);
    memset(text, 0, sizeof text);
    free(sec_path);
    free(pub_path);
    return rc;
}
