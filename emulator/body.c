/*
 * body.c - request bodies: in memory under a cap, or streamed to a temp file
 * with digests computed on the fly; aws-chunked framing removed on the way:
 *
 *   <hex-size>[;chunk-signature=<64 hex>]\r\n<data>\r\n ... 0[;...]\r\n
 *   [trailer-name:value\r\n ...]\r\n
 *
 * The HTTP layer has already undone Transfer-Encoding: chunked.
 * Invariant: nothing is handed to a service unless the whole body arrived,
 * parsed and (for signed chunks) verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "body.h"

enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER, CH_DONE };

#define BODY_WBUF (256 * 1024)

struct emu_body {
    struct emu_body_opts o;
    struct emu_buf mem;
    int fd;
    char path[512];
    uint64_t size;
    EVP_MD_CTX *md5, *sha256, *sha1, *raw;
    uLong crc32;
    uint32_t crc32c;
    uint64_t crc64;
    /* aws-chunked */
    enum chunk_state st;
    struct emu_buf line;
    uint64_t chunk_left;
    char chunk_sig[72];
    EVP_MD_CTX *chunk_sha;
    struct emu_kvlist trailers;
    /* output staging for the file (streamed bodies only: most requests
     * never touch it, so it is neither in the struct nor zeroed) */
    char *wbuf;
    size_t wlen;
    int failed;
    enum emu_error err;
    const char *errmsg;
};

/* CRC32C and CRC64NVME (reflected; both start from and end with all ones),
 * slicing-by-8: table k advances a byte seen k bytes earlier. */
static uint32_t crc32c_tables[8][256];
static uint64_t crc64_tables[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_build(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        uint64_t d = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            d = (d & 1) ? (d >> 1) ^ 0x9A6C9329AC4BC9B5ull : d >> 1;
        }
        crc32c_tables[0][i] = c;
        crc64_tables[0][i] = d;
    }
    for (int k = 1; k < 8; k++) {
        for (int i = 0; i < 256; i++) {
            uint32_t c = crc32c_tables[k - 1][i];
            uint64_t d = crc64_tables[k - 1][i];
            crc32c_tables[k][i] = (c >> 8) ^ crc32c_tables[0][c & 0xff];
            crc64_tables[k][i] = (d >> 8) ^ crc64_tables[0][d & 0xff];
        }
    }
}

static void tables_init(void)
{
    pthread_once(&tables_once, tables_build);
}

uint32_t emu_crc32c(uint32_t crc, const void *data, size_t len)
{
    tables_init();
    const unsigned char *p = data;
    crc = ~crc;
    while (len >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
        crc = crc32c_tables[7][lo & 0xff] ^ crc32c_tables[6][(lo >> 8) & 0xff] ^
              crc32c_tables[5][(lo >> 16) & 0xff] ^ crc32c_tables[4][lo >> 24] ^
              crc32c_tables[3][p[4]] ^ crc32c_tables[2][p[5]] ^ crc32c_tables[1][p[6]] ^
              crc32c_tables[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--) {
        crc = crc32c_tables[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

uint64_t emu_crc64nvme(uint64_t crc, const void *data, size_t len)
{
    tables_init();
    const unsigned char *p = data;
    crc = ~crc;
    while (len >= 8) {
        uint64_t c = crc ^ ((uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
                            (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
                            (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56);
        crc = crc64_tables[7][c & 0xff] ^ crc64_tables[6][(c >> 8) & 0xff] ^
              crc64_tables[5][(c >> 16) & 0xff] ^ crc64_tables[4][(c >> 24) & 0xff] ^
              crc64_tables[3][(c >> 32) & 0xff] ^ crc64_tables[2][(c >> 40) & 0xff] ^
              crc64_tables[1][(c >> 48) & 0xff] ^ crc64_tables[0][c >> 56];
        p += 8;
        len -= 8;
    }
    while (len--) {
        crc = crc64_tables[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

static EVP_MD_CTX *md_new(const EVP_MD *md)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c) {
        EVP_DigestInit_ex(c, md, NULL);
    }
    return c;
}

struct emu_body *emu_body_new(const struct emu_body_opts *o)
{
    tables_init();
    struct emu_body *b = calloc(1, sizeof(*b));
    if (b == NULL) {
        return NULL;
    }
    b->o = *o;
    b->fd = -1;
    if (o->stream) {
        char id[17];
        b->wbuf = malloc(BODY_WBUF);
        if (b->wbuf == NULL) {
            free(b);
            return NULL;
        }
        emu_random_hex(id, 16);
        snprintf(b->path, sizeof(b->path), "%s/up-%s", emu_tmp_dir(), id);
        b->fd = open(b->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (b->fd < 0) {
            emu_error_log("body: cannot create %s: %s", b->path, strerror(errno));
            free(b->wbuf);
            free(b);
            return NULL;
        }
        unsigned w = o->want | EMU_DIGEST_MD5;
        if (w & EMU_DIGEST_MD5) {
            b->md5 = md_new(EVP_md5());
        }
        if (w & EMU_DIGEST_SHA256) {
            b->sha256 = md_new(EVP_sha256());
        }
        if (w & EMU_DIGEST_SHA1) {
            b->sha1 = md_new(EVP_sha1());
        }
        b->crc32 = crc32(0L, Z_NULL, 0);
    }
    if (o->raw_sha256) {
        b->raw = md_new(EVP_sha256());
    }
    if (o->signed_chunks) {
        b->chunk_sha = md_new(EVP_sha256());
    }
    b->st = CH_SIZE;
    return b;
}

static int fail(struct emu_body *b, enum emu_error e, const char *msg)
{
    b->failed = 1;
    b->err = e;
    b->errmsg = msg;
    return -1;
}

static int flush_file(struct emu_body *b)
{
    size_t off = 0;
    while (off < b->wlen) {
        ssize_t n = write(b->fd, b->wbuf + off, b->wlen - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            emu_error_log("body: write %s: %s", b->path, strerror(errno));
            return fail(b, AWS_INTERNAL_FAILURE, NULL);
        }
        off += (size_t)n;
    }
    b->wlen = 0;
    return 0;
}

/* Decoded bytes: to memory or file, through the digests. */
static int emit(struct emu_body *b, const char *data, size_t len)
{
    if (len == 0) {
        return 0;
    }
    b->size += len;
    if (!b->o.stream) {
        if (b->mem.len + len > b->o.cap) {
            return fail(b, AWS_REQUEST_ENTITY_TOO_LARGE, "Request body is too large.");
        }
        emu_buf_append(&b->mem, data, len);
        return 0;
    }
    if (b->md5) {
        EVP_DigestUpdate(b->md5, data, len);
    }
    if (b->sha256) {
        EVP_DigestUpdate(b->sha256, data, len);
    }
    if (b->sha1) {
        EVP_DigestUpdate(b->sha1, data, len);
    }
    if (b->o.want & EMU_DIGEST_CRC32) {
        b->crc32 = crc32(b->crc32, (const Bytef *)data, (uInt)len);
    }
    if (b->o.want & EMU_DIGEST_CRC32C) {
        b->crc32c = emu_crc32c(b->crc32c, data, len);
    }
    if (b->o.want & EMU_DIGEST_CRC64) {
        b->crc64 = emu_crc64nvme(b->crc64, data, len);
    }
    while (len > 0) {
        size_t room = BODY_WBUF - b->wlen;
        size_t n = len < room ? len : room;
        memcpy(b->wbuf + b->wlen, data, n);
        b->wlen += n;
        data += n;
        len -= n;
        if (b->wlen == BODY_WBUF && flush_file(b) != 0) {
            return -1;
        }
    }
    return 0;
}

static int chunk_line(struct emu_body *b)
{
    char *line = b->line.data ? b->line.data : "";
    if (b->st == CH_SIZE) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(line, &end, 16);
        if (end == line || errno != 0 || (*end != 0 && *end != ';')) {
            return fail(b, S3_INCOMPLETE_BODY, "The aws-chunked body is malformed.");
        }
        b->chunk_sig[0] = 0;
        if (*end == ';') {
            const char *sig = strstr(end, "chunk-signature=");
            if (sig) {
                snprintf(b->chunk_sig, sizeof(b->chunk_sig), "%s", sig + 16);
            }
        }
        if (b->o.signed_chunks && b->chunk_sig[0] == 0) {
            return fail(b, AWS_SIGNATURE_DOES_NOT_MATCH, "Missing chunk signature.");
        }
        b->chunk_left = n;
        if (b->chunk_sha) {
            EVP_DigestInit_ex(b->chunk_sha, EVP_sha256(), NULL);
        }
        if (n == 0) {
            if (b->o.signed_chunks) {
                char hex[65];
                unsigned char md[32];
                unsigned int l = 0;
                EVP_DigestFinal_ex(b->chunk_sha, md, &l);
                emu_hex(md, 32, hex);
                if (sigv4_chunk_verify(&b->o.chain, hex, b->chunk_sig) != 0) {
                    return fail(b, AWS_SIGNATURE_DOES_NOT_MATCH, NULL);
                }
            }
            b->st = CH_TRAILER;
        } else {
            b->st = CH_DATA;
        }
    } else if (b->st == CH_TRAILER) {
        if (line[0] == 0) {
            b->st = CH_DONE;
        } else {
            char *colon = strchr(line, ':');
            if (colon == NULL) {
                return fail(b, S3_INCOMPLETE_BODY, "The aws-chunked trailer is malformed.");
            }
            *colon = 0;
            const char *v = colon + 1;
            while (*v == ' ') {
                v++;
            }
            for (char *p = line; *p; p++) {
                if (*p >= 'A' && *p <= 'Z') {
                    *p = (char)(*p - 'A' + 'a');
                }
            }
            emu_kv_add(&b->trailers, line, v);
        }
    }
    emu_buf_release(&b->line);
    return 0;
}

static int feed_chunked(struct emu_body *b, const char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        switch (b->st) {
        case CH_SIZE:
        case CH_TRAILER: {
            const char *nl = memchr(p + i, '\n', len - i);
            size_t n = nl ? (size_t)(nl - (p + i)) : len - i;
            if (b->line.len + n > 8192) {
                return fail(b, S3_INCOMPLETE_BODY, "The aws-chunked body is malformed.");
            }
            emu_buf_append(&b->line, p + i, n);
            i += n;
            if (nl) {
                i++;
                if (b->line.len && b->line.data[b->line.len - 1] == '\r') {
                    b->line.data[--b->line.len] = 0;
                }
                if (chunk_line(b) != 0) {
                    return -1;
                }
            }
            break;
        }
        case CH_DATA: {
            size_t n = len - i < b->chunk_left ? len - i : (size_t)b->chunk_left;
            if (b->chunk_sha) {
                EVP_DigestUpdate(b->chunk_sha, p + i, n);
            }
            if (emit(b, p + i, n) != 0) {
                return -1;
            }
            b->chunk_left -= n;
            i += n;
            if (b->chunk_left == 0) {
                if (b->o.signed_chunks) {
                    char hex[65];
                    unsigned char md[32];
                    unsigned int l = 0;
                    EVP_DigestFinal_ex(b->chunk_sha, md, &l);
                    emu_hex(md, 32, hex);
                    if (sigv4_chunk_verify(&b->o.chain, hex, b->chunk_sig) != 0) {
                        return fail(b, AWS_SIGNATURE_DOES_NOT_MATCH, NULL);
                    }
                }
                b->st = CH_DATA_CR;
            }
            break;
        }
        case CH_DATA_CR:
            if (p[i] != '\r') {
                return fail(b, S3_INCOMPLETE_BODY, "The aws-chunked body is malformed.");
            }
            i++;
            b->st = CH_DATA_LF;
            break;
        case CH_DATA_LF:
            if (p[i] != '\n') {
                return fail(b, S3_INCOMPLETE_BODY, "The aws-chunked body is malformed.");
            }
            i++;
            b->st = CH_SIZE;
            break;
        case CH_DONE:
            /* tolerate trailing CR/LF; anything else is an error */
            if (p[i] != '\r' && p[i] != '\n') {
                return fail(b, S3_INCOMPLETE_BODY, "Data after the end of the aws-chunked body.");
            }
            i++;
            break;
        }
    }
    return 0;
}

int emu_body_feed(struct emu_body *b, const char *data, size_t len)
{
    if (b->failed) {
        return -1;
    }
    if (b->raw) {
        EVP_DigestUpdate(b->raw, data, len);
    }
    if (b->o.aws_chunked) {
        return feed_chunked(b, data, len);
    }
    return emit(b, data, len);
}

static void md_final(EVP_MD_CTX *c, unsigned char *out)
{
    unsigned int l = 0;
    if (c) {
        EVP_DigestFinal_ex(c, out, &l);
    }
}

int emu_body_finish(struct emu_body *b, struct emu_request *req, char raw_sha256_hex[65])
{
    if (b->failed) {
        return -1;
    }
    if (b->o.aws_chunked && b->st != CH_DONE) {
        /* the final empty line after trailers may be missing: accept a body
         * that ended cleanly after the zero chunk */
        if (!(b->st == CH_TRAILER && b->line.len == 0)) {
            return fail(b, S3_INCOMPLETE_BODY, NULL);
        }
    }
    if (b->raw && raw_sha256_hex) {
        unsigned char md[32];
        md_final(b->raw, md);
        emu_hex(md, 32, raw_sha256_hex);
    }
    if (!b->o.stream) {
        req->body_len = b->mem.len;
        req->body = emu_buf_take(&b->mem);
        return 0;
    }
    if (flush_file(b) != 0) {
        return -1;
    }
    struct emu_upload *u = calloc(1, sizeof(*u));
    if (u == NULL) {
        return fail(b, AWS_INTERNAL_FAILURE, NULL);
    }
    snprintf(u->path, sizeof(u->path), "%s", b->path);
    u->size = b->size;
    md_final(b->md5, u->md5);
    md_final(b->sha256, u->sha256);
    md_final(b->sha1, u->sha1);
    u->crc32 = (uint32_t)b->crc32;
    u->crc32c = b->crc32c;
    u->crc64nvme = b->crc64;
    u->has_crc64nvme = (b->o.want & EMU_DIGEST_CRC64) != 0;
    u->trailers = b->trailers;
    memset(&b->trailers, 0, sizeof(b->trailers));
    /* durable before anyone can see it: sync here, in the connection's
     * thread, before the handler takes the store lock */
    if (!emu_cfg.ephemeral) {
        if (fdatasync(b->fd) != 0) {
            emu_error_log("body: fdatasync %s: %s", b->path, strerror(errno));
            emu_kv_release(&u->trailers);
            free(u);
            return fail(b, AWS_INTERNAL_FAILURE, NULL);
        }
        u->synced = 1;
    }
    close(b->fd);
    b->fd = -1;
    b->path[0] = 0; /* the request owns the file now */
    req->upload = u;
    req->body = strdup("");
    req->body_len = 0;
    return 0;
}

enum emu_error emu_body_error(const struct emu_body *b, const char **message)
{
    if (message) {
        *message = b->errmsg;
    }
    return b->err;
}

void emu_body_free(struct emu_body *b)
{
    if (b == NULL) {
        return;
    }
    if (b->fd >= 0) {
        close(b->fd);
    }
    if (b->path[0]) {
        unlink(b->path);
    }
    EVP_MD_CTX_free(b->md5);
    EVP_MD_CTX_free(b->sha256);
    EVP_MD_CTX_free(b->sha1);
    EVP_MD_CTX_free(b->raw);
    EVP_MD_CTX_free(b->chunk_sha);
    emu_buf_release(&b->mem);
    emu_buf_release(&b->line);
    emu_kv_release(&b->trailers);
    free(b->wbuf);
    free(b);
}
