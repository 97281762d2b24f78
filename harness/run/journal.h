/* journal.h — crash-safe append-only result files (<arm>.jsonl) and resume.
 *
 * Each record is written with one write(2) of "JSON\n" to a file opened O_APPEND. A failed or
 * short write is cut back to the last complete line (ftruncate to the size before the append),
 * so a transient ENOSPC never leaves later records behind a torn line. Creating a journal fsyncs
 * its directory. Data is fdatasync'ed at most once a second (fe_journal_sync) and at close; both
 * report failure (FE_EIO) instead of dropping it.
 *
 * Resume (fe_journal_open with resume): every line that is not a result record — a torn last line
 * left by a crash or anything malformed anywhere — is moved to <arm>.quarantine.jsonl as
 * {"line": N, "text": "...", "quarantined_at": "..."} with a warning; the journal is rewritten
 * without it (temporary file, fsync, rename, fsync of the directory) and that example counts as
 * not done, so it is re-sent. The spend of every surviving record (spend_usd, or cost_usd for
 * records written before spend_usd existed) is summed so the budget covers the whole run.
 */
#ifndef FE_JOURNAL_H
#define FE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "harness/base/err.h"
#include "harness/base/strmap.h"

struct fe_journal {
    int fd;
    char *path;
    double last_sync;
    bool dirty;
    off_t size;                 /* bytes of complete lines */
    /* filled by a resumed open */
    struct fe_strmap seen;      /* every id with a record, whatever its status (the online
                                 * runner adds none: it counts the new ones in n_new) */
    size_t n_new;               /* ids recorded this session that seen does not hold */
    double recovered_spend_usd; /* sum over the records' attempts (spend_usd / cost_usd) */
    bool recovered_spend_estimated; /* some of it is a worst-case estimate */
    size_t n_quarantined;
};

/* Opens (creating) path for appending. With resume, malformed lines are quarantined (above) and
 * the ids of completed examples are added to done (value 1): records with status "ok" and errors
 * that a retry cannot change (bad_request, not_found, missing_record). done may be NULL.
 * Returns FE_OK or FE_EIO. */
enum fe_status fe_journal_open(struct fe_journal *j, const char *path, bool resume,
                               struct fe_strmap *done, size_t *n_done, struct fe_err *err);
/* Opens (creating) an event log for appending (the batch journal, docs/batch.md): nothing is
 * truncated or parsed; a torn last line is cut off. The caller reads the events itself. */
enum fe_status fe_journal_open_events(struct fe_journal *j, const char *path, struct fe_err *err);
/* Appends line (without newline) plus "\n" in one write. FE_EIO on failure, with the file cut
 * back to its last complete line. */
enum fe_status fe_journal_append(struct fe_journal *j, const char *line, size_t len,
                                 struct fe_err *err);
/* fdatasync when dirty and at least a second passed since the last one (force: always).
 * FE_EIO (err set, may be NULL) when fdatasync fails. */
enum fe_status fe_journal_sync(struct fe_journal *j, double now, bool force, struct fe_err *err);
/* Syncs and closes; FE_EIO when the final fdatasync or close fails. */
enum fe_status fe_journal_close(struct fe_journal *j, struct fe_err *err);

#endif
