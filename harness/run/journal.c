/* journal.c — see journal.h. */
#include "harness/run/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/base/log.h"
#include "harness/base/util.h"
#include "providers/provider.h"

bool fe_error_kind_is_final(const char *kind)
{
    return kind && (strcmp(kind, FE_ERRK_BAD_REQUEST) == 0 || strcmp(kind, FE_ERRK_NOT_FOUND) == 0 ||
                    strcmp(kind, FE_ERRK_OFFLINE) == 0);
}

/* Reads the existing file, drops a torn tail and collects completed ids. */
static enum fe_status fe_journal_recover(struct fe_journal *j, struct fe_strmap *done,
                                         size_t *n_done, struct fe_err *err)
{
    size_t len = 0;
    char *data = fe_read_file(j->path, 0, &len);
    if (!data)
        return errno == ENOENT ? FE_OK : fe_err_set(err, FE_EIO, "%s: cannot read: %s", j->path, strerror(errno));
    size_t keep = len;
    while (keep > 0 && data[keep - 1] != '\n')
        keep--;
    if (keep < len) {
        fe_warn("%s: dropping a torn last line (%zu bytes) left by an interrupted run", j->path, len - keep);
        if (truncate(j->path, (off_t)keep) != 0) {
            free(data);
            return fe_err_set(err, FE_EIO, "%s: cannot truncate: %s", j->path, strerror(errno));
        }
    }
    size_t lineno = 0;
    for (size_t start = 0; start < keep;) {
        char *nl = memchr(data + start, '\n', keep - start);
        size_t end = (size_t)(nl - data);
        lineno++;
        cJSON *rec = cJSON_ParseWithLength(data + start, end - start);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(rec, "status");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "error"), "kind");
        if (!cJSON_IsString(id) || !cJSON_IsString(status)) {
            cJSON_Delete(rec);
            free(data);
            return fe_err_set(err, FE_EINVALID, "%s:%zu: not a result record", j->path, lineno);
        }
        bool complete = strcmp(status->valuestring, "ok") == 0 ||
                        (cJSON_IsString(kind) && fe_error_kind_is_final(kind->valuestring));
        if (complete && fe_strmap_put(done, id->valuestring, 1))
            (*n_done)++;
        cJSON_Delete(rec);
        start = end + 1;
    }
    free(data);
    return FE_OK;
}

enum fe_status fe_journal_open(struct fe_journal *j, const char *path, bool resume,
                               struct fe_strmap *done, size_t *n_done, struct fe_err *err)
{
    memset(j, 0, sizeof(*j));
    j->fd = -1;
    j->path = fe_xstrdup(path);
    if (resume) {
        enum fe_status st = fe_journal_recover(j, done, n_done, err);
        if (st != FE_OK)
            return st;
    }
    j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (resume ? 0 : O_TRUNC), 0644);
    if (j->fd < 0)
        return fe_err_set(err, FE_EIO, "%s: cannot open for writing: %s", path, strerror(errno));
    return FE_OK;
}

enum fe_status fe_journal_append(struct fe_journal *j, const char *line, size_t len, struct fe_err *err)
{
    char *buf = fe_xmalloc(len + 1);
    memcpy(buf, line, len);
    buf[len] = '\n';
    size_t off = 0;
    while (off < len + 1) {
        ssize_t w = write(j->fd, buf + off, len + 1 - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            free(buf);
            return fe_err_set(err, FE_EIO, "%s: write failed: %s", j->path, strerror(errno));
        }
        off += (size_t)w;
    }
    free(buf);
    j->dirty = true;
    return FE_OK;
}

void fe_journal_sync(struct fe_journal *j, double now, bool force)
{
    if (j->fd < 0 || !j->dirty || (!force && now - j->last_sync < 1.0))
        return;
    fdatasync(j->fd);
    j->dirty = false;
    j->last_sync = now;
}

void fe_journal_close(struct fe_journal *j)
{
    if (j->fd >= 0) {
        fe_journal_sync(j, 0, true);
        close(j->fd);
    }
    free(j->path);
    memset(j, 0, sizeof(*j));
    j->fd = -1;
}
