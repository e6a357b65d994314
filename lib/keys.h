/*
 * keys: CURVE key files and the authorized-keys list, shared by stanced and
 * stance. A key file holds '#' comment lines, blank lines and exactly one
 * 40-character Z85 key (docs/deploy.md); an authorized-keys file holds one
 * line per public key, "KEY [NAME] [admin|daemon...]". Nothing here prints:
 * every failure fills err with "FILE:LINE: what is wrong".
 */
#ifndef STANCE_KEYS_H
#define STANCE_KEYS_H

#include <stddef.h>

#define KEY_BYTES 32
#define KEY_Z85_LEN 40
#define KEY_MAX_NAME 64

/* Roles an authorized key may carry, as bits. Every listed key may send
 * requests; these add to that. */
enum key_role {
    KEY_ROLE_ADMIN = 1,    /* may use the admin ops (stats, reload) */
    KEY_ROLE_DAEMON = 2,   /* may connect to a broker's back end as a daemon */
};

/* 1 when s[0..len) is a canonical Z85 encoding of a 32-byte key (40
 * characters of the Z85 alphabet that decode and re-encode unchanged),
 * with the decoded key stored in out (which may be NULL). */
int key_from_z85(const char *s, size_t len, unsigned char out[KEY_BYTES]);

/* Reads the one key of the key file at path into out. With secret = 1 the
 * file must not be readable, writable or executable by group or others
 * (the check ssh makes), so a leaked secret is refused loudly. Returns 0, or
 * -1 with err filled. */
int key_read_file(const char *path, int secret, unsigned char out[KEY_BYTES], char *err, size_t errlen);

/* Reads a key given on a command line: a Z85 key itself, or else the name
 * of a public key file. Returns 0, or -1 with err filled. */
int key_read_arg(const char *arg, unsigned char out[KEY_BYTES], char *err, size_t errlen);

/* Derives the public key of a secret key. Returns 0, or -1 when libzmq
 * was built without CURVE. */
int key_public_of(const unsigned char secret[KEY_BYTES], unsigned char pub[KEY_BYTES]);

/* Writes the Z85 form of key (41 bytes with the NUL) into out. */
void key_to_z85(const unsigned char key[KEY_BYTES], char out[KEY_Z85_LEN + 1]);

struct key_entry {
    unsigned char key[KEY_BYTES];
    char z85[KEY_Z85_LEN + 1];
    char name[KEY_MAX_NAME + 1];  /* as written, or "key-" and the first 8 Z85 characters */
    unsigned roles;               /* enum key_role bits */
};

struct keyring {
    struct key_entry *keys;
    size_t n;
};

/* Loads an authorized-keys file. Each line is blank, a comment (a '#'
 * line that does not start with a 40-character key: Z85 itself may start
 * with '#'), or "KEY [NAME] [ROLE...]" with fields separated by blanks,
 * where NAME is 1 to 64 of [A-Za-z0-9_.@-] and each ROLE is `admin` or
 * `daemon` (so neither word can be a name). A key or name listed twice is
 * an error. An empty list is allowed (it admits nobody). Caller owns the
 * result; free with keyring_free(). Returns NULL with err filled. */
struct keyring *keyring_load(const char *path, char *err, size_t errlen);

/* The entry for key, or NULL when it is not listed. */
const struct key_entry *keyring_find(const struct keyring *k, const unsigned char key[KEY_BYTES]);

/* Frees *k and sets *k to NULL. Accepts NULL. */
void keyring_free(struct keyring **k);

/* Counts the entries with every bit of roles. */
size_t keyring_count(const struct keyring *k, unsigned roles);

/* Writes "N authorized keys (A admin, D daemon)" into out, for the log
 * lines of start-up and reload. */
void keyring_summary(const struct keyring *k, char *out, size_t outlen);

#endif
