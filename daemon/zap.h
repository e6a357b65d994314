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

/* Binds inproc://zeromq.zap.01 in ctx and starts the handler thread. keys
 * and keys_path (used in log lines) are borrowed and must outlive the
 * handler. Call before binding any CURVE socket, with the signals blocked
 * (sig_block) so the thread does not take them. Returns NULL with err
 * filled. Caller owns the result; stop it with zap_stop(). */
struct zap *zap_start(void *ctx, const struct keyring *keys, const char *keys_path, char *err, size_t errlen);

/* Stops the thread, closes its sockets and sets *z to NULL. Accepts NULL.
 * Call before zmq_ctx_term. */
void zap_stop(struct zap **z);

/* Sets the CURVE server options on sock: its secret key and the ZAP
 * domain. Returns 0, or -1 with err filled. */
int zap_make_server(void *sock, const unsigned char secret[KEY_BYTES], const char *domain, char *err, size_t errlen);

#endif
