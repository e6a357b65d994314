/*
 * input: reading what the user gives the client. Whole files (or stdin) as
 * text, and their non-blank lines one by one, for classify's -f/--lines and
 * bench's sentence file alike.
 */
#ifndef STANCE_INPUT_H
#define STANCE_INPUT_H

#include <stddef.h>

/* Reads all of path ("-" is stdin). Returns a NUL-terminated buffer the
 * caller owns (free()) and sets *len; or prints why to stderr and returns
 * NULL, also for a NUL byte in the input, which no C program on the path
 * could pass on as text. */
char *input_read(const char *path, size_t *len);

/* Steps through the lines of buf[0..len), skipping blank ones. *pos (start
 * at 0) and *lineno (start at 0) carry the position between calls. Returns
 * 1 and sets *line and *n to the next line without its "\n" or "\r\n" and
 * *lineno to its 1-based number; returns 0 at the end. */
int input_next_line(const char *buf, size_t len, size_t *pos, long *lineno,
                    const char **line, size_t *n);

#endif
