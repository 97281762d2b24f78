/* replay.c — answers from recorded outputs instead of a server (FE_CAP_OFFLINE).
 *
 * conf->path is one of:
 * - a results file <arm>.jsonl of an earlier run (docs/results-format.md): every arm that uses
 *   this provider replays that file;
 * - a predictions file, JSONL {"id": ..., "prediction": "..."} (the `score --pred` shape);
 * - a run directory: each arm replays <dir>/<arm>.jsonl, loaded the first time that arm asks
 *   (so one replay provider serves every arm of a recorded run).
 * A record answers when it has a string "prediction" and its "status" is absent or "ok". A
 * missing id or a recorded error is FE_EPROVIDER, "no recorded output for id 'X'", which the
 * runner records as a failed example (FE_ERRK_OFFLINE). For a repeated id the last record
 * wins (a resumed run may have re-recorded a failed example); a torn last line is dropped.
 *
 * The state is not thread-safe: the runner calls offline_complete from its one event loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "harness/input/dataset.h"
#include "harness/base/jsonout.h"
#include "harness/base/strmap.h"
#include "harness/base/util.h"
#include "providers/provider.h"

struct fe_replay_rec {
    char *prediction;     /* NULL: recorded as an error */
    char *error_kind;     /* recorded error kind or NULL */
    char *finish_reason;  /* NULL: not recorded */
    char *model;
    bool has_usage;
    long prompt_tokens, completion_tokens;
    bool has_cached;
    long cached_tokens;
};

struct fe_replay_file {
    char *arm;            /* NULL when conf->path is a file */
    char *path;
    struct fe_replay_rec *recs;
    size_t n, alloc;
    struct fe_strmap ids; /* id -> index into recs */
};

struct fe_replay {
    char *path;
    bool is_dir;
    struct fe_replay_file *files;
    size_t n_files;
};

static void fe_replay_rec_release(struct fe_replay_rec *r)
{
    free(r->prediction);
    free(r->error_kind);
    free(r->finish_reason);
    free(r->model);
    memset(r, 0, sizeof(*r));
}

static void fe_replay_file_release(struct fe_replay_file *f)
{
    for (size_t i = 0; i < f->n; i++)
        fe_replay_rec_release(&f->recs[i]);
    free(f->recs);
    free(f->arm);
    free(f->path);
    fe_strmap_release(&f->ids);
    memset(f, 0, sizeof(*f));
}

/* An id as text by the dataset's rule (fe_dataset_id_text); "" is no id. */
static char *fe_replay_id(const cJSON *v)
{
    char *s = fe_dataset_id_text(v);
    if (s && !*s) {
        free(s);
        return NULL;
    }
    return s;
}

/* Turns one parsed line into a record. Returns the id (caller frees) or NULL when the line is
 * not a usable record (why set). */
static char *fe_replay_rec_from_json(const cJSON *j, struct fe_replay_rec *r, const char **why)
{
    memset(r, 0, sizeof(*r));
    if (!cJSON_IsObject(j)) {
        *why = "not a JSON object";
        return NULL;
    }
    char *id = fe_replay_id(cJSON_GetObjectItemCaseSensitive(j, "id"));
    if (!id) {
        *why = "field 'id': must be a non-empty string or a number";
        return NULL;
    }
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(j, "status");
    const cJSON *pred = cJSON_GetObjectItemCaseSensitive(j, "prediction");
    bool failed = cJSON_IsString(status) && strcmp(status->valuestring, "ok") != 0;
    if (failed) {
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(j, "error");
        r->error_kind = fe_json_dupstr(error, "kind");
        if (!r->error_kind)
            r->error_kind = fe_xstrdup(status->valuestring);
        return id;
    }
    if (!cJSON_IsString(pred)) {
        free(id);
        *why = "field 'prediction': must be a string";
        return NULL;
    }
    r->prediction = fe_xstrdup(pred->valuestring);
    r->finish_reason = fe_json_dupstr(j, "finish_reason");
    r->model = fe_json_dupstr(j, "model");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(j, "usage");
    if (cJSON_IsObject(usage)) {
        r->has_usage = true;
        r->prompt_tokens = fe_usage_tokens(usage, "prompt_tokens", NULL);
        r->completion_tokens = fe_usage_tokens(usage, "completion_tokens", NULL);
        r->cached_tokens = fe_usage_tokens(usage, "cached_tokens", &r->has_cached);
    }
    return id;
}

static bool fe_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Reads f->path into f. FE_EIO when the file cannot be read, FE_EINVALID (file:line) when a
 * line other than a torn last one is not a record. */
static enum fe_status fe_replay_load(struct fe_replay_file *f, struct fe_err *err)
{
    FILE *in = fopen(f->path, "rb");
    if (!in)
        return fe_err_set(err, FE_EIO, "%s: cannot open: %s", f->path, strerror(errno));
    enum fe_status st = FE_OK;
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, in)) > 0) {
        lineno++;
        if (fe_blank(line, (size_t)got))
            continue;
        bool complete = line[got - 1] == '\n';
        cJSON *j = cJSON_ParseWithLength(line, (size_t)got);
        struct fe_replay_rec rec;
        const char *why = "not valid JSON";
        char *id = j ? fe_replay_rec_from_json(j, &rec, &why) : NULL;
        cJSON_Delete(j);
        if (!id) {
            if (!complete) /* torn last line: the recording run died mid-append */
                break;
            st = fe_err_set(err, FE_EINVALID, "%s:%zu: %s", f->path, lineno, why);
            break;
        }
        size_t at;
        if (fe_strmap_get(&f->ids, id, &at)) { /* repeated id: last wins */
            fe_replay_rec_release(&f->recs[at]);
            f->recs[at] = rec;
        } else {
            if (f->n == f->alloc) {
                f->alloc = f->alloc ? f->alloc * 2 : 64;
                f->recs = fe_xreallocarray(f->recs, f->alloc, sizeof(*f->recs));
            }
            f->recs[f->n] = rec;
            fe_strmap_put(&f->ids, id, f->n);
            f->n++;
        }
        free(id);
    }
    if (st == FE_OK && ferror(in))
        st = fe_err_set(err, FE_EIO, "%s: read error", f->path);
    free(line);
    (void)fclose(in); /* read-only: nothing to flush */
    return st;
}

static struct fe_replay_file *fe_replay_add_file(struct fe_replay *s, const char *arm, char *path)
{
    s->files = fe_xreallocarray(s->files, s->n_files + 1, sizeof(*s->files));
    struct fe_replay_file *f = &s->files[s->n_files++];
    memset(f, 0, sizeof(*f));
    f->arm = fe_xstrdup(arm);
    f->path = path;
    fe_strmap_init(&f->ids);
    return f;
}

static enum fe_status fe_replay_open(const struct fe_provider_conf *conf, void **state,
                                     struct fe_err *err)
{
    *state = NULL;
    if (!conf->path || !*conf->path)
        return fe_err_set(err, FE_EINVALID, "replay provider '%s': 'path' is required",
                          conf->name ? conf->name : "?");
    struct stat st;
    if (stat(conf->path, &st) != 0)
        return fe_err_set(err, FE_EIO, "%s: cannot open: %s", conf->path, strerror(errno));
    struct fe_replay *s = fe_xcalloc(1, sizeof(*s));
    *state = s;
    s->path = fe_xstrdup(conf->path);
    s->is_dir = S_ISDIR(st.st_mode);
    if (s->is_dir)
        return FE_OK; /* arms load lazily */
    struct fe_replay_file *f = fe_replay_add_file(s, NULL, fe_xstrdup(conf->path));
    return fe_replay_load(f, err);
}

/* Finds the recorded file for req's arm, loading it on first use. */
static enum fe_status fe_replay_file_for(struct fe_replay *s, const struct fe_chat_request *req,
                                         struct fe_replay_file **out, struct fe_err *err)
{
    *out = NULL;
    if (!s->is_dir) {
        if (!s->n_files) {
            fe_err_set(err, FE_EINTERNAL, "replay: provider is not open");
            return FE_EINTERNAL;
        }
        *out = &s->files[0];
        return FE_OK;
    }
    const char *arm = req->arm;
    if (!arm || !*arm || strchr(arm, '/') || strcmp(arm, ".") == 0 || strcmp(arm, "..") == 0) {
        fe_err_set(err, FE_EINVALID, "replay: arm name '%s' cannot name a file in %s",
                   arm ? arm : "(null)", s->path);
        return FE_EINVALID;
    }
    for (size_t i = 0; i < s->n_files; i++) {
        if (strcmp(s->files[i].arm, arm) == 0) {
            *out = &s->files[i];
            return FE_OK;
        }
    }
    struct fe_replay_file *f =
        fe_replay_add_file(s, arm, fe_xasprintf("%s/%s.jsonl", s->path, arm));
    enum fe_status st = fe_replay_load(f, err);
    if (st != FE_OK) { /* forget it: a later call reports the problem again */
        fe_replay_file_release(f);
        s->n_files--;
        return st;
    }
    *out = f;
    return FE_OK;
}

static enum fe_status fe_replay_complete(void *state, const struct fe_chat_request *req,
                                         struct fe_completion *out, struct fe_err *err)
{
    memset(out, 0, sizeof(*out));
    struct fe_replay *s = state;
    if (!s)
        return fe_err_set(err, FE_EINTERNAL, "replay: provider is not open");
    struct fe_replay_file *f;
    enum fe_status st = fe_replay_file_for(s, req, &f, err);
    if (st != FE_OK)
        return st;
    const char *id = req->example_id ? req->example_id : "";
    size_t at;
    if (!fe_strmap_get(&f->ids, id, &at))
        return fe_err_set(err, FE_EPROVIDER, "no recorded output for id '%s'", id);
    const struct fe_replay_rec *r = &f->recs[at];
    if (!r->prediction)
        return fe_err_set(err, FE_EPROVIDER, "no recorded output for id '%s' (recorded error: %s)",
                          id, r->error_kind ? r->error_kind : "unknown");
    out->text = fe_xstrdup(r->prediction);
    out->finish_reason = fe_xstrdup(r->finish_reason ? r->finish_reason : "stop");
    out->model = fe_xstrdup(r->model);
    out->has_usage = r->has_usage;
    out->prompt_tokens = r->prompt_tokens;
    out->completion_tokens = r->completion_tokens;
    out->has_cached = r->has_cached;
    out->cached_tokens = r->cached_tokens;
    return FE_OK;
}

static void fe_replay_close(void *state)
{
    struct fe_replay *s = state;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_files; i++)
        fe_replay_file_release(&s->files[i]);
    free(s->files);
    free(s->path);
    free(s);
}

const struct fe_provider_ops fe_provider_replay = {
    .name = "replay",
    .caps = FE_CAP_OFFLINE,
    .offline_open = fe_replay_open,
    .offline_complete = fe_replay_complete,
    .offline_close = fe_replay_close,
};
