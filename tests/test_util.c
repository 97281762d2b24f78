/* test_util.c — small helpers of harness/util.c whose edge cases matter (issue 11 §7). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/base/tokens.h"
#include "harness/base/util.h"
#include "t.h"

/* The one token estimate (base/tokens.h, docs/decision.md): ceil(UTF-8 bytes / 4). */
static void test_token_estimate(void)
{
    T_CHECK(fe_estimate_tokens(NULL) == 0);
    T_CHECK(fe_estimate_tokens("") == 0);
    T_CHECK(fe_estimate_tokens("a") == 1);
    T_CHECK(fe_estimate_tokens("word") == 1);
    T_CHECK(fe_estimate_tokens("words") == 2);
    T_CHECK(fe_estimate_tokens("   \t ") == 2); /* whitespace is bytes too */
    T_CHECK(fe_estimate_tokens("internationalization") == 5); /* 20 bytes */
    /* 62 bytes: OpenAI's rule of thumb (about 4 characters per token) */
    T_CHECK(fe_estimate_tokens("The quick brown fox jumps over the lazy dog and keeps running.") ==
            16);
    T_CHECK(fe_estimate_tokens("\xc3\xa9t\xc3\xa9") == 2);           /* 5 bytes */
    T_CHECK(fe_estimate_tokens("\xe6\x97\xa5\xe6\x9c\xac") == 2); /* 2 CJK = 6 bytes */
    T_CHECK(fe_estimate_tokens_len(0) == 0);
    T_CHECK(fe_estimate_tokens_len(4) == 1);
    T_CHECK(fe_estimate_tokens_len(5) == 2);
    T_CHECK(fe_estimate_tokens_len((size_t)4e9 + 1) == 1000000001L);
}

/* fe_utf8_prefix: the longest prefix of at most max bytes that ends on a character boundary */
static void test_utf8_prefix(void)
{
    const char *euro = "ab\xE2\x82\xAC"; /* a, b, U+20AC (3 bytes) */
    T_CHECK(fe_utf8_prefix(euro, 5, 5) == 5);  /* fits */
    T_CHECK(fe_utf8_prefix(euro, 5, 4) == 2);  /* the cut falls inside the euro sign: dropped whole */
    T_CHECK(fe_utf8_prefix(euro, 5, 3) == 2);
    T_CHECK(fe_utf8_prefix(euro, 5, 2) == 2);  /* exactly at the boundary */
    T_CHECK(fe_utf8_prefix(euro, 5, 1) == 1);
    T_CHECK(fe_utf8_prefix(euro, 5, 0) == 0);
    const char *emoji = "\xF0\x9F\x98\x80x"; /* U+1F600 (4 bytes), x */
    T_CHECK(fe_utf8_prefix(emoji, 5, 4) == 4);
    T_CHECK(fe_utf8_prefix(emoji, 5, 3) == 0);
    T_CHECK(fe_utf8_prefix("abc", 3, 10) == 3);
}

int main(void)
{
    test_token_estimate();
    test_utf8_prefix();
    /* fe_mkdir_p(""): no path to create; it must not read past the one-byte copy (ASan) */
    char *empty = calloc(1, 1); /* heap, so the sanitizer build sees any over-read */
    errno = 0;
    T_CHECK(fe_mkdir_p(empty) == -1);
    T_CHECK(errno == ENOENT);
    free(empty);

    char tmpl[] = "/tmp/fteval-util-XXXXXX";
    T_CHECK(mkdtemp(tmpl) != NULL);
    char *deep = fe_xasprintf("%s/a/b/c", tmpl);
    T_CHECK(fe_mkdir_p(deep) == 0);
    T_CHECK(fe_mkdir_p(deep) == 0); /* exists: fine */
    struct stat st;
    T_CHECK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode));
    char *cmd = fe_xasprintf("%s/a/b/c", tmpl);
    rmdir(cmd);
    free(cmd);
    cmd = fe_xasprintf("%s/a/b", tmpl);
    rmdir(cmd);
    free(cmd);
    cmd = fe_xasprintf("%s/a", tmpl);
    rmdir(cmd);
    free(cmd);
    rmdir(tmpl);
    free(deep);
    return T_DONE();
}
