/*
 * conn: one request, one reply, never an endless wait. A REQ socket with
 * ZMQ_LINGER 0 connected to the daemon (with CURVE when keys are given);
 * each try polls for its reply for at most the timeout, and a bounded
 * number of retries each reopen the socket, so an absent daemon costs
 * (retries + 1) timeouts and no more, and closing never blocks.
 */
#ifndef STANCE_CONN_H
#define STANCE_CONN_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "keys.h"

struct conn;

/* The CURVE keys of a client: the server's public key and our own pair. */
struct conn_security {
    unsigned char server[KEY_BYTES];
    unsigned char public[KEY_BYTES];
    unsigned char secret[KEY_BYTES];
};

/* Makes sock a CURVE client with sec's keys (before it connects).
 * Returns 0, or -1 (errno set by ZeroMQ). */
int conn_secure_socket(void *sock, const struct conn_security *sec);

/* Connects to endpoint (a ZeroMQ address such as tcp://127.0.0.1:5555),
 * with CURVE when sec is not NULL (it is copied). Connecting does not wait
 * for the daemon; only conn_request can tell that it is absent. A request
 * that gets no reply within timeout_ms is sent again on a fresh socket up
 * to retries more times (the ZeroMQ guide's "lazy pirate"). Returns NULL
 * and fills err when the endpoint is malformed or ZeroMQ cannot start.
 * Caller owns the result; free with conn_free(). */
struct conn *conn_open(const char *endpoint, int timeout_ms, int retries,
                       const struct conn_security *sec, char *err, size_t errlen);

/* Frees *c and sets *c to NULL. Accepts NULL and *c == NULL. */
void conn_free(struct conn **c);

enum conn_status {
    CONN_OK = 0,      /* *reply holds a JSON object */
    CONN_TIMEOUT,     /* no reply within the timeout, on any try */
    CONN_BAD_REPLY,   /* the reply is not a JSON object */
};

/* Sends the JSON object req (not consumed) and waits for the reply,
 * trying again on a fresh socket after each timeout (so the daemon may
 * see the request more than once: every op is safe to repeat). On
 * CONN_OK sets *reply to the parsed reply, which the caller owns
 * (cJSON_Delete). Otherwise *reply is NULL and err says what happened. */
enum conn_status conn_request(struct conn *c, const cJSON *req, cJSON **reply,
                              char *err, size_t errlen);

/* Returns 1 when reply is an error reply ({"error": {"code", "message"}})
 * and fills err with "CODE: MESSAGE"; returns 0 otherwise. */
int conn_reply_error(const cJSON *reply, char *err, size_t errlen);

#endif
