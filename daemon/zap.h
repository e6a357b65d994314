/*
 * zap: the ZeroMQ authentication handler (ZAP, RFC 27) of stanced. With
 * security on, every CURVE handshake on a socket of the context is
 * referred to one thread, which admits a client only when its public key
 * is in the authorized-keys list, and tells the socket the key's name and
 * whether it may use the admin ops.
 */
#ifndef STANCED_ZAP_H
#define STANCED_ZAP_H

#include <stddef.h>
#include "keys.h"

/* ZAP domains (ZMQ_ZAP_DOMAIN) of stanced's sockets: on the daemons domain
 * (a broker's back end) only keys with the daemon role are admitted. */
#define ZAP_DOMAIN_CLIENTS "stanced-clients"
#define ZAP_DOMAIN_DAEMONS "stanced-daemons"

/* The message property (zmq_msg_gets) that is "yes" on requests from a key
 * with the admin role and "no" on others. ZMQ's own "User-Id" property
 * holds the key's name. */
#define ZAP_ADMIN_PROPERTY "X-Stance-Admin"

struct zap;

/* The authorized keys in force. A reload replaces the whole keyring while
 * the handler thread may be reading it, so every access goes through a
 * mutex; the handler copies the entry it needs and holds the lock only
 * for the look-up. */
struct zap_keys;

/* Wraps *keys, loaded from path (named in log lines; borrowed, it must
 * outlive the result), taking ownership and setting *keys to NULL. Caller
 * owns the result; free with zap_keys_free(). */
struct zap_keys *zap_keys_new(struct keyring **keys, const char *path);

/* Makes *fresh the keys in force, taking ownership and setting *fresh to
 * NULL, and frees the keyring it replaces. Handshakes from then on are
 * judged by *fresh; connections already admitted are not revisited. */
void zap_keys_swap(struct zap_keys *zk, struct keyring **fresh);

/* Writes the keyring_summary() of the keys in force into out. */
void zap_keys_summary(struct zap_keys *zk, char *out, size_t outlen);

/* Frees *zk and its keyring and sets *zk to NULL. Accepts NULL. */
void zap_keys_free(struct zap_keys **zk);

/* Binds inproc://zeromq.zap.01 in ctx and starts the handler thread. keys
 * is borrowed and must outlive the handler. Call before binding any CURVE
 * socket, with the signals blocked (sig_block) so the thread does not take
 * them. Returns NULL with err filled. Caller owns the result; stop it with
 * zap_stop(). */
struct zap *zap_start(void *ctx, struct zap_keys *keys, char *err, size_t errlen);

/* Stops the thread, closes its sockets and sets *z to NULL. Accepts NULL.
 * Call before zmq_ctx_term. */
void zap_stop(struct zap **z);

/* Sets the CURVE server options on sock: its secret key and the ZAP
 * domain. Returns 0, or -1 with err filled. */
int zap_make_server(void *sock, const unsigned char secret[KEY_BYTES], const char *domain, char *err, size_t errlen);

#endif
