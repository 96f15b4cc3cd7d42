/*
 * sigv4.h - AWS Signature Version 4 verification (header and presigned
 * forms) and the chunk-signature chain of signed aws-chunked bodies.
 */
#ifndef SIGV4_H
#define SIGV4_H

#include "emu.h"

struct sigv4_auth {
    int presigned;
    char access_key[128];
    char date[16];    /* yyyymmdd from the credential scope */
    char region[32];
    char service[32];
    char amz_date[20]; /* yyyymmddThhmmssZ */
    char signed_headers[2048];
    char signature[72];
    long expires; /* presigned X-Amz-Expires, seconds */
};

/* Reads the Authorization header or presigned query of req. Returns 1 when
 * the request is signed and a is filled, 0 when it carries no signature,
 * -1 when the signature fields are malformed (err says why). */
int sigv4_parse(const struct emu_request *req, struct sigv4_auth *a, char *err, size_t errlen);

/* Checks the signature with secret. payload_hash is the hex SHA-256 of the
 * body or the literal the client signed (UNSIGNED-PAYLOAD, STREAMING-...).
 * Returns 0 when it matches, -1 otherwise. */
int sigv4_verify(const struct emu_request *req, const struct sigv4_auth *a, const char *secret,
                 const char *payload_hash);

/* Parses "yyyymmddThhmmssZ" to epoch seconds; -1 on error. */
double sigv4_parse_amz_date(const char *s);

/* Derives the signing key. */
void sigv4_signing_key(const char *secret, const char *date, const char *region,
                       const char *service, unsigned char out[32]);

/* Hex SHA-256 of data. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* The chain of chunk signatures of STREAMING-AWS4-HMAC-SHA256-PAYLOAD. */
struct sigv4_chunk_chain {
    unsigned char key[32];
    char scope[160];
    char amz_date[20];
    char prev[72];
};
void sigv4_chunk_init(struct sigv4_chunk_chain *c, const struct sigv4_auth *a, const char *secret);
/* Verifies one chunk's signature given the SHA-256 of its data (hex) and
 * advances the chain. Returns 0 if it matches, -1 otherwise. */
int sigv4_chunk_verify(struct sigv4_chunk_chain *c, const char *data_sha256_hex,
                       const char *signature);

#endif
