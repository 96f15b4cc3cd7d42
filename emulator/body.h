/*
 * body.h - receiving a request body: accumulate it in memory under a cap,
 * or stream it to a temp file (EMU_OP_STREAM), removing aws-chunked framing
 * (and checking chunk signatures) and computing the digests S3 needs on the
 * way. Core-private.
 */
#ifndef BODY_H
#define BODY_H

#include "emu.h"
#include "sigv4.h"

struct emu_body;

/* Options for one body. */
struct emu_body_opts {
    int stream;              /* to a temp file (req->upload) instead of memory */
    int aws_chunked;         /* Content-Encoding aws-chunked / STREAMING-* sha */
    int signed_chunks;       /* chunk signatures to verify with chain */
    struct sigv4_chunk_chain chain;
    int raw_sha256;          /* hash the raw body (to check x-amz-content-sha256) */
    size_t cap;              /* in-memory cap */
    unsigned want;           /* EMU_DIGEST_* for streamed bodies */
};

#define EMU_DIGEST_MD5 0x01
#define EMU_DIGEST_SHA256 0x02
#define EMU_DIGEST_SHA1 0x04
#define EMU_DIGEST_CRC32 0x08
#define EMU_DIGEST_CRC32C 0x10
#define EMU_DIGEST_CRC64 0x20

/* Returns a new body receiver, or NULL when the temp file cannot be made. */
struct emu_body *emu_body_new(const struct emu_body_opts *o);
/* Feeds raw bytes. Returns 0, or -1 when the body is refused (too large,
 * bad framing, bad chunk signature, I/O error): see emu_body_error. */
int emu_body_feed(struct emu_body *b, const char *data, size_t len);
/* Ends the body and hands it to req (req->body/body_len or req->upload).
 * raw_sha256_hex receives the raw body's hash when opts.raw_sha256.
 * Returns 0, or -1 (see emu_body_error). */
int emu_body_finish(struct emu_body *b, struct emu_request *req, char raw_sha256_hex[65]);
/* Why the body was refused. */
enum emu_error emu_body_error(const struct emu_body *b, const char **message);
void emu_body_free(struct emu_body *b);

/* emu_crc32c, emu_crc64nvme: see emu.h. */

#endif
