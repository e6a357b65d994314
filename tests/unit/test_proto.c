/*
 * test_proto: request parsing against the case table in
 * tests/data/proto_cases.txt (one request and its expected code a line),
 * plus the pieces a table cannot show: ids kept for error replies, the
 * parsed fields, the error reply's shape and proto_peek_id.
 */
#include "check.h"
#include "proto.h"

#include <stdlib.h>
#include <string.h>

static const struct proto_limits lim = { 4096, 3, 64, 4 };

/* Decodes \xHH escapes of a case line in place; returns the length. */
static size_t unescape(char *s)
{
    size_t o = 0;

    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '\\' && s[i + 1] == 'x' && s[i + 2] && s[i + 3]) {
            char hex[3] = { s[i + 2], s[i + 3], 0 };
            s[o++] = (char)strtol(hex, NULL, 16);
            i += 3;
        } else {
            s[o++] = s[i];
        }
    }
    return o;
}

static void case_table(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    int lineno = 0, cases = 0;

    CHECK(f != NULL);
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t'), err[256];
        struct proto_request req;
        enum proto_code got;
        size_t len;

        lineno++;
        if (line[0] == '#' || !tab)
            continue;
        *tab = '\0';
        line[strcspn(tab + 1, "\n") + (size_t)(tab + 1 - line)] = '\0';
        len = unescape(tab + 1);
        got = proto_parse(tab + 1, len, &lim, &req, err, sizeof err);
        if (strcmp(proto_code_name(got), line) != 0)
            fprintf(stderr, "%s:%d: expected %s, got %s (%s)\n", path, lineno, line,
                    proto_code_name(got), got ? err : "");
        CHECK_STR(proto_code_name(got), line);
        proto_request_clear(&req);
        cases++;
    }
    fclose(f);
    CHECK(cases > 40);
}

static enum proto_code parse(const char *body, struct proto_request *req)
{
    char err[256];
    return proto_parse(body, strlen(body), &lim, req, err, sizeof err);
}

static void fields(void)
{
    struct proto_request req;

    CHECK(parse("{\"id\": \"q\", \"texts\": [\"ab\", \"c\"], \"models\": [\"m2\", \"m1\"],"
                " \"split\": false, \"explain\": 2}", &req) == PROTO_OK);
    CHECK(req.op == PROTO_OP_CLASSIFY);
    CHECK(req.batch == 1);
    CHECK(req.ntexts == 2);
    CHECK_STR(req.texts[0], "ab");
    CHECK(req.lens[0] == 2);
    CHECK(req.nmodels == 2);
    CHECK_STR(req.models[0], "m2");
    CHECK(req.split == 0);
    CHECK(req.explain == 2);
    CHECK(cJSON_IsString(req.id));
    proto_request_clear(&req);

    CHECK(parse("{\"text\": \"x\"}", &req) == PROTO_OK);
    CHECK(req.split == 1 && req.explain == 0 && req.models == NULL && req.batch == 0 && req.id == NULL);
    proto_request_clear(&req);

    /* The id survives an error later in the request, for the reply. */
    CHECK(parse("{\"id\": 42, \"text\": 5}", &req) == PROTO_BAD_REQUEST);
    CHECK(cJSON_IsNumber(req.id) && req.id->valuedouble == 42);
    proto_request_clear(&req);
    CHECK(parse("{\"id\": 43, \"op\": \"nope\"}", &req) == PROTO_UNKNOWN_OP);
    CHECK(req.id && req.id->valuedouble == 43);
    proto_request_clear(&req);
}

static void unterminated_body(void)
{
    /* Bodies come from the wire without a NUL: the parser must stop at len. */
    char body[] = "{\"op\": \"ping\"}XXXX";
    struct proto_request req;
    char err[128];

    CHECK(proto_parse(body, 14, &lim, &req, err, sizeof err) == PROTO_OK);
    proto_request_clear(&req);
    CHECK(proto_parse(body, 10, &lim, &req, err, sizeof err) == PROTO_BAD_JSON);
    proto_request_clear(&req);
}

static void too_large_before_parsing(void)
{
    size_t n = lim.max_message_bytes + 1;
    char *body = malloc(n);
    struct proto_request req;
    char err[128];

    memset(body, '[', n);  /* would be bad_json if it were parsed */
    CHECK(proto_parse(body, n, &lim, &req, err, sizeof err) == PROTO_TOO_LARGE);
    proto_request_clear(&req);
    free(body);
}

static void replies(void)
{
    cJSON *id = cJSON_CreateString("r1"), *r, *e;
    size_t len;
    char *s = proto_error_reply(id, PROTO_BUSY, "later", &len);

    CHECK(strlen(s) == len);
    r = cJSON_Parse(s);
    CHECK_STR(cJSON_GetObjectItem(r, "id")->valuestring, "r1");
    e = cJSON_GetObjectItem(r, "error");
    CHECK_STR(cJSON_GetObjectItem(e, "code")->valuestring, "busy");
    CHECK_STR(cJSON_GetObjectItem(e, "message")->valuestring, "later");
    cJSON_Delete(r);
    free(s);
    s = proto_error_reply(NULL, PROTO_BAD_JSON, "x", &len);
    CHECK_STR(s, "{\"id\":null,\"error\":{\"code\":\"bad_json\",\"message\":\"x\"}}");
    free(s);
    cJSON_Delete(id);
    for (int c = 0; c < PROTO_NCODES; c++)
        CHECK(proto_code_name((enum proto_code)c) != NULL);
    CHECK_STR(proto_code_name(PROTO_RELOAD_FAILED), "reload_failed");
}

static void peek(void)
{
    const char *b = "{\"id\": [1], \"x\": 1}";
    cJSON *id = proto_peek_id("{\"id\": 5, \"texts\": 1}", 21, 1000);

    CHECK(id && cJSON_IsNumber(id) && id->valuedouble == 5);
    cJSON_Delete(id);
    CHECK(proto_peek_id(b, strlen(b), 1000) == NULL);
    CHECK(proto_peek_id("{\"id\": 5}", 9, 4) == NULL);
    CHECK(proto_peek_id("{\"id\": 5", 8, 1000) == NULL);
}

/* The reply writer prints what cJSON would print for the same reply, byte
 * for byte: ids of every kind and messages that need escaping. */
static void writer_matches_cjson(void)
{
    static const char *const ids[] = {
        NULL, "null", "true", "false", "0", "42", "-7", "1.5", "-0.1", "1e300", "12345678901234567890",
        "\"plain\"", "\"q\\\"uote \\\\ back\\/slash\"", "\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"",
        "\"\\u00e9\\u65e5 \\ud83d\\ude00 \\u0085\"",
    };
    static const char *const messages[] = {
        "", "plain", "quote \" back \\ tab \t nl \n ctl \x01\x1f del \x7f", "caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d",
    };

    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        for (size_t k = 0; k < sizeof messages / sizeof messages[0]; k++) {
            cJSON *id = ids[i] ? cJSON_Parse(ids[i]) : NULL;
            cJSON *tree = proto_reply_new(id), *e = cJSON_AddObjectToObject(tree, "error");
            char *want, *got;
            size_t len;

            cJSON_AddStringToObject(e, "code", "bad_request");
            cJSON_AddStringToObject(e, "message", messages[k]);
            want = cJSON_PrintUnformatted(tree);
            got = proto_error_reply(id, PROTO_BAD_REQUEST, messages[k], &len);
            CHECK_STR(got, want);
            CHECK(strlen(got) == len);
            free(want);
            free(got);
            cJSON_Delete(tree);
            cJSON_Delete(id);
        }
}

int main(void)
{
    case_table("tests/data/proto_cases.txt");
    fields();
    unterminated_body();
    too_large_before_parsing();
    replies();
    peek();
    writer_matches_cjson();
    return check_report("test_proto");
}
