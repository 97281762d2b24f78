/* write_fail_shim.c — an LD_PRELOAD shim for the torn-journal tests (issue 11 §4): makes writes
 * to result journals (*.jsonl, not *.quarantine.jsonl) fail like a disk that fills up for a
 * moment. Not part of fteval; built as a module, loaded only by tests.
 *
 *   FTEVAL_SHIM_WRITE_FAIL_AT=K   the K-th write(2) to a journal (1-based) writes half its bytes
 *                                 and returns that short count; the next write to a journal
 *                                 fails with ENOSPC. Later writes succeed (the disk has room again).
 *   FTEVAL_SHIM_FDATASYNC_FAIL=1  every fdatasync(2) of a journal fails with EIO.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef ssize_t (*fe_write_fn)(int, const void *, size_t);
typedef int (*fe_sync_fn)(int);

static int fe_is_journal(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    size_t len = (size_t)n;
    return len > 6 && strcmp(path + len - 6, ".jsonl") == 0 && !strstr(path, ".quarantine.") &&
           !strstr(path, ".tmp");
}

static long fe_env_long(const char *name)
{
    const char *v = getenv(name);
    return v ? strtol(v, NULL, 10) : 0;
}

ssize_t write(int fd, const void *buf, size_t count)
{
    static fe_write_fn real;
    static long calls;
    static int state; /* 0 before, 1 short write done, 2 failure done */
    if (!real)
        real = (fe_write_fn)(uintptr_t)dlsym(RTLD_NEXT, "write");
    long at = fe_env_long("FTEVAL_SHIM_WRITE_FAIL_AT");
    if (at > 0 && state < 2 && fe_is_journal(fd)) {
        calls++;
        if (state == 0 && calls == at && count > 1) {
            state = 1;
            return real(fd, buf, count / 2);
        }
        if (state == 1) {
            state = 2;
            errno = ENOSPC;
            return -1;
        }
    }
    return real(fd, buf, count);
}

int fdatasync(int fd)
{
    static fe_sync_fn real;
    if (!real)
        real = (fe_sync_fn)(uintptr_t)dlsym(RTLD_NEXT, "fdatasync");
    if (fe_env_long("FTEVAL_SHIM_FDATASYNC_FAIL") && fe_is_journal(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
