/*
 * keys: reading CURVE keys. Files are read whole (with a size cap) and
 * split into lines, so every error can name its line. Z85 is checked by
 * decoding and re-encoding: libzmq's decoder alone accepts some strings
 * that are not the encoding of any key.
 */
#include "keys.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define KEY_FILE_MAX (64 * 1024)         /* a key file is a few lines */
#define KEYRING_FILE_MAX (16 * 1024 * 1024)

static int failf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int failf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int key_from_z85(const char *s, size_t len, unsigned char out[KEY_BYTES])
{
    static const char alphabet[] =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    char z[KEY_Z85_LEN + 1], back[KEY_Z85_LEN + 1];
    unsigned char k[KEY_BYTES];

    if (len != KEY_Z85_LEN)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!s[i] || !strchr(alphabet, s[i]))
            return 0;
    memcpy(z, s, len);
    z[len] = '\0';
    if (!zmq_z85_decode(k, z) || !zmq_z85_encode(back, k, KEY_BYTES) || strcmp(back, z) != 0)
        return 0;
    if (out)
        memcpy(out, k, KEY_BYTES);
    return 1;
}

void key_to_z85(const unsigned char key[KEY_BYTES], char out[KEY_Z85_LEN + 1])
{
    zmq_z85_encode(out, key, KEY_BYTES);
}

int key_public_of(const unsigned char secret[KEY_BYTES], unsigned char pub[KEY_BYTES])
{
    char zs[KEY_Z85_LEN + 1], zp[KEY_Z85_LEN + 1];

    key_to_z85(secret, zs);
    if (zmq_curve_public(zp, zs) != 0)
        return -1;
    return key_from_z85(zp, KEY_Z85_LEN, pub) ? 0 : -1;
}

/* Reads path whole, NUL-terminated, refusing more than max bytes. With
 * secret, refuses a file group or others may access. Caller frees. */
static char *read_all(const char *path, size_t max, int secret, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    char *buf;
    ssize_t n;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        failf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        failf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        failf(err, errlen, "%s: a secret key file must be private, but its mode is %04o; "
              "run: chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return NULL;
    }
    if ((size_t)st.st_size > max) {
        failf(err, errlen, "%s: %lld bytes is more than the %zu a key file may hold",
              path, (long long)st.st_size, max);
        close(fd);
        return NULL;
    }
    buf = xmalloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            failf(err, errlen, "%s: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* Splits line (NUL-terminated, modified in place) into at most max fields
 * separated by blanks. Returns the number found, max + 1 if there are more. */
static size_t fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *save = NULL, *t;

    for (t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (n == max)
            return max + 1;
        f[n++] = t;
    }
    return n;
}

/* 1 when the line (fields f[0..n)) is a comment: it starts with '#' and
 * its first field is not a key. */
static int is_comment(char **f, size_t n)
{
    return n > 0 && f[0][0] == '#' && !key_from_z85(f[0], strlen(f[0]), NULL);
}

int key_read_file(const char *path, int secret, unsigned char out[KEY_BYTES], char *err, size_t errlen)
{
    size_t len, lineno = 0, found = 0;
    char *buf = read_all(path, KEY_FILE_MAX, secret, &len, err, errlen), *line, *next;
    int rc = 0;

    if (!buf)
        return -1;
    if (memchr(buf, '\0', len)) {
        free(buf);
        return failf(err, errlen, "%s: a key file is text, this one holds a NUL byte", path);
    }
    for (line = buf; line && rc == 0; line = next) {
        char *f[3];
        size_t n;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        n = fields(line, f, 2);
        if (n == 0 || is_comment(f, n))
            continue;
        if (n != 1 || !key_from_z85(f[0], strlen(f[0]), out))
            rc = failf(err, errlen, "%s:%zu: not a %d-character Z85 key", path, lineno, KEY_Z85_LEN);
        else if (found++)
            rc = failf(err, errlen, "%s:%zu: a key file holds one key; this is a second", path, lineno);
    }
    free(buf);
    if (rc == 0 && !found)
        rc = failf(err, errlen, "%s: holds no key", path);
    return rc;
}

int key_read_arg(const char *arg, unsigned char out[KEY_BYTES], char *err, size_t errlen)
{
    if (key_from_z85(arg, strlen(arg), out) && access(arg, F_OK) != 0)
        return 0;
    return key_read_file(arg, 0, out, err, errlen);
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > KEY_MAX_NAME)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.' || *s == '@'))
            return 0;
    return 1;
}

static unsigned role_of(const char *s)
{
    return strcmp(s, "admin") == 0 ? KEY_ROLE_ADMIN : strcmp(s, "daemon") == 0 ? KEY_ROLE_DAEMON : 0;
}

/* Parses one key line's fields into e. Returns 0, or -1 with err filled
 * (prefixed by where). */
static int parse_entry(char **f, size_t n, struct key_entry *e, const char *where, char *err, size_t errlen)
{
    size_t i = 1;

    memset(e, 0, sizeof *e);
    if (!key_from_z85(f[0], strlen(f[0]), e->key))
        return failf(err, errlen, "%s: \"%.60s\" is not a %d-character Z85 public key",
                     where, f[0], KEY_Z85_LEN);
    key_to_z85(e->key, e->z85);
    if (n > 1 && !role_of(f[1])) {
        if (!valid_name(f[1]))
            return failf(err, errlen, "%s: name \"%.70s\" must be 1 to %d of A-Z a-z 0-9 _ . @ -",
                         where, f[1], KEY_MAX_NAME);
        snprintf(e->name, sizeof e->name, "%s", f[1]);
        i = 2;
    } else {
        snprintf(e->name, sizeof e->name, "key-%.8s", e->z85);
    }
    for (; i < n; i++) {
        unsigned r = role_of(f[i]);
        if (!r)
            return failf(err, errlen, "%s: \"%.70s\" is not a role (admin or daemon)", where, f[i]);
        e->roles |= r;
    }
    return 0;
}

struct keyring *keyring_load(const char *path, char *err, size_t errlen)
{
    size_t len, lineno = 0;
    char *buf = read_all(path, KEYRING_FILE_MAX, 0, &len, err, errlen), *line, *next;
    struct keyring *k;
    size_t cap = 16;
    int rc = 0;

    if (!buf)
        return NULL;
    if (memchr(buf, '\0', len)) {
        free(buf);
        failf(err, errlen, "%s: an authorized-keys file is text, this one holds a NUL byte", path);
        return NULL;
    }
    k = xcalloc(1, sizeof *k);
    k->keys = xmalloc(cap * sizeof *k->keys);
    for (line = buf; line && rc == 0; line = next) {
        char *f[5], where[300];
        size_t n;
        struct key_entry e;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        n = fields(line, f, 4);
        if (n == 0 || is_comment(f, n))
            continue;
        snprintf(where, sizeof where, "%s:%zu", path, lineno);
        if (n > 4) {
            rc = failf(err, errlen, "%s: too many fields; a line is KEY [NAME] [admin] [daemon]", where);
            break;
        }
        if ((rc = parse_entry(f, n, &e, where, err, errlen)) < 0)
            break;
        for (size_t i = 0; i < k->n && rc == 0; i++) {
            if (memcmp(k->keys[i].key, e.key, KEY_BYTES) == 0)
                rc = failf(err, errlen, "%s: key %s is listed twice", where, e.z85);
            else if (strcmp(k->keys[i].name, e.name) == 0)
                rc = failf(err, errlen, "%s: name \"%s\" is given twice", where, e.name);
        }
        if (rc == 0) {
            if (k->n == cap)
                k->keys = xrealloc(k->keys, (cap *= 2) * sizeof *k->keys);
            k->keys[k->n++] = e;
        }
    }
    free(buf);
    if (rc < 0)
        keyring_free(&k);
    return k;
}

const struct key_entry *keyring_find(const struct keyring *k, const unsigned char key[KEY_BYTES])
{
    for (size_t i = 0; k && i < k->n; i++)
        if (memcmp(k->keys[i].key, key, KEY_BYTES) == 0)
            return &k->keys[i];
    return NULL;
}

size_t keyring_count(const struct keyring *k, unsigned roles)
{
    size_t n = 0;

    for (size_t i = 0; k && i < k->n; i++)
        if ((k->keys[i].roles & roles) == roles)
            n++;
    return n;
}

void keyring_summary(const struct keyring *k, char *out, size_t outlen)
{
    snprintf(out, outlen, "%zu authorized keys (%zu admin, %zu daemon)", k ? k->n : 0,
             keyring_count(k, KEY_ROLE_ADMIN), keyring_count(k, KEY_ROLE_DAEMON));
}

void keyring_free(struct keyring **kp)
{
    if (!kp || !*kp)
        return;
    free((*kp)->keys);
    free(*kp);
    *kp = NULL;
}
