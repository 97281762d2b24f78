/* test_util.c — small helpers of harness/util.c whose edge cases matter (issue 11 §7). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/base/util.h"
#include "t.h"

int main(void)
{
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
