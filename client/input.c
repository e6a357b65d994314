/*
 * input: whole-file reads and line iteration for the client. Lines are
 * handed out as pointers into the caller's buffer, so iterating costs no
 * allocation.
 */
#include "input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

char *input_read(const char *path, size_t *len)
{
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "stdin" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "stance: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 64 * 1024, n = 0, got;
    char *buf = xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0)
        if ((n += got) + 1 == cap)
            buf = xrealloc(buf, cap *= 2);
    int failed = ferror(f);
    if (!is_stdin)
        fclose(f);
    if (failed) {
        fprintf(stderr, "stance: cannot read %s\n", name);
        free(buf);
        return NULL;
    }
    const char *nul = memchr(buf, '\0', n);
    if (nul) {
        fprintf(stderr, "stance: %s holds a NUL byte at offset %zu; it is not text\n", name,
                (size_t)(nul - buf));
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v')
            return 0;
    return 1;
}

int input_next_line(const char *buf, size_t len, size_t *pos, long *lineno,
                    const char **line, size_t *n)
{
    while (*pos < len) {
        const char *start = buf + *pos;
        const char *nl = memchr(start, '\n', len - *pos);
        size_t k = nl ? (size_t)(nl - start) : len - *pos;
        *pos += k + (nl != NULL);
        ++*lineno;
        if (k && start[k - 1] == '\r')
            k--;
        if (!is_blank(start, k)) {
            *line = start;
            *n = k;
            return 1;
        }
    }
    return 0;
}
