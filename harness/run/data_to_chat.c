/* data_to_chat.c — see data_to_chat.h. */
#include "harness/run/data_to_chat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness/input/dataset.h"
#include "harness/base/fs.h"
#include "harness/base/util.h"

/* Blank (only whitespace): what OpenAI rejects as empty content. */
static bool fe_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

static cJSON *fe_chat_row(const struct fe_message *m, size_t n, const char *answer)
{
    cJSON *row = cJSON_CreateObject();
    cJSON *msgs = cJSON_AddArrayToObject(row, "messages");
    for (size_t i = 0; i <= n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "role", i < n ? m[i].role : "assistant");
        cJSON_AddStringToObject(o, "content", i < n ? m[i].content : answer);
        cJSON_AddItemToArray(msgs, o);
    }
    return row;
}

/* One example to one output line (newly allocated, caller frees), or NULL with err set. */
static char *fe_convert(const struct fe_config *c, const struct fe_arm_conf *prod,
                        const struct fe_example *ex, const char *in, struct fe_err *err)
{
    if (ex->chat) {
        char *s = cJSON_PrintUnformatted(ex->row);
        char *line = fe_xstrdup(s);
        cJSON_free(s);
        return line;
    }
    if (ex->n_golds == 0 || fe_blank(ex->golds[0])) {
        fe_err_set(err, FE_EINVALID,
                   "%s:%zu: field 'gold': empty: an unanswerable example has no answer to train on",
                   in, ex->line);
        return NULL;
    }
    struct fe_message *m = NULL;
    size_t n = 0;
    struct fe_err berr = {0};
    if (fe_build_messages(c, prod, ex, &m, &n, &berr) != FE_OK) {
        fe_err_set(err, FE_EINVALID, "%s:%zu: %s", in, ex->line, berr.msg);
        return NULL;
    }
    if (n == 0 || fe_blank(m[n - 1].content)) {
        fe_messages_free(m, n);
        fe_err_set(err, FE_EINVALID,
                   "%s:%zu: field 'input': the rendered prompt is empty (OpenAI rejects empty "
                   "messages)", in, ex->line);
        return NULL;
    }
    cJSON *row = fe_chat_row(m, n, ex->golds[0]);
    fe_messages_free(m, n);
    char *s = cJSON_PrintUnformatted(row);
    char *line = fe_xstrdup(s);
    cJSON_free(s);
    cJSON_Delete(row);
    return line;
}

enum fe_status fe_data_to_chat(const struct fe_config *c, const struct fe_arm_conf *arm,
                               const char *in, const char *out, struct fe_to_chat_result *res,
                               struct fe_err *err)
{
    memset(res, 0, sizeof(*res));
    /* the production prompt of the arm, without its few-shot pairs */
    struct fe_arm_conf prod = *arm;
    prod.few_shot = NULL;
    prod.n_few_shot = 0;
    struct fe_dataset_reader *r = NULL;
    enum fe_status st = fe_dataset_open_with(&r, in, &c->dataset_opts, err);
    if (st != FE_OK)
        return st;
    struct fe_atomic_file af;
    st = fe_atomic_open(&af, out, err);
    if (st != FE_OK)
        goto done;
    FILE *f = af.f;
    struct fe_example ex;
    memset(&ex, 0, sizeof(ex));
    int got;
    while ((got = fe_dataset_next(r, &ex, err)) == 1) {
        char *line = fe_convert(c, &prod, &ex, in, err);
        if (!line) {
            fe_example_release(&ex);
            st = FE_EINVALID;
            break;
        }
        if (ex.chat)
            res->copied++;
        else
            res->converted++;
        bool ok = fputs(line, f) != EOF && fputc('\n', f) != EOF;
        free(line);
        fe_example_release(&ex);
        if (!ok) {
            st = fe_err_set(err, FE_EIO, "%s: cannot write: %s", out, strerror(errno));
            break;
        }
    }
    if (got < 0)
        st = err->code ? err->code : FE_EINVALID;
    if (st == FE_OK && res->converted + res->copied == 0)
        st = fe_err_set(err, FE_EINVALID, "%s: no examples", in);
    if (st == FE_OK)
        st = fe_atomic_commit(&af, err);
    else
        fe_atomic_abort(&af);
done:
    fe_dataset_close(r);
    return st;
}
