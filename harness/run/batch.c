/* batch.c — the batch run (runner.h fe_batch_run, batch_int.h, docs/batch.md).
 *
 * Each batch arm's examples without a result are built into the very requests the online path
 * sends (the provider's build_request), grouped into batches of at most batch_max_requests
 * requests and batch_max_bytes bytes (one arm, so one model, per batch), and submitted through
 * the provider's batch API (batch_api.c). Then every batch is polled (backoff from
 * batch_poll_s up to 60 s) until it ends, its results are joined to the examples by custom_id
 * (any order; a duplicate line counts once; an unknown one is ignored) and each becomes the
 * same record an online answer would (record.c), with "batch_id", latency_ms null and the cost
 * at the price row's batch_multiplier (null when the row has none).
 *
 * Memory: the examples are not held. Each parsed row goes to an unlinked spill file as the
 * dataset is read (only ids, offsets and line numbers stay); request lines are written to the
 * upload file as they are built; a result line reads its example back by offset. Every set and
 * list (a batch's requests, what has a record, what is in flight) holds example indexes or bits
 * over them (batch_index.c), never strings; a custom_id is computed from its id when written.
 *
 * Judges: a judged config's batch records carry their judgements "pending" (batch_state.c);
 * fe_batch_online then runs every arm through the runner with the batch arms judge_only, which
 * judges them online as a resume judges a stop's pending judgements (judge_run.c).
 *
 * Crash safety: the batch journal <run>/batch.journal holds one JSON event per line — "file"
 * (an uploaded input file and its custom_ids), "batch" (a created batch), "end" (its results
 * recorded) — each fsync'ed before anything else happens with that id. A resumed run
 * reattaches to every batch without an "end" and creates a batch for a journaled file that has
 * none (after looking for one made from it), so a kill -9 never leads to a second submission.
 * A request that got no result (expired, cancelled, missing from the results) goes into a later
 * batch (at most FE_BATCH_ROUNDS rounds a session) or, with batch_fallback_online, online.
 *
 * Budget: a batch is submitted only when its worst case (prompt estimates + max_tokens at the
 * batch price) fits what the run has left after its spend and the reservations of the batches
 * in flight; otherwise the run stops as a budget stop (resumable, no verdict).
 */
#include "harness/run/runner.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "harness/base/buf.h"
#include "harness/base/jsonout.h"
#include "harness/base/log.h"
#include "harness/base/util.h"
#include "harness/net/policy.h"
#include "harness/run/batch_int.h"
#include "harness/run/cache.h"
#include "harness/run/journal.h"
#include "harness/run/runner_int.h"

#define FE_BATCH_ROUNDS 3       /* submissions of the same example in one session */
#define FE_BATCH_POLL_MAX_S 60.0

static void fe_batch_on_signal(int sig)
{
    (void)sig;
    fe_runner_signals++;
}

static bool fe_batch_arm_on(const struct fe_arm_conf *arm, const struct fe_runner_opts *o)
{
    return o->batch == FE_BATCH_ALL || (o->batch == FE_BATCH_BY_CONFIG && arm->provider->batch);
}

bool fe_batch_wanted(const struct fe_config *c, const struct fe_runner_opts *o)
{
    for (size_t a = 0; a < c->n_arms; a++)
        if (fe_batch_arm_on(&c->arms[a], o))
            return true;
    return false;
}

/* ---- the batch journal -------------------------------------------------------------------- */

static struct fe_batch *fe_batch_by(struct fe_brun *r, const char *field_file, const char *id)
{
    for (size_t i = 0; id && i < r->n_b; i++) {
        const char *v = field_file ? r->b[i].file_id : r->b[i].id;
        if (v && strcmp(v, id) == 0)
            return &r->b[i];
    }
    return NULL;
}

static size_t fe_batch_arm_index(const struct fe_config *c, const char *name)
{
    for (size_t a = 0; name && a < c->n_arms; a++)
        if (strcmp(c->arms[a].name, name) == 0)
            return a;
    return c->n_arms;
}

/* One event of a resumed journal. */
static void fe_batch_replay(struct fe_brun *r, const cJSON *ev)
{
    const char *event = fe_json_gets_or(ev, "event", "");
    size_t a = fe_batch_arm_index(r->c, fe_json_gets(ev, "arm"));
    if (a == r->c->n_arms || !r->arms[a].on)
        return; /* an arm not in this session's selection: its batches wait for a run that has it */
    const char *bid = fe_json_gets(ev, "batch_id"), *fid = fe_json_gets(ev, "file_id");
    struct fe_batch *b = NULL;
    if (strcmp(event, "file") == 0 || strcmp(event, "batch") == 0) {
        b = fe_batch_by(r, NULL, bid);
        if (!b)
            b = fe_batch_by(r, "file", fid);
        if (!b) {
            b = fe_batch_add(r, a);
            fe_batch_set_indexes(r, b, fe_json_get(ev, "custom_ids"));
            b->reserved_usd = fe_json_getn_or(ev, "reserved_usd", 0);
        }
        if (fid && !b->file_id)
            b->file_id = fe_xstrdup(fid);
        if (bid && !b->id)
            b->id = fe_xstrdup(bid);
    } else if (strcmp(event, "end") == 0 && (b = fe_batch_by(r, NULL, bid)) != NULL) {
        b->finished = b->ended = true;
        snprintf(b->status, sizeof(b->status), "%s", fe_json_gets_or(ev, "status", "ended"));
    }
}

static enum fe_status fe_batch_journal_open(struct fe_brun *r)
{
    char *path = fe_xasprintf("%s/batch.journal", r->o->run_dir);
    FILE *f = r->o->resume ? fopen(path, "rb") : NULL; /* read a line at a time */
    char *text = NULL;
    size_t cap = 0;
    ssize_t got;
    while (f && (got = getline(&text, &cap, f)) > 0) {
        if (text[got - 1] != '\n')
            break; /* a torn last line: fe_journal_open_events cuts it */
        cJSON *ev = cJSON_ParseWithLength(text, (size_t)got - 1);
        fe_batch_replay(r, ev);
        cJSON_Delete(ev);
    }
    free(text);
    if (f)
        fclose(f);
    if (!r->o->resume)
        unlink(path); /* a new run in a reused directory starts a new journal */
    enum fe_status st = fe_journal_open_events(&r->bj, path, r->err);
    free(path);
    for (size_t i = 0; i < r->n_b; i++)
        if (!r->b[i].finished) {
            r->reserved += r->b[i].reserved_usd;
            fe_batch_say(r, "reattaching to %s %s (arm '%s', %zu requests)", r->b[i].id ? "batch" : "file",
                    r->b[i].id ? r->b[i].id : r->b[i].file_id, r->c->arms[r->b[i].arm].name, r->b[i].n);
        }
    return st;
}

/* ---- requests ----------------------------------------------------------------------------- */

/* The client of arm a: the provider's base URL and the auth headers its own requests carry. */
static struct fe_http *fe_batch_client(const struct fe_arm_conf *arm, const struct fe_http_request *sample)
{
    const struct fe_provider_conf *pc = &arm->provider->conf;
    struct fe_http *h = fe_http_new(pc->base_url, pc->api_key);
    for (size_t i = 0; sample && i < sample->n_headers; i++) {
        const char *hl = sample->headers[i];
        if (strncasecmp(hl, "content-type:", 13) != 0 && strncasecmp(hl, "accept:", 7) != 0)
            fe_http_add_header(h, hl, true);
    }
    fe_http_set_retries(h, arm->max_retries > 5 ? (int)arm->max_retries : 5);
    fe_http_set_retry_cap(h, arm->provider->max_wait_s);
    fe_http_set_body_cap(h, (size_t)1 << 31); /* result files: up to 50,000 answers */
    return h;
}

/* ---- records ------------------------------------------------------------------------------ */

/* One result line of the batch being read (batch_api.c calls it). */
static void fe_batch_on_outcome(void *ctx, const struct fe_batch_outcome *out)
{
    struct fe_brun *r = ctx;
    const struct fe_batch *b = &r->b[r->cur];
    size_t i = 0;
    if (!out->cid || !fe_batch_find_cid(r, out->cid, &i) || !fe_bit(r->sent, i)) {
        r->n_unknown++; /* not a request of this batch */
        return;
    }
    if (fe_bit(r->answered, i)) {
        r->n_dup++; /* the first line of a custom_id wins */
        return;
    }
    fe_bit_set(r->answered, i);
    if (out->what == FE_BO_AGAIN) {
        r->n_again++;
        return;
    }
    struct fe_example ex = {0};
    if (fe_batch_example(r, i, &ex, r->err) != FE_OK) { /* the spill file is ours: an I/O error */
        if (r->fatal == FE_OK)
            r->fatal = r->err->code;
        return;
    }
    const struct fe_provider_ops *ops = r->c->arms[b->arm].provider->ops;
    struct fe_completion comp = {0};
    struct fe_provider_error pe = {0};
    char *body = out->body ? fe_xstrndup(out->body, out->len) : NULL;
    size_t repaired = body ? fe_net_json_repair(body, out->len) : 0;
    struct fe_err perr = {0};
    if (out->what == FE_BO_OK && ops->parse_response(body, out->len, &comp, &perr) == FE_OK) {
        bool absurd = comp.has_usage && (comp.prompt_tokens > FE_USAGE_ABSURD ||
                                         comp.completion_tokens > FE_USAGE_ABSURD);
        if (!absurd) {
            fe_batch_record(r, b->arm, i, &ex, &comp, NULL, b->id, out->request_id, repaired);
        } else {
            pe.kind = FE_ERRK_MALFORMED;
            pe.message = fe_xasprintf("usage above %ld tokens: not a usage", FE_USAGE_ABSURD);
        }
    } else if (out->what == FE_BO_OK) {
        pe.kind = FE_ERRK_MALFORMED;
        pe.message = fe_xstrdup(perr.msg);
    } else if (body) {
        ops->classify_error(out->http_status, body, out->len, &pe);
    } else {
        pe.kind = out->kind;
        pe.message = fe_xstrdup(out->message);
    }
    if (pe.kind)
        fe_batch_record(r, b->arm, i, &ex, NULL, &pe, b->id, out->request_id, 0);
    r->n_recorded++;
    fe_completion_release(&comp);
    if (body)
        fe_provider_error_release(&pe);
    else
        free(pe.message);
    free(body);
    fe_example_release(&ex);
}

/* Reads the results of ended batch k and writes its "end" event. */
static enum fe_status fe_batch_collect(struct fe_brun *r, size_t k)
{
    struct fe_batch *b = &r->b[k];
    const struct fe_arm_conf *arm = &r->c->arms[b->arm];
    struct fe_barm *ba = &r->arms[b->arm];
    for (size_t j = 0; j < b->n; j++)
        if (b->idx[j] < r->n_ex && !fe_bit(ba->seen, b->idx[j]))
            fe_bit_set(r->sent, b->idx[j]);
    r->cur = k;
    r->n_again = r->n_dup = r->n_unknown = r->n_recorded = 0;
    size_t n_bad = 0;
    enum fe_status st = fe_batch_api_results(r->arms[b->arm].h, r->arms[b->arm].kind, b, r->download,
                                             fe_batch_on_outcome, r, &n_bad, r->err);
    size_t missing = 0;
    for (size_t j = 0; j < b->n; j++) {
        uint32_t v = b->idx[j];
        if (v >= r->n_ex) /* no example here: never answered */
            missing += !fe_strmap_get(&ba->seen_other, b->foreign[v - r->n_ex], NULL);
        else
            missing += fe_bit(r->sent, v) && !fe_bit(r->answered, v);
    }
    for (size_t j = 0; j < b->n; j++)
        if (b->idx[j] < r->n_ex) { /* clear the bits of this batch for the next */
            r->sent[b->idx[j] >> 3] = 0;
            r->answered[b->idx[j] >> 3] = 0;
        }
    if (st != FE_OK)
        return st;
    if (r->n_dup || r->n_unknown || n_bad || missing)
        fe_warn("batch %s (arm '%s'): %zu duplicate line(s) ignored, %zu unknown custom_id(s), %zu unreadable "
                "line(s), %zu request(s) without a result line (sent again)",
                b->id, arm->name, r->n_dup, r->n_unknown, n_bad, missing);
    b->finished = true;
    r->reserved -= b->reserved_usd;
    cJSON *ev = fe_batch_event("end", arm->name);
    cJSON_AddStringToObject(ev, "batch_id", b->id);
    cJSON_AddStringToObject(ev, "status", b->status);
    cJSON *n = cJSON_AddObjectToObject(ev, "counts");
    fe_json_add_num(n, "requests", (double)b->n);
    fe_json_add_num(n, "recorded", (double)r->n_recorded);
    fe_json_add_num(n, "no_result", (double)(r->n_again + missing));
    fe_json_add_num(n, "duplicates", (double)r->n_dup);
    fe_json_add_num(n, "unknown", (double)r->n_unknown);
    fe_json_add_num(n, "unreadable", (double)n_bad);
    fe_batch_say(r, "%s (arm '%s') %s: %zu recorded, %zu without a result", b->id, arm->name, b->status,
            r->n_recorded, r->n_again + missing);
    return fe_batch_journal(r, ev);
}

/* ---- polling ------------------------------------------------------------------------------ */

static void fe_batch_progress(const struct fe_brun *r, const struct fe_batch *b, const char *was)
{
    if (strcmp(was, b->status) != 0)
        fe_batch_say(r, "%s (arm '%s'): %s, %ld/%ld done, %ld failed", b->id, r->c->arms[b->arm].name, b->status,
                b->done, b->total, b->failed);
    else if (r->o->progress)
        fprintf(stderr, "\r\033[Kbatch %s (%s): %s %ld/%ld done, %ld failed", b->id, r->c->arms[b->arm].name,
                b->status, b->done, b->total, b->failed);
}

/* Polls every unfinished batch until all have ended and been read, or a signal comes. */
static enum fe_status fe_batch_wait(struct fe_brun *r)
{
    for (;;) {
        double now = fe_now(), wake = now + FE_BATCH_POLL_MAX_S;
        bool active = false;
        for (size_t k = 0; k < r->n_b && r->fatal == FE_OK; k++) {
            struct fe_batch *b = &r->b[k];
            if (b->finished || !b->id)
                continue;
            active = true;
            if (fe_runner_signals)
                break;
            if (b->next_poll > now) {
                wake = fmin(wake, b->next_poll);
                continue;
            }
            char was[32];
            snprintf(was, sizeof(was), "%s", b->status);
            enum fe_status st = fe_batch_api_poll(r->arms[b->arm].h, r->arms[b->arm].kind, b, r->err);
            if (st != FE_OK)
                return st;
            fe_batch_progress(r, b, was);
            if (b->ended) {
                if (strcmp(b->status, "failed") == 0)
                    return fe_err_set(r->err, FE_EPROVIDER,
                                      "batch %s (arm '%s') failed validation (see the error above); nothing "
                                      "of it ran: fix the cause and resume",
                                      b->id, r->c->arms[b->arm].name);
                st = fe_batch_collect(r, k);
                if (st != FE_OK)
                    return st;
                continue;
            }
            b->next_poll = now + b->interval;
            b->interval = fmin(b->interval * 1.5, FE_BATCH_POLL_MAX_S);
            wake = fmin(wake, b->next_poll);
        }
        if (r->fatal != FE_OK)
            return r->fatal;
        if (!active)
            return FE_OK;
        if (fe_runner_signals) {
            r->res->interrupted = true;
            fe_warn("interrupted: the batches keep running at the provider; resume to collect them");
            return FE_OK;
        }
        double dt = fmin(fmax(wake - fe_now(), 0.001), 0.2);
        nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = (long)(dt * 1e9)}, NULL);
    }
}

/* ---- submitting --------------------------------------------------------------------------- */

struct fe_batch_chunk {
    struct fe_brun *r;
    size_t arm;
    struct fe_buf text;         /* anthropic: the requests[] items (the create's body) */
    char *path;                 /* openai: <run>/batch-input.jsonl, the JSONL lines written as built */
    FILE *f;
    bool write_failed;
    size_t bytes;               /* the input's size so far */
    uint32_t *idx;              /* its examples */
    size_t n, cap;
    double worst;
    struct fe_batch *b;
};

/* The batch of chunk ch, which gives it its examples. */
static struct fe_batch *fe_batch_take(struct fe_batch_chunk *ch)
{
    struct fe_batch *b = fe_batch_add(ch->r, ch->arm);
    b->reserved_usd = ch->worst;
    b->idx = ch->idx;
    b->n = ch->n;
    ch->idx = NULL;
    ch->cap = 0;
    return b;
}

static void fe_batch_on_file(void *ctx, const char *file_id)
{
    struct fe_batch_chunk *ch = ctx;
    cJSON *ev = fe_batch_event("file", ch->r->c->arms[ch->arm].name);
    cJSON_AddStringToObject(ev, "file_id", file_id);
    cJSON_AddNumberToObject(ev, "reserved_usd", ch->worst);
    ch->b = fe_batch_take(ch);
    ch->b->file_id = fe_xstrdup(file_id);
    fe_batch_journal_ids(ch->r, ev, ch->b);
}

/* Journals a created batch (the chunk's, or the resumed file's b). */
static enum fe_status fe_batch_created(struct fe_brun *r, struct fe_batch *b, char *batch_id)
{
    b->id = batch_id;
    r->res->batches_created++;
    cJSON *ev = fe_batch_event("batch", r->c->arms[b->arm].name);
    cJSON_AddStringToObject(ev, "batch_id", b->id);
    if (b->file_id)
        cJSON_AddStringToObject(ev, "file_id", b->file_id);
    cJSON_AddNumberToObject(ev, "reserved_usd", b->reserved_usd);
    fe_batch_say(r, "%s created (arm '%s', %zu requests)", b->id, r->c->arms[b->arm].name, b->n);
    return fe_batch_journal_ids(r, ev, b);
}

/* Submits one chunk, after the budget check. */
static enum fe_status fe_batch_submit(struct fe_brun *r, struct fe_batch_chunk *ch)
{
    const struct fe_config *c = r->c;
    double spent = r->seed + r->res->spent_usd;
    if (c->has_budget && ch->worst > 0 && spent + r->reserved + ch->worst > c->budget_max_usd) {
        r->res->budget_stopped = true;
        fe_warn("budget: the next batch (%zu requests, arm '%s') could cost up to $%.6f but only $%.6f of "
                "budget.max_usd $%.4f is left (spent $%.6f, $%.6f reserved by batches in flight); not submitted",
                ch->n, c->arms[ch->arm].name, ch->worst, c->budget_max_usd - spent - r->reserved,
                c->budget_max_usd, spent, r->reserved);
        return FE_OK;
    }
    struct fe_barm *ba = &r->arms[ch->arm];
    const char *path = NULL;
    if (ba->kind == FE_BATCH_OPENAI) {
        path = ch->path;
        bool ok = ch->f && !ch->write_failed;
        if (ch->f && fclose(ch->f) != 0)
            ok = false;
        ch->f = NULL;
        if (!ok) {
            unlink(path);
            return fe_err_set(r->err, FE_EIO, "%s: cannot write the batch input file", path);
        }
    } else {
        fe_buf_addch(&ch->text, ']');
    }
    char *bid = NULL;
    enum fe_status st = fe_batch_api_submit(ba->h, ba->kind, path, fe_buf_str(&ch->text), NULL, fe_batch_on_file,
                                            ch, &bid, r->err);
    if (path)
        unlink(path);
    if (st == FE_OK && r->fatal == FE_OK) {
        if (!ch->b) /* anthropic: no file */
            ch->b = fe_batch_take(ch);
        r->reserved += ch->worst;
        st = fe_batch_created(r, ch->b, bid);
    } else {
        free(bid);
    }
    return st != FE_OK ? st : r->fatal;
}

static void fe_batch_chunk_reset(struct fe_batch_chunk *ch)
{
    if (ch->f) { /* not submitted (a budget stop, an error) */
        fclose(ch->f);
        unlink(ch->path);
        ch->f = NULL;
    }
    ch->write_failed = false;
    ch->bytes = 0;
    fe_buf_release(&ch->text);
    fe_buf_init(&ch->text, 0);
    ch->n = 0; /* idx stays (or went to the batch) */
    ch->worst = 0;
    ch->b = NULL;
}

/* Adds example i of the chunk's arm; records it as an error when its request cannot be built. */
static void fe_batch_chunk_add(struct fe_brun *r, struct fe_batch_chunk *ch, size_t i, const char *line, size_t len,
                               long prompt_est)
{
    const struct fe_arm_conf *arm = &r->c->arms[ch->arm];
    if (r->arms[ch->arm].kind == FE_BATCH_ANTHROPIC) {
        fe_buf_addch(&ch->text, ch->n ? ',' : '[');
        fe_buf_add(&ch->text, line, len);
    } else {
        if (!ch->f && !ch->write_failed)
            ch->f = fopen(ch->path, "wb");
        if (!ch->f || fwrite(line, 1, len, ch->f) != len || fputc('\n', ch->f) == EOF)
            ch->write_failed = true;
    }
    ch->bytes += len + 1;
    if (ch->n == ch->cap) {
        ch->cap = ch->cap ? 2 * ch->cap : 1024;
        ch->idx = fe_xreallocarray(ch->idx, ch->cap, sizeof(*ch->idx));
    }
    ch->idx[ch->n++] = (uint32_t)i;
    if (arm->has_price)
        ch->worst += fe_cost_call(&arm->price, prompt_est, 0, arm->max_tokens, arm->price.has_batch_multiplier);
}

/* One round: every example of arm a without a result and in no unfinished batch goes into new
 * batches. Returns FE_OK with *n_sent requests submitted. */
static enum fe_status fe_batch_round(struct fe_brun *r, size_t a, size_t *n_sent)
{
    const struct fe_provider_entry *pe = r->c->arms[a].provider;
    struct fe_barm *ba = &r->arms[a];
    uint8_t *busy = fe_bits_new(r->n_ex); /* in an unfinished batch */
    for (size_t k = 0; k < r->n_b; k++)
        for (size_t j = 0; r->b[k].arm == a && !r->b[k].finished && j < r->b[k].n; j++)
            if (r->b[k].idx[j] < r->n_ex)
                fe_bit_set(busy, r->b[k].idx[j]);
    struct fe_batch_chunk ch = {.r = r, .arm = a, .path = fe_xasprintf("%s/batch-input.jsonl", r->o->run_dir)};
    fe_batch_chunk_reset(&ch);
    enum fe_status st = FE_OK;
    *n_sent = 0;
    for (size_t i = 0; i < r->n_ex && st == FE_OK && !r->res->budget_stopped; i++) {
        if (fe_bit(ba->done_bits, i) || fe_bit(ba->seen, i) || fe_bit(busy, i))
            continue;
        struct fe_example ex = {0};
        st = fe_batch_example(r, i, &ex, r->err);
        if (st != FE_OK)
            break;
        struct fe_http_request req = {0};
        struct fe_err berr = {0};
        long prompt_est = 0;
        cJSON *line = NULL;
        char cid[FE_BATCH_CID_MAX];
        if (fe_batch_build(r, a, &ex, &req, &prompt_est, &berr) == FE_OK)
            line = fe_batch_line(ba->kind, fe_batch_cid_of(r, i, cid), req.body, req.body_len);
        fe_http_request_release(&req);
        if (!line) {
            struct fe_provider_error e = {.kind = FE_ERRK_BAD_REQUEST, .message = berr.msg};
            fe_batch_record(r, a, i, &ex, NULL, &e, NULL, NULL, 0);
            fe_example_release(&ex);
            continue;
        }
        fe_example_release(&ex);
        char *text = cJSON_PrintUnformatted(line);
        cJSON_Delete(line);
        size_t len = strlen(text);
        if (ch.n > 0 && ((long)ch.n >= pe->batch_max_requests ||
                         (long)(ch.bytes + len + 2) > pe->batch_max_bytes)) {
            st = fe_batch_submit(r, &ch);
            *n_sent += r->res->budget_stopped ? 0 : ch.n;
            fe_batch_chunk_reset(&ch);
        }
        if (st == FE_OK && !r->res->budget_stopped)
            fe_batch_chunk_add(r, &ch, i, text, len, prompt_est);
        cJSON_free(text);
    }
    if (st == FE_OK && ch.n > 0 && !r->res->budget_stopped) {
        st = fe_batch_submit(r, &ch);
        *n_sent += r->res->budget_stopped ? 0 : ch.n;
    }
    fe_batch_chunk_reset(&ch);
    free(ch.path);
    fe_buf_release(&ch.text);
    free(ch.idx);
    free(busy);
    return st;
}

/* A journaled file with no batch (the create's answer was lost): the batch made from it, if the
 * API has one, else a create from that file (never a second upload). */
static enum fe_status fe_batch_adopt_files(struct fe_brun *r)
{
    for (size_t k = 0; k < r->n_b; k++) {
        struct fe_batch *b = &r->b[k];
        if (b->id || b->finished || !b->file_id)
            continue;
        struct fe_barm *ba = &r->arms[b->arm];
        char *bid = NULL;
        enum fe_status st = fe_batch_api_find(ba->h, b->file_id, &bid, r->err);
        if (st == FE_OK && !bid)
            st = fe_batch_api_submit(ba->h, ba->kind, NULL, NULL, b->file_id, NULL, NULL, &bid, r->err);
        else if (st == FE_OK)
            fe_batch_say(r, "file %s already has batch %s (a create whose answer was lost)", b->file_id, bid);
        if (st != FE_OK)
            return st;
        if (!bid)
            return fe_err_set(r->err, FE_EPROVIDER, "batch: no batch id for file %s", b->file_id);
        st = fe_batch_created(r, b, bid);
        if (st != FE_OK)
            return st;
    }
    return FE_OK;
}

/* ---- set-up and the phases ---------------------------------------------------------------- */

/* A scratch file in the run directory, unlinked at once: gone when the process ends, however it
 * ends. */
static enum fe_status fe_batch_scratch(struct fe_brun *r, const char *name, FILE **f)
{
    char *path = fe_xasprintf("%s/%s", r->o->run_dir, name);
    *f = fopen(path, "w+b");
    if (*f)
        unlink(path);
    enum fe_status st = *f ? FE_OK : fe_err_set(r->err, FE_EIO, "%s: cannot create a scratch file: %s", path,
                                                 strerror(errno));
    free(path);
    return st;
}

/* Reads the dataset once: each example of this shard goes to the spill file (its parsed row, one
 * line), and only its id, offset and line stay in memory (batch_index.c). */
static enum fe_status fe_batch_load_examples(struct fe_brun *r)
{
    enum fe_status st = fe_batch_scratch(r, "batch-examples.tmp", &r->spill);
    if (st == FE_OK)
        st = fe_batch_scratch(r, "batch-results.tmp", &r->download);
    struct fe_dataset_reader *rd = NULL;
    if (st == FE_OK)
        st = fe_dataset_open_with(&rd, r->c->dataset_path, &r->c->dataset_opts, r->err);
    size_t read = 0;
    long long at = 0;
    while (st == FE_OK && (r->o->limit <= 0 || read < (size_t)r->o->limit)) {
        struct fe_example ex = {0};
        struct fe_err derr = {0};
        int got = fe_dataset_next(rd, &ex, &derr);
        if (got < 0)
            st = fe_err_set(r->err, derr.code, "%s", derr.msg);
        if (got <= 0)
            break;
        read++;
        if (!fe_shard_mine(r->o->shard, ex.id)) {
            fe_example_release(&ex);
            continue;
        }
        char cid[FE_BATCH_CID_MAX];
        if (r->ids.len + strlen(ex.id) + 1 > UINT32_MAX || r->n_ex >= UINT32_MAX - 1)
            st = fe_err_set(r->err, FE_EINVALID, "batch: more examples or ids than a batch run holds (4 GiB)");
        else if (!fe_batch_index_add(r, ex.id, cid))
            st = fe_err_set(r->err, FE_EINVALID, "example '%s': its batch custom_id %s is taken by another example",
                            ex.id, cid);
        if (st != FE_OK) {
            fe_example_release(&ex);
            break;
        }
        char *row = cJSON_PrintUnformatted(ex.row);
        size_t len = row ? strlen(row) : 0;
        if (!row || fwrite(row, 1, len, r->spill) != len || fputc('\n', r->spill) == EOF)
            st = fe_err_set(r->err, FE_EIO, "batch: cannot write the spill file");
        cJSON_free(row);
        size_t k = r->n_ex - 1;
        r->off[k] = at;
        at += (long long)len + 1;
        r->line[k] = ex.line;
        fe_example_release(&ex);
    }
    fe_dataset_close(rd);
    if (st == FE_OK && fflush(r->spill) != 0)
        st = fe_err_set(r->err, FE_EIO, "batch: cannot write the spill file");
    return st;
}

static enum fe_status fe_batch_setup_arm(struct fe_brun *r, size_t a)
{
    const struct fe_arm_conf *arm = &r->c->arms[a];
    struct fe_barm *ba = &r->arms[a];
    const char *type = arm->provider->conf.type;
    if (strcmp(type, "openai") != 0 && strcmp(type, "anthropic") != 0)
        return fe_err_set(r->err, FE_EINVALID, "arm '%s': provider '%s' (type %s) has no batch API (openai and "
                          "anthropic do); run it without --batch", arm->name, arm->provider->conf.name, type);
    ba->kind = strcmp(type, "anthropic") == 0 ? FE_BATCH_ANTHROPIC : FE_BATCH_OPENAI;
    char *path = fe_xasprintf("%s/%s.jsonl", r->o->run_dir, arm->name);
    size_t n_done = 0;
    enum fe_status st = fe_journal_open(&ba->journal, path, r->o->resume, &ba->done, &n_done, r->err);
    free(path);
    if (st != FE_OK)
        return st;
    r->seed += ba->journal.recovered_spend_usd;
    r->res->spend_estimated = r->res->spend_estimated || ba->journal.recovered_spend_estimated;
    r->res->already_done += n_done;
    fe_batch_seen_bits(r, ba);
    struct fe_http_request sample = {0}; /* the auth headers of the provider's own requests */
    for (size_t i = 0; i < r->n_ex && !sample.url; i++) {
        struct fe_example ex = {0};
        struct fe_err berr = {0};
        long est = 0;
        if (fe_batch_example(r, i, &ex, r->err) != FE_OK)
            return r->err->code;
        if (fe_batch_build(r, a, &ex, &sample, &est, &berr) != FE_OK)
            fe_http_request_release(&sample);
        fe_example_release(&ex);
    }
    ba->h = fe_batch_client(arm, sample.url ? &sample : NULL);
    fe_http_request_release(&sample);
    return FE_OK;
}

/* A new run (no --resume) starts every arm's journal empty; the online phase, which reopens the
 * journals as a resume (to keep the batch records), must not find an old file's records. */
static enum fe_status fe_batch_fresh_arm(struct fe_brun *r, size_t a)
{
    if (r->o->resume)
        return FE_OK;
    struct fe_journal j;
    char *path = fe_xasprintf("%s/%s.jsonl", r->o->run_dir, r->c->arms[a].name);
    enum fe_status st = fe_journal_open(&j, path, false, NULL, NULL, r->err);
    free(path);
    struct fe_err cerr = {0};
    if (fe_journal_close(&j, &cerr) != FE_OK && st == FE_OK)
        st = fe_err_set(r->err, FE_EIO, "%s", cerr.msg);
    return st;
}

/* Examples of batch arms with no record at all. */
static size_t fe_batch_unsent(const struct fe_brun *r)
{
    size_t n = 0;
    for (size_t a = 0; a < r->c->n_arms; a++)
        if (r->arms[a].on && r->arms[a].journal.fd >= 0)
            n += r->n_ex > r->arms[a].n_seen ? r->n_ex - r->arms[a].n_seen : 0;
    return n;
}

/* The batch phase: reattach, then rounds of new batches until every example has a result. */
static enum fe_status fe_batch_phase(struct fe_brun *r)
{
    enum fe_status st = fe_batch_adopt_files(r);
    if (st == FE_OK)
        st = fe_batch_wait(r);
    for (int round = 0; st == FE_OK && round < FE_BATCH_ROUNDS; round++) {
        if (r->res->interrupted || r->res->budget_stopped || (round > 0 && r->o->batch_fallback_online))
            break;
        size_t sent = 0;
        for (size_t a = 0; a < r->c->n_arms && st == FE_OK; a++) {
            size_t n = 0;
            if (r->arms[a].on)
                st = fe_batch_round(r, a, &n);
            sent += n;
        }
        if (st == FE_OK)
            st = fe_batch_wait(r);
        if (sent == 0)
            break;
    }
    return st != FE_OK ? st : r->fatal;
}

/* The online phase: the arms that do not batch, and with fallback what batches left (the batch
 * arms' journals are closed by now; the online runner reopens them as a resume). A judged config
 * runs every arm (a pairwise judge needs the other arm's output; `against` is an arm index): the
 * batch arms' records, which have no judgements yet, are judged as a resume judges them, and
 * without fallback nothing is generated for a batch arm (judge_only). */
static enum fe_status fe_batch_online(struct fe_brun *r, bool fallback)
{
    const struct fe_config *c = r->c;
    bool all = fallback || c->n_judges > 0; /* every arm: the runner reopens the batch arms' journals */
    struct fe_config sub = *c;
    sub.arms = fe_xcalloc(c->n_arms ? c->n_arms : 1, sizeof(*sub.arms));
    bool *judge_only = fe_xcalloc(c->n_arms ? c->n_arms : 1, sizeof(bool));
    sub.n_arms = 0;
    for (size_t a = 0; a < c->n_arms; a++) {
        judge_only[a] = r->arms[a].on && !fallback;
        if (!r->arms[a].on || all)
            sub.arms[sub.n_arms++] = c->arms[a];
    }
    enum fe_status st = FE_OK;
    struct fe_runner_result *res = r->res;
    if (sub.n_arms > 0 && !res->interrupted) {
        struct fe_runner_opts o2 = *r->o;
        o2.batch = FE_BATCH_OFF;
        o2.resume = true; /* the batch phase's records are results */
        o2.judge_only = all ? judge_only : NULL;
        double batch_session = res->spent_usd;
        size_t batch_recorded = res->recorded;
        o2.other_spend_usd = all ? 0 : r->seed + batch_session;
        struct fe_runner_result on;
        st = fe_runner_run(&sub, &o2, &on, r->err);
        res->seed_usd = all ? on.seed_usd - batch_session : r->seed + on.seed_usd;
        res->already_done = all ? on.already_done - batch_recorded : res->already_done + on.already_done;
        res->unsent = all ? on.unsent : res->unsent + on.unsent;
        res->recorded += on.recorded;
        res->errors += on.errors;
        res->cache_hits += on.cache_hits;
        res->retries += on.retries;
        res->spent_usd += on.spent_usd;
        res->spend_estimated = res->spend_estimated || on.spend_estimated;
        res->saved_usd += on.saved_usd;
        res->quota_stopped = res->quota_stopped || on.quota_stopped;
        res->outage = res->outage || on.outage;
        res->waits_gave_up = res->waits_gave_up || on.waits_gave_up;
        res->probe_failed = res->probe_failed || on.probe_failed;
        res->budget_stopped = res->budget_stopped || on.budget_stopped;
        res->interrupted = res->interrupted || on.interrupted;
        if (on.quota_stopped)
            snprintf(res->quota_provider, sizeof(res->quota_provider), "%s", on.quota_provider);
        if (on.stop_provider[0]) {
            snprintf(res->stop_provider, sizeof(res->stop_provider), "%s", on.stop_provider);
            snprintf(res->stop_message, sizeof(res->stop_message), "%s", on.stop_message);
        }
    }
    free(sub.arms);
    free(judge_only);
    return st;
}

/* Closes the journals and frees the batches; r->arms (the "on" flags) stays for the online phase. */
static void fe_batch_close(struct fe_brun *r)
{
    for (size_t a = 0; r->arms && a < r->c->n_arms; a++) {
        struct fe_barm *ba = &r->arms[a];
        struct fe_err cerr = {0};
        if (ba->journal.fd >= 0 && fe_journal_close(&ba->journal, &cerr) != FE_OK && r->fatal == FE_OK)
            r->fatal = fe_err_set(r->err, FE_EIO, "%s", cerr.msg);
        fe_strmap_release(&ba->done);
        fe_strmap_release(&ba->seen_other);
        free(ba->done_bits);
        free(ba->seen);
        ba->done_bits = ba->seen = NULL;
        fe_http_free(ba->h);
        ba->h = NULL;
    }
    struct fe_err cerr = {0};
    if (r->bj.fd >= 0 && fe_journal_close(&r->bj, &cerr) != FE_OK && r->fatal == FE_OK)
        r->fatal = fe_err_set(r->err, FE_EIO, "%s", cerr.msg);
    for (size_t k = 0; k < r->n_b; k++) {
        struct fe_batch *b = &r->b[k];
        for (size_t j = 0; j < b->n_foreign; j++)
            free(b->foreign[j]);
        free(b->foreign);
        free(b->idx);
        free(b->id);
        free(b->file_id);
        free(b->output_file_id);
        free(b->error_file_id);
        free(b->results_url);
    }
    free(r->b);
    r->b = NULL;
    r->n_b = 0;
}

enum fe_status fe_batch_run(const struct fe_config *c, const struct fe_runner_opts *o,
                            struct fe_runner_result *res, struct fe_err *err)
{
    memset(res, 0, sizeof(*res));
    struct fe_brun r = {.c = c, .o = o, .res = res, .err = err};
    r.bj.fd = -1;
    fe_strmap_init(&r.xcid);
    fe_runner_signals = 0;
    struct sigaction sa = {0}, old_int, old_term, old_hup;
    sa.sa_handler = fe_batch_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);

    r.arms = fe_xcalloc(c->n_arms ? c->n_arms : 1, sizeof(*r.arms));
    for (size_t a = 0; a < c->n_arms; a++) {
        r.arms[a].journal.fd = -1;
        fe_strmap_init(&r.arms[a].done);
        fe_strmap_init(&r.arms[a].seen_other);
        r.arms[a].on = fe_batch_arm_on(&c->arms[a], o);
    }
    enum fe_status st = fe_batch_load_examples(&r);
    r.sent = fe_bits_new(r.n_ex);
    r.answered = fe_bits_new(r.n_ex);
    for (size_t a = 0; a < c->n_arms && st == FE_OK; a++)
        st = r.arms[a].on ? fe_batch_setup_arm(&r, a) : fe_batch_fresh_arm(&r, a);
    res->seed_usd = r.seed;
    if (st == FE_OK)
        st = fe_batch_journal_open(&r);
    if (st == FE_OK)
        st = fe_batch_phase(&r);
    res->unsent = fe_batch_unsent(&r);
    bool fallback = o->batch_fallback_online && !res->budget_stopped && res->unsent > 0;
    if (res->unsent && !fallback && !res->interrupted && st == FE_OK)
        fe_warn("batch: %zu request(s) of batch arms have no result; resume to send them again%s", res->unsent,
                res->budget_stopped ? "" : " (or add --batch-fallback online)");
    fe_batch_close(&r);
    if (st == FE_OK)
        st = r.fatal;
    if (st == FE_OK)
        st = fe_batch_online(&r, fallback);
    free(r.arms);
    fe_batch_index_release(&r);
    free(r.sent);
    free(r.answered);
    if (r.spill)
        fclose(r.spill);
    if (r.download)
        fclose(r.download);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return st;
}
