/* journal.h — crash-safe append-only result files (<arm>.jsonl) and resume.
 *
 * Each record is written with one write(2) of "JSON\n" to a file opened O_APPEND, so a crash
 * leaves at most one torn last line; fe_journal_open with resume cuts such a line off before
 * appending. Data is fdatasync'ed at most once a second (fe_journal_sync) and at close, bounding
 * what a power loss can take to the last second of results — which --resume then re-sends.
 */
#ifndef FE_JOURNAL_H
#define FE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/base/err.h"
#include "harness/base/strmap.h"

struct fe_journal {
    int fd;
    char *path;
    double last_sync;
    bool dirty;
};

/* Opens (creating) path for appending. With resume, a torn last line is removed and the ids of
 * completed examples are added to done (value 1): records with status "ok" and errors that a
 * retry cannot change (bad_request, not_found, missing_record). Returns FE_OK or FE_EIO. */
enum fe_status fe_journal_open(struct fe_journal *j, const char *path, bool resume,
                               struct fe_strmap *done, size_t *n_done, struct fe_err *err);
/* Appends line (without newline) plus "\n" in one write. FE_EIO on failure. */
enum fe_status fe_journal_append(struct fe_journal *j, const char *line, size_t len,
                                 struct fe_err *err);
/* fdatasync when dirty and at least a second passed since the last one (force: always). */
void fe_journal_sync(struct fe_journal *j, double now, bool force);
void fe_journal_close(struct fe_journal *j);

/* True for error kinds a retry cannot change (the example is complete as an error). */
bool fe_error_kind_is_final(const char *kind);

#endif
