/*
 * sha256: the hash that names a training corpus in a bundle's manifest, so
 * that a model can be traced to the exact data it was trained on.
 */
#ifndef STANCE_SHA256_H
#define STANCE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t n);

/* Writes the digest as 64 lowercase hex digits and a NUL into hex. */
void sha256_final_hex(struct sha256 *c, char hex[65]);

#endif
