/* fs.c — see fs.h. */
#include "harness/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/base/log.h"
#include "harness/base/util.h"

/* Distinguishes the temporary files of concurrent writers in one process (threads). */
static atomic_ulong fe_tmp_counter;

enum fe_status fe_atomic_open(struct fe_atomic_file *a, const char *path, struct fe_err *err)
{
    memset(a, 0, sizeof(*a));
    int fd = -1;
    char *tmp = NULL;
    /* O_EXCL: never write through a name someone else created (a stale or planted file) */
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        free(tmp);
        unsigned long n = atomic_fetch_add(&fe_tmp_counter, 1);
        tmp = fe_xasprintf("%s.tmp.%ld.%lu", path, (long)getpid(), n);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        enum fe_status st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", path, strerror(errno));
        free(tmp);
        return st;
    }
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        enum fe_status st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return st;
    }
    a->tmp = tmp;
    a->path = fe_xstrdup(path);
    return FE_OK;
}

static void fe_atomic_release(struct fe_atomic_file *a)
{
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof(*a));
}

void fe_atomic_abort(struct fe_atomic_file *a)
{
    if (a->f)
        fclose(a->f);
    if (a->tmp)
        unlink(a->tmp);
    fe_atomic_release(a);
}

enum fe_status fe_atomic_commit(struct fe_atomic_file *a, struct fe_err *err)
{
    const char *step = NULL;
    int saved = 0;
    if (ferror(a->f))
        step = "write";
    else if (fflush(a->f) != 0)
        step = "write";
    else if (fsync(fileno(a->f)) != 0)
        step = "fsync";
    saved = errno;
    int closed = fclose(a->f);
    a->f = NULL;
    if (!step && closed != 0) {
        step = "write";
        saved = errno;
    }
    if (!step && rename(a->tmp, a->path) != 0) {
        step = "rename";
        saved = errno;
    }
    if (step) {
        unlink(a->tmp);
        enum fe_status st = fe_err_set(err, FE_EIO, "%s: cannot write (%s): %s", a->path, step,
                                       saved ? strerror(saved) : "I/O error");
        fe_atomic_release(a);
        return st;
    }
    enum fe_status st = FE_OK;
    if (fe_fsync_parent_dir(a->path) != 0)
        st = fe_err_set(err, FE_EIO, "%s: cannot write (fsync of the folder): %s", a->path,
                        strerror(errno));
    fe_atomic_release(a);
    return st;
}

enum fe_status fe_atomic_put_redacted(struct fe_atomic_file *a, struct fe_buf *b, bool all,
                                      struct fe_err *err)
{
    size_t cut = all ? b->len : fe_redact_cut(b->data, b->len);
    if (cut == 0)
        return FE_OK;
    struct fe_buf part = {0};
    fe_buf_add(&part, b->data, cut);
    fe_redact_buf(&part);
    bool ok = fwrite(part.data, 1, part.len, a->f) == part.len;
    int saved = errno;
    fe_buf_release(&part);
    memmove(b->data, b->data + cut, b->len - cut); /* the tail a secret may still cross */
    b->len -= cut;
    b->data[b->len] = '\0';
    if (ok)
        return FE_OK;
    fe_buf_reset(b);
    return fe_err_set(err, FE_EIO, "%s: cannot write: %s", a->path, strerror(saved));
}

enum fe_status fe_write_file_atomic(const char *path, const void *data, size_t len,
                                    struct fe_err *err)
{
    struct fe_atomic_file a;
    enum fe_status st = fe_atomic_open(&a, path, err);
    if (st != FE_OK)
        return st;
    if (len && fwrite(data, 1, len, a.f) != len) {
        st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", path, strerror(errno));
        fe_atomic_abort(&a);
        return st;
    }
    return fe_atomic_commit(&a, err);
}
