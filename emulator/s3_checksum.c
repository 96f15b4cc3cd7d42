/*
 * s3_checksum.c - the additional checksums of S3 objects (CRC32, CRC32C,
 * CRC64NVME, SHA1, SHA256) that the S3 files need beyond what the core
 * computes while receiving a body: a checksum of a whole file (a part
 * uploaded without the algorithm its upload was created with), the
 * full-object CRC of a multipart object from its parts' CRCs (CRC
 * combination, no data read), and checks of checksum header values.
 *
 * Checksums are carried as base64 of the big-endian digest, as on the wire.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "s3_int.h"

/* Reflected polynomials; all three CRCs start from and end with all ones. */
#define S3_POLY_CRC32 0xEDB88320u
#define S3_POLY_CRC32C 0x82F63B78u
#define S3_POLY_CRC64NVME 0x9A6C9329AC4BC9B5ull

/* Digest size in bytes of an algorithm (lower case), 0 if unknown. */
size_t s3_checksum_size(const char *algo)
{
    if (strcmp(algo, "crc32") == 0 || strcmp(algo, "crc32c") == 0) {
        return 4;
    }
    if (strcmp(algo, "crc64nvme") == 0) {
        return 8;
    }
    if (strcmp(algo, "sha1") == 0) {
        return 20;
    }
    if (strcmp(algo, "sha256") == 0) {
        return 32;
    }
    return 0;
}

int s3_checksum_is_crc(const char *algo)
{
    return strcmp(algo, "crc32") == 0 || strcmp(algo, "crc32c") == 0 ||
           strcmp(algo, "crc64nvme") == 0;
}

int s3_checksum_valid(const char *algo, const char *value)
{
    size_t n = s3_checksum_size(algo);
    if (n == 0 || value == NULL || strlen(value) != 4 * ((n + 2) / 3)) {
        return 0;
    }
    unsigned char bin[48];
    return s3_checksum_decode(value, bin, sizeof(bin)) == (int)n;
}

int s3_checksum_decode(const char *b64, unsigned char *out, size_t cap)
{
    size_t sl = strlen(b64);
    if (sl == 0 || sl % 4 != 0 || sl / 4 * 3 > cap) {
        return -1;
    }
    for (size_t i = 0; i < sl; i++) {
        unsigned char c = (unsigned char)b64[i];
        int pad_ok = c == '=' && i >= sl - 2 && (i == sl - 1 || b64[sl - 1] == '=');
        if (!(isalnum(c) || c == '+' || c == '/' || pad_ok)) {
            return -1;
        }
    }
    int dl = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)sl);
    if (dl < 0) {
        return -1;
    }
    for (size_t k = sl; k > 0 && b64[k - 1] == '='; k--) {
        dl--;
    }
    return dl;
}

/* base64 of the big-endian bytes of a CRC of width bytes. */
static void s3_crc_b64(uint64_t v, size_t width, char out[96])
{
    unsigned char be[8];
    for (size_t i = 0; i < width; i++) {
        be[i] = (unsigned char)(v >> (8 * (width - 1 - i)));
    }
    s3_b64(be, width, out, 96);
}

int s3_file_checksum(const char *path, const char *algo, char out[96])
{
    out[0] = 0;
    size_t size = s3_checksum_size(algo);
    if (size == 0) {
        return -1;
    }
    const EVP_MD *md = strcmp(algo, "sha1") == 0     ? EVP_sha1()
                       : strcmp(algo, "sha256") == 0 ? EVP_sha256()
                                                     : NULL;
    EVP_MD_CTX *ctx = NULL;
    int rc = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    if (md != NULL && ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1)) {
        goto out;
    }
    uLong c32 = crc32(0L, Z_NULL, 0);
    uint32_t c32c = 0;
    uint64_t c64 = 0;
    unsigned char *buf = malloc(1 << 16);
    if (buf == NULL) {
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf, 1 << 16);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            free(buf);
            goto out;
        }
        if (n == 0) {
            break;
        }
        if (md != NULL) {
            EVP_DigestUpdate(ctx, buf, (size_t)n);
        } else if (strcmp(algo, "crc32") == 0) {
            c32 = crc32(c32, buf, (uInt)n);
        } else if (strcmp(algo, "crc32c") == 0) {
            c32c = emu_crc32c(c32c, buf, (size_t)n);
        } else {
            c64 = emu_crc64nvme(c64, buf, (size_t)n);
        }
    }
    free(buf);
    if (md != NULL) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int dn = 0;
        EVP_DigestFinal_ex(ctx, d, &dn);
        s3_b64(d, dn, out, 96);
    } else if (strcmp(algo, "crc32") == 0) {
        s3_crc_b64(c32, 4, out);
    } else if (strcmp(algo, "crc32c") == 0) {
        s3_crc_b64(c32c, 4, out);
    } else {
        s3_crc_b64(c64, 8, out);
    }
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    close(fd);
    return rc;
}

int s3_buf_digest(const char *algo, const void *data, size_t len, unsigned char out[32])
{
    const unsigned char *p = data;
    if (strcmp(algo, "sha1") == 0 || strcmp(algo, "sha256") == 0) {
        unsigned int dn = 0;
        unsigned char d[EVP_MAX_MD_SIZE];
        if (EVP_Digest(data, len, d, &dn, strcmp(algo, "sha1") == 0 ? EVP_sha1() : EVP_sha256(),
                       NULL) != 1 ||
            dn > 32) {
            return -1;
        }
        memcpy(out, d, dn);
        return (int)dn;
    }
    uint64_t v;
    size_t width = 4;
    if (strcmp(algo, "crc32") == 0) {
        v = crc32(crc32(0L, Z_NULL, 0), p, (uInt)len);
    } else if (strcmp(algo, "crc32c") == 0) {
        v = emu_crc32c(0, p, len);
    } else if (strcmp(algo, "crc64nvme") == 0) {
        v = emu_crc64nvme(0, p, len);
        width = 8;
    } else {
        return -1;
    }
    for (size_t i = 0; i < width; i++) {
        out[i] = (unsigned char)(v >> (8 * (width - 1 - i)));
    }
    return (int)width;
}

/* GF(2) matrix helpers for CRC combination (as zlib's crc32_combine, for
 * any reflected CRC up to 64 bits whose init and final xor are all ones). */
static uint64_t s3_gf2_times(const uint64_t *mat, uint64_t vec)
{
    uint64_t sum = 0;
    while (vec != 0) {
        if (vec & 1) {
            sum ^= *mat;
        }
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void s3_gf2_square(uint64_t *square, const uint64_t *mat, int bits)
{
    for (int n = 0; n < bits; n++) {
        square[n] = s3_gf2_times(mat, mat[n]);
    }
}

/* crc(A || B) from crc(A), crc(B) and len(B). */
static uint64_t s3_crc_combine(uint64_t crc1, uint64_t crc2, uint64_t len2, uint64_t poly, int bits)
{
    uint64_t even[64], odd[64];
    if (len2 == 0) {
        return crc1;
    }
    odd[0] = poly; /* the operator for one zero bit */
    uint64_t row = 1;
    for (int n = 1; n < bits; n++) {
        odd[n] = row;
        row <<= 1;
    }
    s3_gf2_square(even, odd, bits); /* two zero bits */
    s3_gf2_square(odd, even, bits); /* four zero bits */
    do {
        s3_gf2_square(even, odd, bits);
        if (len2 & 1) {
            crc1 = s3_gf2_times(even, crc1);
        }
        len2 >>= 1;
        if (len2 == 0) {
            break;
        }
        s3_gf2_square(odd, even, bits);
        if (len2 & 1) {
            crc1 = s3_gf2_times(odd, crc1);
        }
        len2 >>= 1;
    } while (len2 != 0);
    return crc1 ^ crc2;
}

int s3_crc_full_object(const char *algo, const char *const *sums, const int64_t *sizes, size_t n,
                       char out[96])
{
    out[0] = 0;
    int bits = strcmp(algo, "crc64nvme") == 0 ? 64 : 32;
    uint64_t poly = strcmp(algo, "crc32") == 0    ? S3_POLY_CRC32
                    : strcmp(algo, "crc32c") == 0 ? S3_POLY_CRC32C
                                                  : S3_POLY_CRC64NVME;
    if (!s3_checksum_is_crc(algo)) {
        return -1;
    }
    size_t width = (size_t)bits / 8;
    uint64_t acc = 0; /* the CRC of no data */
    for (size_t i = 0; i < n; i++) {
        unsigned char bin[48];
        if (sums[i] == NULL || s3_checksum_decode(sums[i], bin, sizeof(bin)) != (int)width) {
            return -1;
        }
        uint64_t c = 0;
        for (size_t k = 0; k < width; k++) {
            c = (c << 8) | bin[k];
        }
        acc = i == 0 ? c : s3_crc_combine(acc, c, (uint64_t)sizes[i], poly, bits);
    }
    s3_crc_b64(acc, width, out);
    return 0;
}
