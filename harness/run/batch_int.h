/* batch_int.h — the batch runner's private interface (docs/batch.md), shared by its files:
 *   batch.c          the driver: which examples go in which batch, the budget, the batch journal
 *                    (ids written before anything else happens with them), polling, records,
 *                    resume and resubmission; fe_batch_run (runner.h) is its entry point
 *   batch_state.c    status lines, journal events, building a request, writing a record
 *   batch_index.c    the examples by index: ids, custom_ids, bitmaps (every set and list of the
 *                    batch phase holds uint32 example indexes, never strings: issue 14)
 *   batch_api.c      the two batch APIs' shapes over the one blocking client (net/http_client.h):
 *                    OpenAI (files + /batches) and Anthropic (/messages/batches)
 * batch.c calls batch_state.c, batch_api.c and batch_index.c, batch_state.c calls batch_index.c,
 * never the other way.
 */
#ifndef FE_BATCH_INT_H
#define FE_BATCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "harness/base/bits.h"
#include "harness/base/err.h"
#include "harness/base/idtable.h"
#include "harness/base/strmap.h"
#include "harness/net/http_client.h"
#include "harness/run/journal.h"

enum fe_batch_kind { FE_BATCH_OPENAI, FE_BATCH_ANTHROPIC };

/* One submitted batch. Strings owned. */
struct fe_batch {
    size_t arm;
    char *id;
    char *file_id;            /* openai: the uploaded input file */
    uint32_t *idx;            /* the requests it carries: example indexes (< fe_brun.n_ex), or
                               * n_ex + k for foreign[k] */
    size_t n;
    char **foreign;           /* journaled custom_ids that are no example of this session */
    size_t n_foreign;
    char status[32];          /* the API's own status word */
    bool ended;               /* a terminal status was seen */
    bool finished;            /* its results are recorded (journal "end") */
    char *output_file_id, *error_file_id; /* openai */
    char *results_url;        /* anthropic */
    double reserved_usd;      /* worst case at submission, released when it ends */
    long total, done, failed; /* request_counts */
    double next_poll, interval;
};

/* What one result line says about one request. */
enum fe_batch_outcome_kind {
    FE_BO_OK,      /* body: the answer, as the online endpoint returns it */
    FE_BO_ERROR,   /* http_status + body (an API error body) or message with kind */
    FE_BO_AGAIN,   /* expired / cancelled: no result, the request goes in a later batch */
};

struct fe_batch_outcome {
    const char *cid;
    enum fe_batch_outcome_kind what;
    const char *body;         /* OK: answer body; ERROR: error body or NULL */
    size_t len;
    long http_status;         /* ERROR: 0 when the line carries no status */
    const char *message;      /* ERROR without body */
    const char *kind;         /* ERROR without body: FE_ERRK_* */
    const char *request_id;   /* NULL when absent */
};

typedef void (*fe_batch_outcome_fn)(void *ctx, const struct fe_batch_outcome *out);

/* One request line: OpenAI {"custom_id","method","url","body"} (the JSONL line), Anthropic
 * {"custom_id","params"} (a requests[] item). body_json is the online request's body. NULL
 * when body_json is not JSON. */
cJSON *fe_batch_line(enum fe_batch_kind k, const char *cid, const char *body_json, size_t len);

/* Submits: OpenAI uploads jsonl_path (purpose batch) and calls on_file(ctx, file_id) before it
 * creates the batch, which it can skip when file_id is given (resume: the file is journaled);
 * Anthropic posts items (a JSON array text). Fills *batch_id (caller frees). */
enum fe_status fe_batch_api_submit(struct fe_http *h, enum fe_batch_kind k, const char *jsonl_path,
                                   const char *items, const char *file_id,
                                   void (*on_file)(void *ctx, const char *file_id), void *ctx,
                                   char **batch_id, struct fe_err *err);
/* OpenAI: the batch created from file_id, if any (a create whose answer was lost). */
enum fe_status fe_batch_api_find(struct fe_http *h, const char *file_id, char **batch_id, struct fe_err *err);
/* One poll: updates status, ended, counts and result locations. */
enum fe_status fe_batch_api_poll(struct fe_http *h, enum fe_batch_kind k, struct fe_batch *b, struct fe_err *err);
/* Downloads the results of an ended batch into file (a scratch file, emptied and rewritten for
 * each results file: nothing of a download is held in memory) and calls fn for each line as it
 * reads it back (any order, duplicates included: the caller joins by custom_id). *n_bad counts
 * lines that are not results. */
enum fe_status fe_batch_api_results(struct fe_http *h, enum fe_batch_kind k, const struct fe_batch *b, FILE *file,
                                    fe_batch_outcome_fn fn, void *ctx, size_t *n_bad, struct fe_err *err);
/* Terminal statuses that mean "some requests got no result": expired, cancelled, failed. */
bool fe_batch_status_failed(enum fe_batch_kind k, const char *status);

/* ---- the runner's state (batch.c, batch_state.c) ---- */

struct fe_config;
struct fe_runner_opts;
struct fe_runner_result;
struct fe_example;
struct fe_completion;
struct fe_provider_error;
struct fe_http_request;

struct fe_barm {
    bool on;                    /* this arm goes through the batch API */
    enum fe_batch_kind kind;
    struct fe_journal journal;
    struct fe_strmap done;      /* records that count as results (journal.h); emptied into
                                 * done_bits once read */
    uint8_t *done_bits;         /* per example: done */
    uint8_t *seen;              /* per example: has a record (journal.seen, then this session's) */
    size_t n_seen;              /* journal.seen.count at open + the examples recorded since */
    struct fe_strmap seen_other; /* ids of journal.seen that are no example of this session */
    struct fe_http *h;
};

struct fe_brun {
    const struct fe_config *c;
    const struct fe_runner_opts *o;
    struct fe_runner_result *res;
    struct fe_err *err;
    /* The examples are not held: each parsed row goes to the spill file (unlinked at once, so a
     * crash leaves nothing) while the dataset is read; fe_batch_example reads one back. */
    FILE *spill;
    FILE *download;             /* batch results are downloaded here (unlinked, as spill) */
    long long *off;             /* per example: its row's offset in spill */
    size_t *line;               /* per example: its dataset line (ids "line-N", messages) */
    size_t n_ex, cap;
    struct fe_idtab ids;        /* the examples' ids, numbered by example index */
    uint8_t *hashed;            /* per example: its custom_id is not its id (fe_batch_cid_of) */
    struct fe_strmap xcid;      /* custom_id -> example, for the hashed ones only */
    struct fe_barm *arms;
    struct fe_batch *b;
    size_t n_b;
    struct fe_journal bj;
    double reserved;
    double seed;                /* batch arms' spend in earlier sessions */
    uint8_t *sent, *answered;   /* the batch being read, per example: sent in it (and without a
                                 * record before), a result line read */
    size_t cur, n_again, n_dup, n_unknown, n_recorded;
    enum fe_status fatal;
};

/* batch_index.c */
#define FE_BATCH_CID_MAX 72     /* a custom_id: a plain id (<= 64) or "h-" + 32 hex digits */
const char *fe_batch_id(const struct fe_brun *r, size_t i);
/* The custom_id of example i: its id, or "h-..." written into buf. */
const char *fe_batch_cid_of(const struct fe_brun *r, size_t i, char buf[FE_BATCH_CID_MAX]);
bool fe_batch_find_id(const struct fe_brun *r, const char *id, size_t *i);
bool fe_batch_find_cid(const struct fe_brun *r, const char *cid, size_t *i);
/* Adds example n_ex with id (copied; off and line are the caller's to fill) and writes its
 * custom_id into cid; false (nothing added) when another example has that custom_id. */
bool fe_batch_index_add(struct fe_brun *r, const char *id, char cid[FE_BATCH_CID_MAX]);
void fe_batch_index_release(struct fe_brun *r);
/* The resumed journal's done and seen maps of arm ba as bits over the examples (maps emptied). */
void fe_batch_seen_bits(struct fe_brun *r, struct fe_barm *ba);
/* Fills b's requests from a journaled custom_ids array. */
void fe_batch_set_indexes(struct fe_brun *r, struct fe_batch *b, const cJSON *ids);

/* batch_state.c */
void fe_batch_say(const struct fe_brun *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends event ev (taken) to the batch journal with its time and fsyncs it. */
enum fe_status fe_batch_journal(struct fe_brun *r, cJSON *ev);
/* Appends event ev (taken) with b's "custom_ids" and its time, as fe_batch_journal does. */
enum fe_status fe_batch_journal_ids(struct fe_brun *r, cJSON *ev, const struct fe_batch *b);
/* Appends one printed event line (without newline) and fsyncs it. */
enum fe_status fe_batch_journal_line(struct fe_brun *r, const char *line, size_t len);
cJSON *fe_batch_event(const char *event, const char *arm);
struct fe_batch *fe_batch_add(struct fe_brun *r, size_t arm);
/* Example i, read back from the spill file (release with fe_example_release). */
enum fe_status fe_batch_example(struct fe_brun *r, size_t i, struct fe_example *ex, struct fe_err *err);
/* Builds the online request of ex for arm a (the provider's own code). */
enum fe_status fe_batch_build(struct fe_brun *r, size_t a, const struct fe_example *ex, struct fe_http_request *out,
                              long *prompt_est, struct fe_err *err);
/* Writes the record of ex (example i) for arm a: an answer (comp) or an error (perr). */
void fe_batch_record(struct fe_brun *r, size_t a, size_t i, const struct fe_example *ex, const struct fe_completion *comp,
                     const struct fe_provider_error *perr, const char *batch_id, const char *request_id,
                     size_t repaired);

#endif
