/* sha256.h — SHA-256 digests as 64 lowercase hex digits (deck hashes,
 * tokenizer hashes).  The one place that writes a digest as hex. */
#ifndef NTRON_SHA256_H
#define NTRON_SHA256_H

#include <stddef.h>

/* SHA-256 of data[0..len) into hex (64 digits + NUL). */
void nt_sha256_hex(const void *data, size_t len, char hex[65]);
/* SHA-256 of a file's bytes into hex; 0, or -1 with errno set (cannot open,
 * read error). */
int nt_sha256_file_hex(const char *path, char hex[65]);

#endif
