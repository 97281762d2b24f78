/* test_sigv4.c — harness/base/sigv4.c on vectors copied from AWS's Signature Version 4 test
 * suite (get-vanilla, get-header-value-trim, get-vanilla-query-order-key-case,
 * get-vanilla-utf8-query, post-header-key-sort, post-sts-header-before: their Authorization
 * values as AWS publishes them), the header-trimming rule, Bedrock's double-encoded ARN path,
 * and the date format. Needs no npm; tests/test_sigv4_suite.c runs the whole published suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/sigv4.h"
#include "tests/t.h"

#define T_AKID "AKIDEXAMPLE"
#define T_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T_SCOPE "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
#define T_DATE "20150830T123600Z"
#define T_TOKEN "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPf" \
    "IeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9" \
    "HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rv" \
    "x3iSIlTJabIQwj2ICCR/oLxBA=="

static char *t_sign(const char *method, const char *query, const struct fe_sigv4_header *h, size_t n)
{
    struct fe_sigv4_request req = {
        .method = method, .path = "/", .query = query, .headers = h, .n_headers = n, .amz_date = T_DATE,
        .region = "us-east-1", .service = "service", .access_key_id = T_AKID, .secret_access_key = T_SECRET,
    };
    struct fe_sigv4_result r;
    if (fe_sigv4_sign(&req, &r) != 0)
        return NULL;
    char *a = r.authorization;
    r.authorization = NULL;
    fe_sigv4_result_release(&r);
    return a;
}

#define T_AUTH(signed_headers, sig) \
    ("AWS4-HMAC-SHA256 Credential=" T_SCOPE ", SignedHeaders=" signed_headers ", Signature=" sig)

static void t_copied_vectors(void)
{
    struct fe_sigv4_header trim[] = {{"Host", "example.amazonaws.com"}, {"My-Header1", "value1"},
                                     {"My-Header2", "\"a   b   c\""}, {"X-Amz-Date", T_DATE}};
    const char *want_trim = T_AUTH("host;my-header1;my-header2;x-amz-date",
                                   "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
    char *a = t_sign("GET", "", trim, 4);
    T_CHECK_STR(a, want_trim);
    free(a);
    /* the rule behind the vector: leading and trailing whitespace is not signed */
    struct fe_sigv4_header padded[] = {{"Host", " example.amazonaws.com"}, {"My-Header1", "  value1 \t"},
                                       {"My-Header2", "\t\"a b   c\"  "}, {"X-Amz-Date", T_DATE}};
    a = t_sign("GET", "", padded, 4);
    T_CHECK_STR(a, want_trim);
    free(a);

    struct fe_sigv4_header hd[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", T_DATE}};
    a = t_sign("GET", "Param2=value2&Param1=value1", hd, 2);
    T_CHECK_STR(a, T_AUTH("host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
    free(a);
    a = t_sign("GET", "\xe1\x88\xb4=bar", hd, 2);
    T_CHECK_STR(a, T_AUTH("host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"));
    free(a);

    struct fe_sigv4_header sorted[] = {{"Host", "example.amazonaws.com"}, {"My-Header1", "value1"}, {"X-Amz-Date", T_DATE}};
    a = t_sign("POST", "", sorted, 3);
    T_CHECK_STR(a, T_AUTH("host;my-header1;x-amz-date", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"));
    free(a);

    struct fe_sigv4_header sts[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", T_DATE},
                                    {"X-Amz-Security-Token", T_TOKEN}};
    a = t_sign("POST", "", sts, 3);
    T_CHECK_STR(a, T_AUTH("host;x-amz-date;x-amz-security-token",
                          "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
    free(a);
}

/* get-vanilla, copied from AWS's test suite (get-vanilla.authz). */
static void t_embedded(void)
{
    struct fe_sigv4_header h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    struct fe_sigv4_request req = {
        .method = "GET", .path = "/", .query = "", .headers = h, .n_headers = 2,
        .amz_date = "20150830T123600Z", .region = "us-east-1", .service = "service",
        .access_key_id = "AKIDEXAMPLE", .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    };
    struct fe_sigv4_result r;
    T_CHECK(fe_sigv4_sign(&req, &r) == 0);
    T_CHECK_STR(r.authorization,
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                "SignedHeaders=host;x-amz-date, "
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    T_CHECK_STR(r.signed_headers, "host;x-amz-date");
    fe_sigv4_result_release(&r);

    /* missing pieces are refused, not signed with a default */
    req.region = NULL;
    T_CHECK(fe_sigv4_sign(&req, &r) == -1);
    T_CHECK(r.authorization == NULL);
    req.region = "us-east-1";
    req.amz_date = "20150830";
    T_CHECK(fe_sigv4_sign(&req, &r) == -1);
}

/* The non-S3 rule: the path as sent (already encoded once) is encoded again, so a Bedrock model
 * ARN's "%3A" is signed as "%253A" (what botocore does for bedrock-runtime). */
static void t_double_encoding(void)
{
    struct fe_sigv4_header h[] = {{"host", "bedrock-runtime.us-east-1.amazonaws.com"},
                                  {"x-amz-date", "20260101T000000Z"}};
    struct fe_sigv4_request req = {
        .method = "POST", .path = "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Acustom-model%2Fa/converse",
        .headers = h, .n_headers = 2, .body = "{}", .body_len = 2, .amz_date = "20260101T000000Z",
        .region = "us-east-1", .service = "bedrock", .access_key_id = "AKID", .secret_access_key = "secret",
    };
    struct fe_sigv4_result r;
    T_CHECK(fe_sigv4_sign(&req, &r) == 0);
    T_CHECK(r.canonical_request &&
            strncmp(r.canonical_request,
                    "POST\n/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A1%253Acustom-model%252Fa/converse\n\n",
                    86) == 0);
    fe_sigv4_result_release(&r);
    char *e = fe_sigv4_uri_encode("a b/\xc3\xa9~", 7, 0);
    T_CHECK_STR(e, "a%20b%2F%C3%A9~");
    free(e);
}

static void t_amz_date(void)
{
    char d[17];
    fe_sigv4_amz_date(1440938160LL, d);
    T_CHECK_STR(d, "20150830T123600Z");
    fe_sigv4_amz_date(0, d);
    T_CHECK_STR(d, "19700101T000000Z");
}

int main(void)
{
    t_embedded();
    t_copied_vectors();
    t_double_encoding();
    t_amz_date();
    return T_DONE();
}
