/*
 * conn: one request, one reply, never an endless wait. A REQ socket with
 * ZMQ_LINGER 0 connected to the daemon; each request polls for its reply
 * for at most the timeout, so an absent daemon costs the timeout and no
 * more, and closing never blocks on unsent messages.
 */
#ifndef STANCE_CONN_H
#define STANCE_CONN_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct conn;

/* Connects to endpoint (a ZeroMQ address such as tcp://127.0.0.1:5555).
 * Connecting does not wait for the daemon; only conn_request can tell that
 * it is absent. Returns NULL and fills err when the endpoint is malformed
 * or ZeroMQ cannot start. Caller owns the result; free with conn_free(). */
struct conn *conn_open(const char *endpoint, int timeout_ms, char *err, size_t errlen);

/* Frees *c and sets *c to NULL. Accepts NULL and *c == NULL. */
void conn_free(struct conn **c);

enum conn_status {
    CONN_OK = 0,      /* *reply holds a JSON object */
    CONN_TIMEOUT,     /* no reply within the timeout; the conn is no longer usable */
    CONN_BAD_REPLY,   /* the reply is not a JSON object */
};

/* Sends the JSON object req (not consumed) and waits for the reply. On
 * CONN_OK sets *reply to the parsed reply, which the caller owns
 * (cJSON_Delete). Otherwise *reply is NULL and err says what happened. */
enum conn_status conn_request(struct conn *c, const cJSON *req, cJSON **reply,
                              char *err, size_t errlen);

/* Returns 1 when reply is an error reply ({"error": {"code", "message"}})
 * and fills err with "CODE: MESSAGE"; returns 0 otherwise. */
int conn_reply_error(const cJSON *reply, char *err, size_t errlen);

#endif
