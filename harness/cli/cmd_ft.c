/* cmd_ft.c — `fteval ft`: OpenAI files and fine-tuning jobs from the command line. Owner: ft.
 *
 * Subcommands map one-to-one onto ft_client.h calls; this file parses options, validates
 * values before any network traffic (usage errors exit 2), and prints: ids and short text for
 * people, or with --json the API object itself on stdout. Progress (wait's events and status
 * changes) goes to stderr so stdout stays a single result. Everything printed passes through
 * fe_redact, so the API key never appears even if a server echoes it.
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "harness/base/buf.h"
#include "harness/cli/commands.h"
#include "harness/data/data_check.h"
#include "harness/base/err.h"
#include "harness/ft/ft_client.h"
#include "harness/net/http_client.h"
#include "harness/base/log.h"
#include "harness/base/util.h"

static const char fe_ft_synopsis[] =
    "usage: fteval ft upload FILE [--purpose fine-tune] [--force]\n"
    "       fteval ft create --model M --training-file ID [--validation-file ID] [--suffix S]\n"
    "                        [--n-epochs N] [--batch-size N] [--learning-rate-multiplier X]\n"
    "                        [--seed N] [--method supervised|dpo] [--beta X] [--client-id ID]\n"
    "       fteval ft status JOB\n"
    "       fteval ft wait JOB [--poll-interval S] [--timeout S]\n"
    "       fteval ft events JOB [--limit N]\n"
    "       fteval ft checkpoints JOB\n"
    "       fteval ft cancel JOB\n"
    "       fteval ft list [--limit N]\n"
    "\n"
    "Manage OpenAI fine-tuning: upload training data, start jobs and follow them.\n";

static const char fe_ft_epilogue[] =
    "exit codes: 0 ok; 1 data check blocked the upload, or the job failed or was cancelled;\n"
    "            2 usage; 3 invalid data; 4 network or API error, or wait timed out\n";

enum fe_ft_sub {
    SUB_UPLOAD = 1 << 0,
    SUB_CREATE = 1 << 1,
    SUB_STATUS = 1 << 2,
    SUB_WAIT = 1 << 3,
    SUB_EVENTS = 1 << 4,
    SUB_CHECKPOINTS = 1 << 5,
    SUB_CANCEL = 1 << 6,
    SUB_LIST = 1 << 7,
    SUB_ALL = 0xff,
};

static const struct {
    const char *name;
    enum fe_ft_sub sub;
    int n_pos;        /* positional arguments */
    struct fe_usage usage;
} fe_ft_subs[] = {
    {"upload", SUB_UPLOAD, 1,
     {.command = "ft upload",
      .synopsis = "usage: fteval ft upload FILE [--purpose fine-tune] [--force]\n\n"
                  "Runs the data checks first: rows OpenAI's fine-tuning rejects (plain-shape rows,\n"
                  "no assistant answer last, bad roles, empty content, < 10 examples) are refused\n"
                  "with exit 3 naming file, line and field, even with --force; other blocking\n"
                  "findings (PII, leakage) refuse with exit 1 unless --force. Prints the file id.\n",
      .epilogue = fe_ft_epilogue}},
    {"create", SUB_CREATE, 0,
     {.command = "ft create",
      .synopsis =
          "usage: fteval ft create --model M --training-file ID [--validation-file ID] [--suffix S]\n"
          "                        [--n-epochs N] [--batch-size N] [--learning-rate-multiplier X]\n"
          "                        [--seed N] [--method supervised|dpo] [--beta X] [--client-id ID]\n\n"
          "Method hyperparameters accept a number or 'auto'; --beta needs --method dpo.\n"
          "The job is tagged metadata.fteval_client_id (random, or --client-id); after an\n"
          "ambiguous failure (timeout, reset, 5xx) jobs with that tag are looked up before\n"
          "creating again, and with --client-id an existing job is reused. Prints the job id.\n",
      .epilogue = fe_ft_epilogue}},
    {"status", SUB_STATUS, 1,
     {.command = "ft status", .synopsis = "usage: fteval ft status JOB\n", .epilogue = fe_ft_epilogue}},
    {"wait", SUB_WAIT, 1,
     {.command = "ft wait",
      .synopsis = "usage: fteval ft wait JOB [--poll-interval S] [--timeout S]\n\n"
                  "Polls with backoff up to --poll-interval, prints new events on stderr and the\n"
                  "fine-tuned model id on stdout.\n",
      .epilogue = fe_ft_epilogue}},
    {"events", SUB_EVENTS, 1,
     {.command = "ft events",
      .synopsis = "usage: fteval ft events JOB [--limit N]\n\nPrints the newest --limit events, oldest first.\n",
      .epilogue = fe_ft_epilogue}},
    {"checkpoints", SUB_CHECKPOINTS, 1,
     {.command = "ft checkpoints", .synopsis = "usage: fteval ft checkpoints JOB\n", .epilogue = fe_ft_epilogue}},
    {"cancel", SUB_CANCEL, 1,
     {.command = "ft cancel", .synopsis = "usage: fteval ft cancel JOB\n", .epilogue = fe_ft_epilogue}},
    {"list", SUB_LIST, 0,
     {.command = "ft list",
      .synopsis = "usage: fteval ft list [--limit N]\n\nPrints the newest --limit jobs.\n",
      .epilogue = fe_ft_epilogue}},
};

enum fe_ft_opt {
    OPT_BASE_URL,
    OPT_KEY_ENV,
    OPT_JSON,
    OPT_RETRIES,
    OPT_REQ_TIMEOUT,
    OPT_VERBOSE,
    OPT_PURPOSE,
    OPT_FORCE,
    OPT_MODEL,
    OPT_TRAIN,
    OPT_VALID,
    OPT_SUFFIX,
    OPT_EPOCHS,
    OPT_BATCH,
    OPT_LR,
    OPT_SEED,
    OPT_METHOD,
    OPT_BETA,
    OPT_CLIENT_ID,
    OPT_POLL,
    OPT_TIMEOUT,
    OPT_LIMIT,
    OPT_COUNT
};

struct fe_ft_args {
    const char *sub_name;
    enum fe_ft_sub sub;
    const char *val[OPT_COUNT]; /* string option values; flags are "1" */
    bool flag[OPT_COUNT];       /* flags as parsed (then copied to val) */
    const char *pos;            /* the one positional argument, if any */
    bool json;
    long retries, limit;        /* --max-retries (default 2), --limit (default 20) */
    double req_timeout;         /* --request-timeout (default 600 s) */
    double poll, timeout;       /* --poll-interval (default 60 s), --timeout (default 0: none) */
};

/* ---- output helpers ---------------------------------------------------------------------- */

static void fe_ft_puts(FILE *f, const char *s)
{
    char *clean = fe_redact(s);
    fputs(clean, f);
    free(clean);
}

static void fe_ft_print_json(const cJSON *obj)
{
    char *s = cJSON_Print(obj);
    fe_ft_puts(stdout, s ? s : "null");
    fputc('\n', stdout);
    free(s);
}

static const char *fe_ft_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void fe_ft_time(const cJSON *obj, const char *key, char *out, size_t size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble <= 0) {
        snprintf(out, size, "-");
        return;
    }
    time_t t = (time_t)v->valuedouble;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, size, "%.0f", v->valuedouble);
}

/* Prints a list result: {"object":"list","data":items,"has_more":b} with --json. */
static void fe_ft_print_list_json(cJSON *items, bool has_more)
{
    cJSON *list = cJSON_CreateObject();
    cJSON_AddStringToObject(list, "object", "list");
    cJSON_AddItemReferenceToObject(list, "data", items);
    cJSON_AddBoolToObject(list, "has_more", has_more);
    fe_ft_print_json(list);
    cJSON_Delete(list);
}

static void fe_ft_event_line(FILE *f, const cJSON *ev)
{
    char when[40];
    fe_ft_time(ev, "created_at", when, sizeof(when));
    const char *level = fe_ft_str(ev, "level");
    const char *msg = fe_ft_str(ev, "message");
    struct fe_buf b;
    fe_buf_init(&b, 0);
    fe_buf_addf(&b, "%s %-5s %s\n", when, level ? level : "-", msg ? msg : "");
    fe_ft_puts(f, fe_buf_str(&b));
    fe_buf_release(&b);
}

static int fe_ft_fail(const struct fe_err *err)
{
    char *clean = fe_redact(err->msg[0] ? err->msg : fe_strerror(err->code));
    fprintf(stderr, "fteval: error: %s\n", clean);
    free(clean);
    return fe_status_exit_code(err->code ? err->code : FE_EINTERNAL);
}

/* ---- argument parsing and validation ----------------------------------------------------- */

/* Fills opts (OPT_COUNT + 2 entries) with the options of the subcommands in subs, then (with
 * common) the options every subcommand has, under a heading. Targets are a's fields. */
static void fe_ft_options(struct fe_ft_args *a, unsigned subs, bool common, struct fe_option *opts)
{
    const struct {
        unsigned subs;
        struct fe_option o;
    } all[OPT_COUNT] = {
        {SUB_UPLOAD, FE_OPTION_STRING(0, "purpose", &a->val[OPT_PURPOSE], "P", "file purpose (default fine-tune)")},
        {SUB_UPLOAD, FE_OPTION_FLAG(0, "force", &a->flag[OPT_FORCE],
                                    "upload despite PII or leakage findings (never rows OpenAI rejects)")},
        {SUB_CREATE, FE_OPTION_STRING(0, "model", &a->val[OPT_MODEL], "M", "base model to fine-tune (required)")},
        {SUB_CREATE, FE_OPTION_STRING(0, "training-file", &a->val[OPT_TRAIN], "ID", "uploaded training file (required)")},
        {SUB_CREATE, FE_OPTION_STRING(0, "validation-file", &a->val[OPT_VALID], "ID", "uploaded validation file")},
        {SUB_CREATE, FE_OPTION_STRING(0, "suffix", &a->val[OPT_SUFFIX], "S", "up to 64 characters in the model name")},
        {SUB_CREATE, FE_OPTION_STRING(0, "n-epochs", &a->val[OPT_EPOCHS], "N", "auto or 1..50")},
        {SUB_CREATE, FE_OPTION_STRING(0, "batch-size", &a->val[OPT_BATCH], "N", "auto or 1..256")},
        {SUB_CREATE, FE_OPTION_STRING(0, "learning-rate-multiplier", &a->val[OPT_LR], "X", "auto or a number above 0")},
        {SUB_CREATE, FE_OPTION_STRING(0, "seed", &a->val[OPT_SEED], "N", "0..2147483647")},
        {SUB_CREATE, FE_OPTION_STRING(0, "method", &a->val[OPT_METHOD], "supervised|dpo", "training method (default supervised)")},
        {SUB_CREATE, FE_OPTION_STRING(0, "beta", &a->val[OPT_BETA], "X", "DPO beta: auto or a number in (0, 2]")},
        {SUB_CREATE, FE_OPTION_STRING(0, "client-id", &a->val[OPT_CLIENT_ID], "ID",
                                      "idempotency tag: reuse the job that carries it")},
        {SUB_WAIT, FE_OPTION_DOUBLE(0, "poll-interval", &a->poll, "S", 0, DBL_MAX, FE_OPTF_MIN_EXCL,
                                    "longest pause between polls (default 60 s)")},
        {SUB_WAIT, FE_OPTION_DOUBLE(0, "timeout", &a->timeout, "S", 0, DBL_MAX, 0,
                                    "give up after S seconds, exit 4 (default 0: wait forever)")},
        {SUB_EVENTS | SUB_LIST, FE_OPTION_LONG(0, "limit", &a->limit, "N", 1, 100000, "how many, newest first (default 20)")},
        {SUB_ALL, FE_OPTION_STRING(0, "base-url", &a->val[OPT_BASE_URL], "URL",
                                   "API base URL (default $OPENAI_BASE_URL or https://api.openai.com/v1)")},
        {SUB_ALL, FE_OPTION_STRING(0, "api-key-env", &a->val[OPT_KEY_ENV], "NAME",
                                   "environment variable holding the API key (default OPENAI_API_KEY)")},
        {SUB_ALL, FE_OPTION_FLAG(0, "json", &a->flag[OPT_JSON], "print the API object as JSON on stdout")},
        {SUB_ALL, FE_OPTION_LONG(0, "max-retries", &a->retries, "N", 0, 20, "retries of failed requests (default 2)")},
        {SUB_ALL, FE_OPTION_DOUBLE(0, "request-timeout", &a->req_timeout, "S", 0, DBL_MAX, FE_OPTF_MIN_EXCL,
                                   "per-request timeout in seconds (default 600)")},
        {SUB_ALL, FE_OPTION_FLAG('v', "verbose", &a->flag[OPT_VERBOSE], "log requests and retries on stderr")},
    };
    size_t n = 0;
    for (size_t i = 0; i < FE_ARRAY_LEN(all); i++)
        if (all[i].subs != SUB_ALL && (all[i].subs & subs))
            opts[n++] = all[i].o;
    if (common) {
        opts[n++] = (struct fe_option)FE_OPTION_GROUP("common options");
        for (size_t i = 0; i < FE_ARRAY_LEN(all); i++)
            if (all[i].subs == SUB_ALL)
                opts[n++] = all[i].o;
    }
    opts[n] = (struct fe_option)FE_OPTION_END();
}

/* `fteval ft --help`: the synopsis, each subcommand's options, the common ones. */
static void fe_ft_help(FILE *out)
{
    struct fe_ft_args a;
    memset(&a, 0, sizeof(a));
    struct fe_option opts[OPT_COUNT + 2];
    fputs(fe_ft_synopsis, out);
    for (size_t i = 0; i < FE_ARRAY_LEN(fe_ft_subs); i++) {
        fe_ft_options(&a, fe_ft_subs[i].sub, false, opts);
        if (opts[0].kind == FE_OPT_END)
            continue; /* nothing of its own */
        fprintf(out, "\n%s options:\n", fe_ft_subs[i].name);
        fe_options_print_list(out, opts);
    }
    fe_ft_options(&a, 0, true, opts);
    fe_options_print_list(out, opts);
    fputs("\n'fteval ft SUBCOMMAND --help' shows one subcommand.\n\n", out);
    fputs(fe_ft_epilogue, out);
}
/* Returns true to go on, else false with the exit code in *rc. */
static bool fe_ft_parse(int argc, char **argv, struct fe_ft_args *a, int *rc)
{
    memset(a, 0, sizeof(*a));
    a->retries = 2;
    a->limit = 20;
    a->req_timeout = 600;
    a->poll = 60;
    a->timeout = 0;
    int n_pos = 0;
    for (size_t i = 0; argc >= 2 && i < FE_ARRAY_LEN(fe_ft_subs); i++) {
        if (strcmp(argv[1], fe_ft_subs[i].name) == 0) {
            a->sub = fe_ft_subs[i].sub;
            n_pos = fe_ft_subs[i].n_pos;
            a->sub_name = fe_ft_subs[i].name;
            struct fe_option opts[OPT_COUNT + 2];
            fe_ft_options(a, a->sub, true, opts);
            int n = fe_parse_options(argc - 1, argv + 1, &fe_ft_subs[i].usage, opts);
            if (n < 0) {
                *rc = fe_parse_exit_code(n);
                return false;
            }
            if (n > n_pos) {
                *rc = fe_usage_error(fe_ft_subs[i].usage.command, "ft %s: unexpected argument '%s'",
                                     a->sub_name, argv[1 + n_pos]);
                return false;
            }
            if (n < n_pos) {
                *rc = fe_usage_error(fe_ft_subs[i].usage.command, "ft %s: missing %s", a->sub_name,
                                     a->sub == SUB_UPLOAD ? "FILE" : "JOB id");
                return false;
            }
            a->pos = n ? argv[1] : NULL;
            for (int o = 0; o < OPT_COUNT; o++)
                if (a->flag[o])
                    a->val[o] = "1";
            a->json = a->flag[OPT_JSON];
            return true;
        }
    }
    if (fe_wants_help(argc, argv)) {
        fe_ft_help(stdout);
        *rc = FE_EXIT_OK;
    } else if (argc < 2) {
        *rc = fe_usage_error("ft", "missing subcommand (upload, create, status, wait, events, "
                                   "checkpoints, cancel, list)");
    } else {
        const char *names[FE_ARRAY_LEN(fe_ft_subs)];
        for (size_t i = 0; i < FE_ARRAY_LEN(fe_ft_subs); i++)
            names[i] = fe_ft_subs[i].name;
        const char *guess = fe_nearest_name(argv[1], names, FE_ARRAY_LEN(names));
        if (guess)
            *rc = fe_usage_error("ft", "unknown subcommand '%s'; did you mean '%s'?", argv[1], guess);
        else
            *rc = fe_usage_error("ft", "unknown subcommand '%s'", argv[1]);
    }
    return false;
}

/* "auto" or an integer in [lo, hi]. */
static bool fe_ft_auto_or_long(const char *s, long lo, long hi)
{
    long v;
    return strcmp(s, "auto") == 0 || (fe_parse_long(s, &v) && v >= lo && v <= hi);
}

/* "auto" or a number in (lo, hi]. */
static bool fe_ft_auto_or_double(const char *s, double lo_excl, double hi)
{
    double v;
    return strcmp(s, "auto") == 0 || (fe_parse_double(s, &v) && v > lo_excl && v <= hi);
}

static int fe_ft_validate_create(const struct fe_ft_args *a, struct fe_ft_create_params *p)
{
    memset(p, 0, sizeof(*p));
    p->model = a->val[OPT_MODEL];
    p->training_file = a->val[OPT_TRAIN];
    p->validation_file = a->val[OPT_VALID];
    p->suffix = a->val[OPT_SUFFIX];
    p->method = a->val[OPT_METHOD] ? a->val[OPT_METHOD] : "supervised";
    p->n_epochs = a->val[OPT_EPOCHS];
    p->batch_size = a->val[OPT_BATCH];
    p->learning_rate_multiplier = a->val[OPT_LR];
    p->beta = a->val[OPT_BETA];
    p->client_id = a->val[OPT_CLIENT_ID];
    if (!p->model || !p->model[0])
        return fe_usage_error("ft", "ft create: --model is required");
    if (!p->training_file || !p->training_file[0])
        return fe_usage_error("ft", "ft create: --training-file is required");
    if (strcmp(p->method, "supervised") != 0 && strcmp(p->method, "dpo") != 0)
        return fe_usage_error("ft", "ft create: --method '%s': expected supervised or dpo",
                              p->method);
    if (p->suffix && (strlen(p->suffix) < 1 || strlen(p->suffix) > 64))
        return fe_usage_error("ft", "ft create: --suffix must be 1 to 64 characters");
    if (p->n_epochs && !fe_ft_auto_or_long(p->n_epochs, 1, 50))
        return fe_usage_error("ft", "ft create: --n-epochs '%s': expected auto or 1..50",
                              p->n_epochs);
    if (p->batch_size && !fe_ft_auto_or_long(p->batch_size, 1, 256))
        return fe_usage_error("ft", "ft create: --batch-size '%s': expected auto or 1..256",
                              p->batch_size);
    if (p->learning_rate_multiplier && !fe_ft_auto_or_double(p->learning_rate_multiplier, 0, 1e9))
        return fe_usage_error("ft",
                              "ft create: --learning-rate-multiplier '%s': expected auto or a "
                              "number above 0",
                              p->learning_rate_multiplier);
    if (p->beta && strcmp(p->method, "dpo") != 0)
        return fe_usage_error("ft", "ft create: --beta needs --method dpo");
    if (p->beta && !fe_ft_auto_or_double(p->beta, 0, 2))
        return fe_usage_error("ft", "ft create: --beta '%s': expected auto or a number in (0, 2]",
                              p->beta);
    if (a->val[OPT_SEED]) {
        if (!fe_parse_long(a->val[OPT_SEED], &p->seed) || p->seed < 0 || p->seed > 2147483647L)
            return fe_usage_error("ft", "ft create: --seed '%s': expected 0..2147483647",
                                  a->val[OPT_SEED]);
        p->has_seed = true;
    }
    if (p->client_id && (!p->client_id[0] || strlen(p->client_id) > 512))
        return fe_usage_error("ft", "ft create: --client-id must be 1 to 512 characters");
    return FE_EXIT_OK;
}

/* Builds the HTTP client from the common options. Returns NULL after printing an error. */
static struct fe_http *fe_ft_connect(const struct fe_ft_args *a, int *rc)
{
    const char *base = a->val[OPT_BASE_URL];
    if (!base)
        base = getenv("OPENAI_BASE_URL");
    if (!base || !base[0])
        base = "https://api.openai.com/v1";
    const char *env = a->val[OPT_KEY_ENV] ? a->val[OPT_KEY_ENV] : "OPENAI_API_KEY";
    const char *key = getenv(env);
    if (!key || !key[0]) {
        *rc = fe_usage_error("ft",
                             "environment variable '%s' is not set: it must hold the API "
                             "key (choose another with --api-key-env)",
                             env);
        return NULL;
    }
    struct fe_http *h = fe_http_new(base, key); /* registers the key for redaction */
    fe_http_set_retries(h, (int)a->retries);
    fe_http_set_timeouts(h, a->req_timeout, a->req_timeout < 5 ? a->req_timeout : 5);
    return h;
}

/* ---- subcommands ------------------------------------------------------------------------- */

/* Prints a created or fetched API object: all of it with --json, else its id; deletes it. */
static int fe_ft_print_object_or_id(cJSON *obj, bool json)
{
    if (json) {
        fe_ft_print_json(obj);
    } else {
        fe_ft_puts(stdout, fe_ft_str(obj, "id"));
        fputc('\n', stdout);
    }
    cJSON_Delete(obj);
    return FE_EXIT_OK;
}

static int fe_ft_upload(struct fe_http *h, const struct fe_ft_args *a)
{
    struct fe_err err = {0};
    const char *purpose = a->val[OPT_PURPOSE] ? a->val[OPT_PURPOSE] : "fine-tune";
    FILE *f = fopen(a->pos, "rb");
    if (!f) {
        fe_err_set(&err, FE_EIO, "%s: cannot open file", a->pos);
        return fe_ft_fail(&err);
    }
    fclose(f);
    if (strcmp(purpose, "fine-tune") == 0) {
        struct fe_buf text;
        fe_buf_init(&text, 0);
        int blocking = fe_data_check_blocking(a->pos, &text, &err);
        if (blocking < 0 || blocking == 2) { /* 2: OpenAI would reject rows: never uploaded */
            if (blocking == 2)
                fe_ft_puts(stderr, fe_buf_str(&text));
            fe_buf_release(&text);
            return fe_ft_fail(&err);
        }
        if (blocking > 0) {
            fe_ft_puts(stderr, fe_buf_str(&text));
            if (text.len && text.data[text.len - 1] != '\n')
                fputc('\n', stderr);
            fe_buf_release(&text);
            if (!a->val[OPT_FORCE]) {
                fprintf(stderr,
                        "fteval: error: %s: the data check found blocking problems; fix "
                        "them or upload anyway with --force\n",
                        a->pos);
                return FE_EXIT_GATE;
            }
            fe_warn("%s: uploading despite blocking data-check findings (--force)", a->pos);
        } else {
            fe_buf_release(&text);
        }
    }
    cJSON *file = NULL;
    if (fe_ft_file_upload(h, a->pos, purpose, &file, &err) != FE_OK)
        return fe_ft_fail(&err);
    return fe_ft_print_object_or_id(file, a->json);
}

static int fe_ft_create(struct fe_http *h, const struct fe_ft_args *a)
{
    struct fe_ft_create_params p;
    int rc = fe_ft_validate_create(a, &p);
    if (rc != FE_EXIT_OK)
        return rc;
    struct fe_err err = {0};
    cJSON *job = NULL;
    bool deduped = false;
    if (p.client_id) {
        /* an explicit client id makes the command idempotent across invocations */
        if (fe_ft_job_find_by_client_id(h, p.client_id, &job, &err) != FE_OK)
            return fe_ft_fail(&err);
        if (job) {
            deduped = true;
            fe_warn("create job: job %s already carries %s=%s; not creating another",
                    fe_ft_str(job, "id"), FE_FT_CLIENT_ID_KEY, p.client_id);
        }
    }
    if (!job && fe_ft_job_create(h, &p, &job, &deduped, &err) != FE_OK)
        return fe_ft_fail(&err);
    return fe_ft_print_object_or_id(job, a->json);
}

static void fe_ft_print_job_text(const cJSON *job)
{
    char created[40], finished[40], est[40];
    fe_ft_time(job, "created_at", created, sizeof(created));
    fe_ft_time(job, "finished_at", finished, sizeof(finished));
    fe_ft_time(job, "estimated_finish", est, sizeof(est));
    const cJSON *tt = cJSON_GetObjectItemCaseSensitive(job, "trained_tokens");
    char tokens[40] = "-";
    if (cJSON_IsNumber(tt))
        snprintf(tokens, sizeof(tokens), "%.0f", tt->valuedouble);
    const char *ftm = fe_ft_str(job, "fine_tuned_model");
    const char *vf = fe_ft_str(job, "validation_file");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(job, "method");
    const char *mtype = cJSON_IsObject(method) ? fe_ft_str(method, "type") : NULL;
    struct fe_buf b;
    fe_buf_init(&b, 0);
    fe_buf_addf(&b, "id:               %s\n", fe_ft_str(job, "id") ? fe_ft_str(job, "id") : "-");
    fe_buf_addf(&b, "status:           %s\n",
                fe_ft_str(job, "status") ? fe_ft_str(job, "status") : "-");
    fe_buf_addf(&b, "model:            %s\n",
                fe_ft_str(job, "model") ? fe_ft_str(job, "model") : "-");
    fe_buf_addf(&b, "fine_tuned_model: %s\n", ftm ? ftm : "-");
    fe_buf_addf(&b, "method:           %s\n", mtype ? mtype : "-");
    fe_buf_addf(&b, "training_file:    %s\n",
                fe_ft_str(job, "training_file") ? fe_ft_str(job, "training_file") : "-");
    fe_buf_addf(&b, "validation_file:  %s\n", vf ? vf : "-");
    fe_buf_addf(&b, "trained_tokens:   %s\n", tokens);
    fe_buf_addf(&b, "created_at:       %s\n", created);
    fe_buf_addf(&b, "finished_at:      %s\n", finished);
    if (strcmp(est, "-") != 0)
        fe_buf_addf(&b, "estimated_finish: %s\n", est);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(job, "error");
    if (cJSON_IsObject(e) && fe_ft_str(e, "message") && fe_ft_str(e, "message")[0]) {
        const char *code = fe_ft_str(e, "code");
        const char *param = fe_ft_str(e, "param");
        fe_buf_addf(&b, "error:            %s%s%s", code ? code : "", code ? ": " : "",
                    fe_ft_str(e, "message"));
        if (param)
            fe_buf_addf(&b, " (param %s)", param);
        fe_buf_addch(&b, '\n');
    }
    fe_ft_puts(stdout, fe_buf_str(&b));
    fe_buf_release(&b);
}

static int fe_ft_status(struct fe_http *h, const struct fe_ft_args *a)
{
    struct fe_err err = {0};
    cJSON *job = NULL;
    if (fe_ft_job_retrieve(h, a->pos, &job, &err) != FE_OK)
        return fe_ft_fail(&err);
    if (a->json)
        fe_ft_print_json(job);
    else
        fe_ft_print_job_text(job);
    cJSON_Delete(job);
    return FE_EXIT_OK;
}

static int fe_ft_cancel(struct fe_http *h, const struct fe_ft_args *a)
{
    struct fe_err err = {0};
    cJSON *job = NULL;
    if (fe_ft_job_cancel(h, a->pos, &job, &err) != FE_OK)
        return fe_ft_fail(&err);
    if (a->json) {
        fe_ft_print_json(job);
    } else {
        const char *st = fe_ft_str(job, "status");
        struct fe_buf b;
        fe_buf_init(&b, 0);
        fe_buf_addf(&b, "%s %s\n", fe_ft_str(job, "id"), st ? st : "-");
        fe_ft_puts(stdout, fe_buf_str(&b));
        fe_buf_release(&b);
    }
    cJSON_Delete(job);
    return FE_EXIT_OK;
}

static char *fe_ft_job_subpath(const char *job_id, const char *tail)
{
    struct fe_buf b;
    fe_buf_init(&b, 0);
    fe_buf_adds(&b, "/fine_tuning/jobs/");
    fe_http_add_escaped(&b, job_id);
    fe_buf_adds(&b, tail);
    return fe_buf_detach(&b, NULL);
}

static int fe_ft_events(struct fe_http *h, const struct fe_ft_args *a)
{
    long limit = a->limit;
    struct fe_err err = {0};
    char *path = fe_ft_job_subpath(a->pos, "/events");
    cJSON *items = NULL;
    bool more = false;
    enum fe_status st = fe_ft_list_paged(h, path, (int)(limit < 100 ? limit : 100), (size_t)limit,
                                         "list events", &items, &more, &err);
    free(path);
    if (st != FE_OK)
        return fe_ft_fail(&err);
    if (a->json) {
        fe_ft_print_list_json(items, more);
    } else {
        /* the API lists newest first; people read oldest first */
        for (int i = cJSON_GetArraySize(items) - 1; i >= 0; i--)
            fe_ft_event_line(stdout, cJSON_GetArrayItem(items, i));
    }
    cJSON_Delete(items);
    return FE_EXIT_OK;
}

static int fe_ft_checkpoints(struct fe_http *h, const struct fe_ft_args *a)
{
    struct fe_err err = {0};
    char *path = fe_ft_job_subpath(a->pos, "/checkpoints");
    cJSON *items = NULL;
    bool more = false;
    enum fe_status st = fe_ft_list_paged(h, path, 100, 0, "list checkpoints", &items, &more, &err);
    free(path);
    if (st != FE_OK)
        return fe_ft_fail(&err);
    if (a->json) {
        fe_ft_print_list_json(items, more);
    } else {
        struct fe_buf b;
        fe_buf_init(&b, 0);
        fe_buf_adds(&b, "step\ttrain_loss\tvalid_loss\tmodel\n");
        for (int i = cJSON_GetArraySize(items) - 1; i >= 0; i--) {
            const cJSON *c = cJSON_GetArrayItem(items, i);
            const cJSON *step = cJSON_GetObjectItemCaseSensitive(c, "step_number");
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "metrics");
            const cJSON *tl = cJSON_GetObjectItemCaseSensitive(m, "train_loss");
            const cJSON *vl = cJSON_GetObjectItemCaseSensitive(m, "valid_loss");
            const char *model = fe_ft_str(c, "fine_tuned_model_checkpoint");
            if (cJSON_IsNumber(step))
                fe_buf_addf(&b, "%.0f\t", step->valuedouble);
            else
                fe_buf_adds(&b, "-\t");
            if (cJSON_IsNumber(tl))
                fe_buf_addf(&b, "%.4f\t", tl->valuedouble);
            else
                fe_buf_adds(&b, "-\t");
            if (cJSON_IsNumber(vl))
                fe_buf_addf(&b, "%.4f\t", vl->valuedouble);
            else
                fe_buf_adds(&b, "-\t");
            fe_buf_addf(&b, "%s\n", model ? model : "-");
        }
        fe_ft_puts(stdout, fe_buf_str(&b));
        fe_buf_release(&b);
    }
    cJSON_Delete(items);
    return FE_EXIT_OK;
}

static int fe_ft_list(struct fe_http *h, const struct fe_ft_args *a)
{
    long limit = a->limit;
    struct fe_err err = {0};
    cJSON *items = NULL;
    bool more = false;
    if (fe_ft_list_paged(h, "/fine_tuning/jobs", (int)(limit < 100 ? limit : 100), (size_t)limit,
                         "list jobs", &items, &more, &err) != FE_OK)
        return fe_ft_fail(&err);
    if (a->json) {
        fe_ft_print_list_json(items, more);
    } else {
        struct fe_buf b;
        fe_buf_init(&b, 0);
        const cJSON *j;
        cJSON_ArrayForEach(j, items)
        {
            char created[40];
            fe_ft_time(j, "created_at", created, sizeof(created));
            const char *id = fe_ft_str(j, "id"), *st = fe_ft_str(j, "status");
            const char *model = fe_ft_str(j, "model"), *ftm = fe_ft_str(j, "fine_tuned_model");
            fe_buf_addf(&b, "%s\t%s\t%s\t%s\t%s\n", id ? id : "-", st ? st : "-", created,
                        model ? model : "-", ftm ? ftm : "-");
        }
        fe_ft_puts(stdout, fe_buf_str(&b));
        fe_buf_release(&b);
    }
    cJSON_Delete(items);
    return FE_EXIT_OK;
}

/* Prints events not seen before (oldest first) on stderr; seen is an object used as a set. */
static void fe_ft_new_events(struct fe_http *h, const char *job_id, cJSON *seen)
{
    char *path = fe_ft_job_subpath(job_id, "/events");
    cJSON *items = NULL;
    struct fe_err err = {0};
    /* 100 newest events per poll: a burst larger than that between polls is summarised */
    if (fe_ft_list_paged(h, path, 100, 100, "list events", &items, NULL, &err) != FE_OK) {
        fe_warn("%s; will try again at the next poll", err.msg);
        free(path);
        return;
    }
    free(path);
    for (int i = cJSON_GetArraySize(items) - 1; i >= 0; i--) {
        const cJSON *ev = cJSON_GetArrayItem(items, i);
        const char *id = fe_ft_str(ev, "id");
        if (!id || cJSON_GetObjectItemCaseSensitive(seen, id))
            continue;
        cJSON_AddTrueToObject(seen, id);
        fe_ft_event_line(stderr, ev);
    }
    cJSON_Delete(items);
}

static int fe_ft_wait(struct fe_http *h, const struct fe_ft_args *a)
{
    double interval = a->poll, timeout = a->timeout;
    double start = fe_now();
    double delay = interval < 1 ? interval : 1;
    cJSON *seen = cJSON_CreateObject();
    cJSON *unknown = cJSON_CreateObject();
    char last_status[64] = "";
    int rc = FE_EXIT_OK;
    int net_failures = 0;
    for (;;) {
        struct fe_err err = {0};
        cJSON *job = NULL;
        if (fe_ft_job_retrieve(h, a->pos, &job, &err) != FE_OK) {
            /* a long wait outlives network blips: keep polling through transport errors (each
             * already retried), give up after 10 in a row or on any API error */
            if (err.code == FE_ENET && ++net_failures < 10 &&
                (timeout <= 0 || fe_now() - start < timeout)) {
                fe_warn("%s; still waiting (%d in a row)", err.msg, net_failures);
                fe_http_sleep(delay);
                delay = delay * 2 > interval ? interval : delay * 2;
                continue;
            }
            rc = fe_ft_fail(&err);
            break;
        }
        net_failures = 0;
        fe_ft_new_events(h, a->pos, seen);
        const char *status = fe_ft_str(job, "status");
        if (!status)
            status = "(none)";
        bool known = false;
        enum fe_ft_state state = fe_ft_status_state(status, &known);
        if (strcmp(status, last_status) != 0) {
            snprintf(last_status, sizeof(last_status), "%s", status);
            char *line = fe_xasprintf("job %s: %s\n", a->pos, status);
            fe_ft_puts(stderr, line);
            free(line);
        }
        if (!known && !cJSON_GetObjectItemCaseSensitive(unknown, status)) {
            cJSON_AddTrueToObject(unknown, status);
            fe_warn("job %s: unknown status '%s'; treating it as not finished", a->pos, status);
        }
        if (state != FE_FT_PENDING) {
            const char *ftm = fe_ft_str(job, "fine_tuned_model");
            if (a->json)
                fe_ft_print_json(job);
            if (state == FE_FT_SUCCEEDED) {
                if (!a->json) {
                    fe_ft_puts(stdout, ftm ? ftm : "");
                    fputc('\n', stdout);
                }
                if (!ftm)
                    fe_warn("job %s succeeded but names no fine_tuned_model", a->pos);
                rc = FE_EXIT_OK;
            } else {
                const cJSON *e = cJSON_GetObjectItemCaseSensitive(job, "error");
                const char *msg = cJSON_IsObject(e) ? fe_ft_str(e, "message") : NULL;
                const char *code = cJSON_IsObject(e) ? fe_ft_str(e, "code") : NULL;
                char *line = fe_xasprintf("fteval: error: job %s %s%s%s%s%s\n", a->pos, status,
                                          msg ? ": " : "", code ? code : "",
                                          code && msg ? ": " : "", msg ? msg : "");
                fe_ft_puts(stderr, line);
                free(line);
                rc = FE_EXIT_GATE;
            }
            cJSON_Delete(job);
            break;
        }
        cJSON_Delete(job);
        double elapsed = fe_now() - start;
        if (timeout > 0 && elapsed >= timeout) {
            fprintf(stderr, "fteval: error: wait: timed out after %.0f s; job %s is still %s\n",
                    elapsed, a->pos, last_status);
            rc = FE_EXIT_ABORTED;
            break;
        }
        double nap = delay;
        if (timeout > 0 && elapsed + nap > timeout)
            nap = timeout - elapsed;
        fe_http_sleep(nap);
        delay = delay * 2 > interval ? interval : delay * 2;
    }
    cJSON_Delete(seen);
    cJSON_Delete(unknown);
    return rc;
}

int fe_cmd_ft(int argc, char **argv)
{
    struct fe_ft_args a;
    int rc = FE_EXIT_OK;
    if (!fe_ft_parse(argc, argv, &a, &rc))
        return rc;
    if (a.val[OPT_VERBOSE])
        fe_log_set_level(FE_LOG_DEBUG);
    if (a.sub == SUB_CREATE) { /* validate before reading the key or touching the network */
        struct fe_ft_create_params p;
        if ((rc = fe_ft_validate_create(&a, &p)) != FE_EXIT_OK)
            return rc;
    }
    struct fe_http *h = fe_ft_connect(&a, &rc);
    if (!h)
        return rc;
    switch (a.sub) {
    case SUB_UPLOAD: rc = fe_ft_upload(h, &a); break;
    case SUB_CREATE: rc = fe_ft_create(h, &a); break;
    case SUB_STATUS: rc = fe_ft_status(h, &a); break;
    case SUB_WAIT: rc = fe_ft_wait(h, &a); break;
    case SUB_EVENTS: rc = fe_ft_events(h, &a); break;
    case SUB_CHECKPOINTS: rc = fe_ft_checkpoints(h, &a); break;
    case SUB_CANCEL: rc = fe_ft_cancel(h, &a); break;
    case SUB_LIST: rc = fe_ft_list(h, &a); break;
    default: rc = FE_EXIT_INTERNAL; break;
    }
    fflush(stdout);
    fe_http_free(h);
    return rc;
}
