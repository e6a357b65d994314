/*
 * proto: the wire protocol of docs/protocol.md. Parses one request body
 * strictly (size cap and nesting depth checked before the JSON parser runs,
 * every field type-checked) and renders replies. The error codes below are
 * the protocol's one fixed list; docs/protocol.md lists the same codes.
 */
#ifndef STANCE_PROTO_H
#define STANCE_PROTO_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "doc.h"

#define PROTO_VERSION 1
#define PROTO_MAX_EXPLAIN 50   /* largest `explain` a request may ask for */
#define PROTO_MAX_MODELS 64    /* most names one `models` array may hold */

enum proto_code {
    PROTO_OK = 0,
    PROTO_BAD_JSON,         /* not JSON, trailing bytes, or nested deeper than allowed */
    PROTO_BAD_REQUEST,      /* valid JSON of the wrong shape: not an object, wrong type, missing or unknown field, several frames */
    PROTO_BAD_UTF8,         /* a string is not valid UTF-8 or holds NUL */
    PROTO_EMPTY_TEXT,       /* a text is empty or white space only */
    PROTO_TOO_LARGE,        /* message, text or sentence count over its limit */
    PROTO_TOO_MANY_TEXTS,   /* a batch longer than max_texts */
    PROTO_UNKNOWN_MODEL,
    PROTO_UNKNOWN_OP,
    PROTO_BUSY,             /* the queue is full: retry later */
    PROTO_RELOAD_FAILED,    /* the old models keep serving */
    PROTO_INTERNAL,
    PROTO_FORBIDDEN,        /* an admin op from a key without the admin role */
    PROTO_UNAVAILABLE,      /* broker: no daemon answered in time, or every try of it died */
    PROTO_NCODES
};

/* The code's wire name, e.g. "bad_json"; a static string. */
const char *proto_code_name(enum proto_code code);

enum proto_op { PROTO_OP_CLASSIFY, PROTO_OP_PING, PROTO_OP_MODELS, PROTO_OP_STATS, PROTO_OP_RELOAD };

struct proto_limits {
    size_t max_message_bytes;
    size_t max_texts;
    size_t max_text_bytes;
    size_t max_json_depth;   /* the top-level object counts as depth 1 */
};

struct proto_request {
    cJSON *root;             /* the parsed body; owned */
    const cJSON *id;         /* inside root, or NULL: echo it in the reply */
    enum proto_op op;
    /* classify only: */
    const char **texts;      /* inside root; ntexts entries */
    size_t *lens;
    size_t ntexts;
    int batch;               /* 1 when the request used `texts` */
    const char **models;     /* inside root; NULL when absent (all models) */
    size_t nmodels;
    int split;
    size_t explain;
};

/* Parses body[0..len), which need not be NUL-terminated, into *req (which
 * the caller provides; its previous content is ignored). Returns PROTO_OK,
 * or an error code with err filled with a message fit for the client
 * (always valid UTF-8). In
 * both cases req->id is set whenever the id could be read, so that an
 * error reply can echo it, and the caller must call proto_request_clear. */
enum proto_code proto_parse(const char *body, size_t len, const struct proto_limits *lim,
                            struct proto_request *req, char *err, size_t errlen);

/* Releases what proto_parse stored in *req and zeroes it. */
void proto_request_clear(struct proto_request *req);

/* Reads only the id of body[0..len), for replies that must be written
 * without parsing the request in full (busy). Returns a new cJSON value
 * the caller owns (cJSON_Delete), or NULL when none can be read. Bodies
 * longer than max_len are not parsed at all. */
cJSON *proto_peek_id(const char *body, size_t len, size_t max_len);

/* A new reply object {"id": <copy of id, or null>}. Caller owns it. */
cJSON *proto_reply_new(const cJSON *id);

/* Serialises reply without spaces. Caller owns the result (free());
 * *len receives its length. */
char *proto_print(const cJSON *reply, size_t *len);

/* A reply written straight into one growing buffer, for the replies that
 * carry data per sentence: building a cJSON tree for them (a node, a key
 * copy and a number string per field) cost more than scoring the sentences.
 * The output is byte for byte what cJSON_PrintUnformatted prints for the
 * same reply. Start from a zeroed struct; the buffer is reused across
 * replies after proto_out_reset. */
struct proto_out {
    char *s;        /* the reply so far, NUL-terminated; owned; NULL before the first write */
    size_t len;
    size_t cap;
};

/* Empties o, keeping its buffer unless that grew beyond keep bytes. */
void proto_out_reset(struct proto_out *o, size_t keep);

/* Frees o's buffer and zeroes it. */
void proto_out_free(struct proto_out *o);

/* Writes the start of a classify reply, {"id":<id or null>,"results":[ */
void proto_out_results_begin(struct proto_out *o, const cJSON *id);

/* Writes one text's analysis as the next `results` entry (see
 * docs/protocol.md). */
void proto_out_doc(struct proto_out *o, const struct doc_result *d);

/* Closes what proto_out_results_begin opened. */
void proto_out_results_end(struct proto_out *o);

/* Writes the whole error reply {"id":..,"error":{"code":..,"message":..}};
 * message is cut before any invalid UTF-8 (such as a character split by
 * truncation) so that the reply stays valid. */
void proto_out_error(struct proto_out *o, const cJSON *id, enum proto_code code, const char *message);

/* Writes reply, a tree, as proto_print would. */
void proto_out_tree(struct proto_out *o, const cJSON *reply);

/* proto_out_error into a new string. Caller owns the result (free());
 * *len receives its length. */
char *proto_error_reply(const cJSON *id, enum proto_code code, const char *message, size_t *len);

#endif
