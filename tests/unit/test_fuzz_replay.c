/*
 * Replays the fuzz target's seed corpus (tests/fuzz/corpus) and every kept
 * crash (tests/fuzz/regressions) through the same LLVMFuzzerTestOneInput,
 * built with the ordinary compiler and no libFuzzer, so that `make test`
 * (and `make test SANITIZE=1`) keeps every input that ever found a bug.
 * Runs from the repository root, like every test.
 */
#include "check.h"
#include "../fuzz/fuzz_request.c"

#include <dirent.h>
#include <errno.h>

static int broken;   /* promises the target found broken for this input */

static void count_failure(void)
{
    broken++;
}

/* The whole file in a buffer of exactly its size, so that a parser that
 * reads past the end trips AddressSanitizer as it does under libFuzzer. */
static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;

    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
        buf = malloc(n ? (size_t)n : 1);
        if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(fp);
    return buf;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of dir in name order; returns how many, or
 * -1 when dir cannot be opened. */
static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0;

    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        size_t len = 0;
        unsigned char *buf;

        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        buf = read_all(path, &len);
        CHECK(buf != NULL);
        if (buf) {
            broken = 0;
            LLVMFuzzerTestOneInput(buf, len);
            if (broken)
                fprintf(stderr, "%s: %d broken promise%s (INVARIANT lines above)\n",
                        path, broken, broken == 1 ? "" : "s");
            CHECK(broken == 0);
            free(buf);
        }
        free(names[i]);
    }
    free(names);
    return (int)n;
}

int main(void)
{
    int seeds, crashes;

    fuzz_on_failure = count_failure;
    unsetenv("FUZZ_IGNORE");   /* a replay ignores no broken promise */
    seeds = replay_dir("tests/fuzz/corpus");
    CHECK(seeds >= 30);
    /* No kept crash is no directory: git keeps no empty ones. */
    crashes = replay_dir("tests/fuzz/regressions");
    CHECK(crashes >= 0 || errno == ENOENT);
    printf("replayed %d seeds and %d regression inputs with %zu model%s\n",
           seeds, crashes < 0 ? 0 : crashes, fz.n, fz.n == 1 ? "" : "s");
    fuzz_request_cleanup();
    return check_report("test_fuzz_replay");
}
