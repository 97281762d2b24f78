/* test_fs.c — the atomic file writer (harness/base/fs.h): after every kind of failure the
 * temporary file is gone, the target holds exactly its old content (or is still absent), and the
 * error is FE_EIO naming the target. Works as root (CI runs as root, where a read-only folder
 * stops nothing): the failures come from a file-size limit (RLIMIT_FSIZE with SIGXFSZ ignored:
 * the kernel's EFBIG), a target that is a non-empty folder (rename's EISDIR), a missing folder,
 * and, for fsync, a link-time seam: CMakeLists.txt links this test with --wrap=fsync, so every
 * fsync of the library goes through __wrap_fsync below. The redacting stream
 * (fe_atomic_put_redacted) is checked against the whole text redacted at once, cut at every
 * byte, and against the expected text written out by hand. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/base/fs.h"
#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "t.h"

/* ---- the fsync seam ---- */
int __real_fsync(int fd);
int __wrap_fsync(int fd);
static int fail_fsync_at; /* 0: never; n: the n-th call from now fails with EIO */
static int fsync_calls;

int __wrap_fsync(int fd)
{
    fsync_calls++;
    if (fail_fsync_at && fsync_calls == fail_fsync_at) {
        errno = EIO;
        return -1;
    }
    return __real_fsync(fd);
}

static void arm_fsync_failure(int nth)
{
    fsync_calls = 0;
    fail_fsync_at = nth;
}

/* ---- helpers ---- */
static char *slurp(const char *path)
{
    return fe_read_file(path, 0, NULL);
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    T_CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Number of entries in dir whose name contains ".tmp." (left-over temporary files). */
static int temps_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static bool content_is(const char *path, const char *want)
{
    char *got = slurp(path);
    bool ok = got && strcmp(got, want) == 0;
    free(got);
    return ok;
}

/* The text, put through fe_atomic_put_redacted in pieces cut at the given positions (every
 * call but the last with all false), lands in path as expected. */
static bool streamed_as(const char *path, const char *text, const size_t *cuts, size_t n_cuts,
                        const char *expected)
{
    struct fe_atomic_file a;
    struct fe_err err = {0};
    if (fe_atomic_open(&a, path, &err) != FE_OK)
        return false;
    struct fe_buf b = {0};
    size_t from = 0;
    bool ok = true;
    for (size_t k = 0; k <= n_cuts; k++) {
        size_t to = k < n_cuts ? cuts[k] : strlen(text);
        fe_buf_add(&b, text + from, to - from);
        from = to;
        ok = ok && fe_atomic_put_redacted(&a, &b, k == n_cuts, &err) == FE_OK;
        /* what stays behind is only a tail that a secret may still cross */
        ok = ok && (k == n_cuts ? b.len == 0 : fe_redact_cut(b.data, b.len) == 0);
    }
    fe_buf_release(&b);
    ok = ok && fe_atomic_commit(&a, &err) == FE_OK;
    if (!content_is(path, expected)) {
        fprintf(stderr, "  cuts at %zu...: wrong content\n", n_cuts ? cuts[0] : 0);
        ok = false;
    }
    return ok;
}

/* Secrets split across the pieces of a streamed page are redacted as in the whole page: at every
 * cut position, in one-byte pieces, overlapping and adjacent occurrences, a secret holding the
 * quote and comma that separate the page's JSON values. */
static void test_put_redacted(const char *dir)
{
    char *path = fe_xasprintf("%s/page.html", dir);
    fe_log_add_secret("sk-live-0123456789");
    fe_log_add_secret("abab");
    fe_log_add_secret("SEC\",\"RET");
    const char *text = "<p>key sk-live-0123456789, ababababa [\"RET1SEC\",\"RET2SEC\"] "
                       "sk-live-0123456789sk-live-0123456789.</p>\n";
    const char *expected = "<p>key [REDACTED], [REDACTED][REDACTED]a [\"RET1[REDACTED]2SEC\"] "
                           "[REDACTED][REDACTED].</p>\n";
    char *whole = fe_redact(text);
    T_CHECK_STR(whole, expected); /* the reference: the one mechanism on the whole text */
    free(whole);
    size_t len = strlen(text);
    bool all_ok = true;
    for (size_t c = 0; c <= len; c++) /* one cut at every byte */
        all_ok = streamed_as(path, text, &c, 1, expected) && all_ok;
    T_CHECK(all_ok);
    size_t *each = calloc(len, sizeof(*each)); /* one byte at a time */
    for (size_t c = 0; c < len; c++)
        each[c] = c + 1;
    T_CHECK(streamed_as(path, text, each, len, expected));
    free(each);
    /* a cut falls after a byte no secret holds, never inside "abab" or the key */
    T_CHECK(fe_redact_cut("x sk-live-01", 12) == 2);
    T_CHECK(fe_redact_cut("abab", 4) == 0);
    fe_log_clear_secrets();
    T_CHECK(fe_redact_cut("abab", 4) == 4); /* nothing registered: cut anywhere */
    T_CHECK(temps_in(dir) == 0);
    unlink(path);
    free(path);
}

int main(void)
{
    char dir[] = "/tmp/fteval-fs-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char *target = fe_xasprintf("%s/out.json", dir);
    struct fe_err err = {0};

    /* success: new content, no temporary file, mode like fopen("w") under the umask */
    T_CHECK(fe_write_file_atomic(target, "first\n", 6, &err) == FE_OK);
    T_CHECK(content_is(target, "first\n"));
    T_CHECK(temps_in(dir) == 0);
    mode_t mask = umask(022);
    umask(mask);
    struct stat sb;
    T_CHECK(stat(target, &sb) == 0 && (sb.st_mode & 0777) == (0666 & ~mask));
    T_CHECK(fe_write_file_atomic(target, "second\n", 7, &err) == FE_OK);
    T_CHECK(content_is(target, "second\n"));
    T_CHECK(fe_write_file_atomic(target, "", 0, &err) == FE_OK); /* empty is a content too */
    T_CHECK(content_is(target, ""));
    put(target, "old\n");

    /* a write that fails (file-size limit: EFBIG even for root): old content, no temp */
    {
        struct rlimit saved;
        T_CHECK(getrlimit(RLIMIT_FSIZE, &saved) == 0);
        struct rlimit small = saved;
        small.rlim_cur = 4096;
        void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
        T_CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
        size_t big = 64 * 1024;
        char *data = malloc(big);
        memset(data, 'x', big);
        fe_err_clear(&err);
        enum fe_status st = fe_write_file_atomic(target, data, big, &err);
        /* the streaming form fails at commit when only the buffered flush hits the limit */
        struct fe_atomic_file a;
        struct fe_err err2 = {0};
        enum fe_status st2 = fe_atomic_open(&a, target, &err2);
        if (st2 == FE_OK) {
            for (int i = 0; i < 2; i++)
                fwrite(data, 1, 3000, a.f); /* 6000 bytes > 4096, partly still buffered */
            st2 = fe_atomic_commit(&a, &err2);
        }
        T_CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
        signal(SIGXFSZ, prev);
        free(data);
        T_CHECK(st == FE_EIO);
        T_CHECK(strstr(err.msg, target) != NULL);
        T_CHECK(st2 == FE_EIO);
        T_CHECK(strstr(err2.msg, target) != NULL);
        T_CHECK(content_is(target, "old\n"));
        T_CHECK(temps_in(dir) == 0);
    }

    /* fsync of the file fails: the rename never happens */
    arm_fsync_failure(1);
    fe_err_clear(&err);
    T_CHECK(fe_write_file_atomic(target, "new\n", 4, &err) == FE_EIO);
    T_CHECK(strstr(err.msg, target) != NULL && strstr(err.msg, "fsync") != NULL);
    T_CHECK(content_is(target, "old\n"));
    T_CHECK(temps_in(dir) == 0);
    /* fsync of the folder fails: the new content is in place, but the caller hears about it */
    arm_fsync_failure(2);
    fe_err_clear(&err);
    T_CHECK(fe_write_file_atomic(target, "new\n", 4, &err) == FE_EIO);
    T_CHECK(strstr(err.msg, "folder") != NULL);
    T_CHECK(content_is(target, "new\n"));
    T_CHECK(temps_in(dir) == 0);
    arm_fsync_failure(0);
    T_CHECK(fe_write_file_atomic(target, "old\n", 4, &err) == FE_OK);
    T_CHECK(fsync_calls == 2); /* the seam is linked: the file and its folder were synced */
    fe_err_clear(&err);

    /* the rename fails: the target is a non-empty folder (EISDIR / ENOTEMPTY, also for root) */
    char *folder = fe_xasprintf("%s/taken", dir);
    char *inside = fe_xasprintf("%s/keep", folder);
    T_CHECK(mkdir(folder, 0755) == 0);
    put(inside, "kept\n");
    T_CHECK(fe_write_file_atomic(folder, "x", 1, &err) == FE_EIO);
    T_CHECK(strstr(err.msg, folder) != NULL && strstr(err.msg, "rename") != NULL);
    T_CHECK(content_is(inside, "kept\n"));
    T_CHECK(temps_in(dir) == 0);
    fe_err_clear(&err);

    /* the folder does not exist: nothing is created */
    char *missing = fe_xasprintf("%s/no/such/file.json", dir);
    T_CHECK(fe_write_file_atomic(missing, "x", 1, &err) == FE_EIO);
    T_CHECK(strstr(err.msg, missing) != NULL);
    fe_err_clear(&err);

    /* abort: the temporary file goes, the target keeps its content */
    struct fe_atomic_file a;
    T_CHECK(fe_atomic_open(&a, target, &err) == FE_OK);
    fputs("half a fi", a.f);
    T_CHECK(temps_in(dir) == 1);
    fe_atomic_abort(&a);
    T_CHECK(temps_in(dir) == 0);
    T_CHECK(content_is(target, "old\n"));
    struct fe_atomic_file zero = {0};
    fe_atomic_abort(&zero); /* a zeroed handle is a no-op */

    /* the streaming form: commit replaces the target and releases the handle */
    T_CHECK(fe_atomic_open(&a, target, &err) == FE_OK);
    fputs("streamed\n", a.f);
    T_CHECK(fe_atomic_commit(&a, &err) == FE_OK);
    T_CHECK(content_is(target, "streamed\n"));
    T_CHECK(a.f == NULL && a.tmp == NULL);

    /* the JSON writer goes through the same steps */
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "n", 1);
    arm_fsync_failure(1);
    T_CHECK(fe_write_json_file(target, j, &err) == FE_EIO);
    T_CHECK(content_is(target, "streamed\n"));
    arm_fsync_failure(0);
    fe_err_clear(&err);
    T_CHECK(fe_write_json_file(target, j, &err) == FE_OK);
    T_CHECK(content_is(target, "{\n\t\"n\":\t1\n}\n"));
    T_CHECK(temps_in(dir) == 0);
    cJSON_Delete(j);

    test_put_redacted(dir);

    unlink(inside);
    rmdir(folder);
    unlink(target);
    rmdir(dir);
    free(inside);
    free(folder);
    free(missing);
    free(target);
    return T_DONE();
}
