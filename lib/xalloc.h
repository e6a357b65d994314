/*
 * xalloc: the one allocation policy of stanced. Out of memory is not a
 * condition any caller can repair, so these wrappers abort with a message
 * instead of returning NULL; call sites never check.
 */
#ifndef STANCE_XALLOC_H
#define STANCE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
