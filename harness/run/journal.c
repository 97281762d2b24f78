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

#include "harness/base/fs.h"
#include "harness/base/buf.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "providers/provider.h"

/* "<dir>/<arm>.jsonl" -> "<dir>/<arm>.quarantine.jsonl" */
static char *fe_quarantine_path(const char *path)
{
    size_t n = strlen(path);
    if (n > 6 && strcmp(path + n - 6, ".jsonl") == 0)
        return fe_xasprintf("%.*s.quarantine.jsonl", (int)(n - 6), path);
    return fe_xasprintf("%s.quarantine.jsonl", path);
}

/* Appends the quarantined lines to <arm>.quarantine.jsonl and fsyncs it. */
static enum fe_status fe_quarantine_write(const char *qpath, const struct fe_buf *lines, struct fe_err *err)
{
    int fd = open(qpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return fe_err_set(err, FE_EIO, "%s: cannot open: %s", qpath, strerror(errno));
    bool ok = true;
    for (size_t off = 0; ok && off < lines->len;) {
        ssize_t w = write(fd, lines->data + off, lines->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    ok = ok && fsync(fd) == 0;
    if (close(fd) != 0)
        ok = false;
    ok = ok && fe_fsync_parent_dir(qpath) == 0;
    return ok ? FE_OK : fe_err_set(err, FE_EIO, "%s: cannot write: %s", qpath, strerror(errno));
}

/* The spend a record carries: spend_usd (every attempt), else cost_usd of an answer that was not
 * served from the cache (records written before spend_usd existed). */
static double fe_record_spend(const cJSON *rec, bool *estimated)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, "spend_usd");
    if (cJSON_IsNumber(s)) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "spend_estimated")))
            *estimated = true;
        return s->valuedouble > 0 ? s->valuedouble : 0;
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "cost_usd");
    if (cJSON_IsNumber(c) && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "cache_hit")))
        return c->valuedouble > 0 ? c->valuedouble : 0;
    return 0;
}

/* Adds line lineno (text[0..len), no newline when torn) to the quarantine lines, with a warning. */
static void fe_journal_quarantine(struct fe_journal *j, struct fe_buf *quarantine, size_t lineno, const char *text,
                                  size_t len, bool torn, const char *when)
{
    cJSON *q = cJSON_CreateObject();
    cJSON_AddNumberToObject(q, "line", (double)lineno);
    char *raw = fe_xstrndup(text, len);
    cJSON_AddStringToObject(q, "text", raw);
    free(raw);
    cJSON_AddStringToObject(q, "reason", torn ? "torn last line (no newline)" : "not a result record");
    cJSON_AddStringToObject(q, "quarantined_at", when);
    char *qtext = cJSON_PrintUnformatted(q);
    fe_buf_adds(quarantine, qtext);
    fe_buf_addch(quarantine, '\n');
    cJSON_free(qtext);
    cJSON_Delete(q);
    j->n_quarantined++;
    fe_warn("%s:%zu: %s: moved to the quarantine file; that example will be re-sent", j->path, lineno,
            torn ? "torn last line" : "not a result record");
}

/* The journal is rewritten without its quarantined lines (from the first one on): opens the
 * replacement and copies the first n bytes (every line before it) into it. */
static enum fe_status fe_journal_rewrite_open(const struct fe_journal *j, off_t n, struct fe_atomic_file *keep,
                                              struct fe_err *err)
{
    enum fe_status st = fe_atomic_open(keep, j->path, err);
    FILE *in = st == FE_OK ? fopen(j->path, "rb") : NULL;
    char chunk[65536];
    for (off_t left = n; st == FE_OK && left > 0;) {
        size_t want = left < (off_t)sizeof(chunk) ? (size_t)left : sizeof(chunk);
        size_t got = in ? fread(chunk, 1, want, in) : 0;
        if (got == 0 || fwrite(chunk, 1, got, keep->f) != got)
            st = fe_err_set(err, FE_EIO, "%s: cannot rewrite without its quarantined lines: %s", j->path,
                            strerror(errno));
        left -= (off_t)got;
    }
    if (in)
        fclose(in);
    return st;
}

/* Reads the existing file line by line (nothing of it is held), quarantines malformed lines and
 * collects ids and spend. */
static enum fe_status fe_journal_recover(struct fe_journal *j, struct fe_strmap *done,
                                         size_t *n_done, struct fe_err *err)
{
    FILE *f = fopen(j->path, "rb");
    if (!f)
        return errno == ENOENT ? FE_OK : fe_err_set(err, FE_EIO, "%s: cannot read: %s", j->path, strerror(errno));
    struct fe_buf quarantine;
    fe_buf_init(&quarantine, 0);
    struct fe_atomic_file keep = {0}; /* opened at the first quarantined line */
    char when[32];
    fe_utc_now(when, sizeof(when));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    off_t start = 0;
    ssize_t got;
    enum fe_status st = FE_OK;
    while (st == FE_OK && (got = getline(&line, &cap, f)) > 0) {
        bool nl = line[got - 1] == '\n';
        size_t len = (size_t)got - nl;
        lineno++;
        cJSON *rec = cJSON_ParseWithLength(line, len);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(rec, "status");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "error"), "kind");
        if (!nl || !cJSON_IsObject(rec) || !cJSON_IsString(id) || !cJSON_IsString(status)) {
            fe_journal_quarantine(j, &quarantine, lineno, line, len, !nl, when);
            if (!keep.f)
                st = fe_journal_rewrite_open(j, start, &keep, err);
        } else {
            if (keep.f && fwrite(line, 1, (size_t)got, keep.f) != (size_t)got)
                st = fe_err_set(err, FE_EIO, "%s: cannot rewrite without its quarantined lines: %s", j->path,
                                strerror(errno));
            bool complete = strcmp(status->valuestring, "ok") == 0 ||
                            (cJSON_IsString(kind) && fe_error_kind_is_final(kind->valuestring));
            if (complete && done && fe_strmap_put(done, id->valuestring, 1) && n_done)
                (*n_done)++;
            fe_strmap_put(&j->seen, id->valuestring, 1);
            j->recovered_spend_usd += fe_record_spend(rec, &j->recovered_spend_estimated);
        }
        cJSON_Delete(rec);
        start += (off_t)got;
    }
    if (st == FE_OK && ferror(f))
        st = fe_err_set(err, FE_EIO, "%s: cannot read: %s", j->path, strerror(errno));
    free(line);
    fclose(f);
    if (st == FE_OK && j->n_quarantined) {
        char *qpath = fe_quarantine_path(j->path);
        st = fe_quarantine_write(qpath, &quarantine, err);
        if (st == FE_OK)
            st = fe_atomic_commit(&keep, err);
        free(qpath);
    }
    fe_atomic_abort(&keep); /* a no-op once committed */
    fe_buf_release(&quarantine);
    return st;
}

/* Opens j->path for appending with extra open flags (O_TRUNC or 0); fsyncs a new file's folder. */
static enum fe_status fe_journal_open_fd(struct fe_journal *j, const char *path, int flags, struct fe_err *err)
{
    struct stat sb;
    bool existed = stat(path, &sb) == 0;
    j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | flags, 0644);
    if (j->fd < 0)
        return fe_err_set(err, FE_EIO, "%s: cannot open for writing: %s", path, strerror(errno));
    if (fstat(j->fd, &sb) != 0)
        return fe_err_set(err, FE_EIO, "%s: cannot stat: %s", path, strerror(errno));
    j->size = sb.st_size;
    if (!existed && fe_fsync_parent_dir(path) != 0)
        return fe_err_set(err, FE_EIO, "%s: cannot sync its directory: %s", path, strerror(errno));
    return FE_OK;
}

enum fe_status fe_journal_open(struct fe_journal *j, const char *path, bool resume,
                               struct fe_strmap *done, size_t *n_done, struct fe_err *err)
{
    memset(j, 0, sizeof(*j));
    j->fd = -1;
    j->path = fe_xstrdup(path);
    fe_strmap_init(&j->seen);
    if (resume) {
        enum fe_status st = fe_journal_recover(j, done, n_done, err);
        if (st != FE_OK)
            return st;
    }
    return fe_journal_open_fd(j, path, resume ? 0 : O_TRUNC, err);
}

enum fe_status fe_journal_open_events(struct fe_journal *j, const char *path, struct fe_err *err)
{
    memset(j, 0, sizeof(*j));
    j->fd = -1;
    j->path = fe_xstrdup(path);
    fe_strmap_init(&j->seen);
    enum fe_status st = fe_journal_open_fd(j, path, 0, err);
    if (st != FE_OK || j->size == 0)
        return st;
    /* a torn last line (a crash mid-write) is cut off, so the next event starts a line */
    size_t len = 0;
    char *text = fe_read_file(path, (size_t)j->size + 1, &len);
    if (!text)
        return fe_err_set(err, FE_EIO, "%s: cannot read: %s", path, strerror(errno));
    size_t keep = len;
    while (keep > 0 && text[keep - 1] != '\n')
        keep--;
    free(text);
    if (keep < len) {
        if (ftruncate(j->fd, (off_t)keep) != 0)
            return fe_err_set(err, FE_EIO, "%s: cannot cut its torn last line: %s", path, strerror(errno));
        fe_warn("%s: cut a torn last line (%zu bytes) left by an interrupted write", path, len - keep);
        j->size = (off_t)keep;
    }
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
            int saved = w < 0 ? errno : ENOSPC;
            free(buf);
            /* cut a partial line off so the next append starts on a line of its own */
            if (off > 0 && ftruncate(j->fd, j->size) != 0)
                return fe_err_set(err, FE_EIO, "%s: write failed (%s) and the partial line cannot be "
                                  "removed: %s", j->path, strerror(saved), strerror(errno));
            return fe_err_set(err, FE_EIO, "%s: write failed: %s", j->path, strerror(saved));
        }
        off += (size_t)w;
    }
    free(buf);
    j->size += (off_t)(len + 1);
    j->dirty = true;
    return FE_OK;
}

enum fe_status fe_journal_sync(struct fe_journal *j, double now, bool force, struct fe_err *err)
{
    if (j->fd < 0 || !j->dirty || (!force && now - j->last_sync < 1.0))
        return FE_OK;
    j->last_sync = now;
    if (fdatasync(j->fd) != 0)
        return fe_err_set(err, FE_EIO, "%s: fdatasync failed: %s", j->path, strerror(errno));
    j->dirty = false;
    return FE_OK;
}

enum fe_status fe_journal_close(struct fe_journal *j, struct fe_err *err)
{
    enum fe_status st = FE_OK;
    if (j->fd >= 0) {
        st = fe_journal_sync(j, 0, true, err);
        if (close(j->fd) != 0 && st == FE_OK)
            st = fe_err_set(err, FE_EIO, "%s: close failed: %s", j->path, strerror(errno));
    }
    free(j->path);
    fe_strmap_release(&j->seen);
    memset(j, 0, sizeof(*j));
    j->fd = -1;
    return st;
}
