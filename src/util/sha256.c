/* sha256.c — SHA-256 (OpenSSL EVP) of a buffer or a file, written as hex. */
#include "util/sha256.h"
#include "util/check.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>

static void to_hex(const unsigned char md[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

void nt_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    NT_CHECK(EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) == 1 && md_len == 32, "EVP_Digest(SHA-256) failed");
    to_hex(md, hex);
}

int nt_sha256_file_hex(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    NT_CHECK(c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1, "EVP_DigestInit(SHA-256) failed");
    unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) NT_CHECK(EVP_DigestUpdate(c, buf, r) == 1, "EVP_DigestUpdate failed");
    int err = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    NT_CHECK(EVP_DigestFinal_ex(c, md, &md_len) == 1 && md_len == 32, "EVP_DigestFinal(SHA-256) failed");
    EVP_MD_CTX_free(c);
    if (err) { errno = err; return -1; }
    to_hex(md, hex);
    return 0;
}
