/* fs.h — replacing a file atomically: the ONE writer of every file fteval replaces whole
 * (summary.json, manifest.json, compare.json, reports, JUnit XML, cache entries, `data to-chat`
 * and `data split` outputs, `data check --json`).
 *
 * A reader of path sees either the old content or the new one, never half a file, and after a
 * crash either of them survives, never an empty file. The steps, every result checked:
 *   1. create a temporary file in the folder of path ("<path>.tmp.<pid>.<n>", O_EXCL, mode 0666
 *      before the umask, like fopen(path, "w"));
 *   2. write; fflush; fsync(file) — the data is on disk before the name points at it;
 *   3. fclose; rename(temporary, path) — atomic within one file system;
 *   4. fsync(folder) — the new name itself is on disk.
 * On any failure the temporary file is removed, path keeps its old content (or stays absent),
 * and FE_EIO is returned with err naming path and the reason. A failure of step 4 comes after
 * the rename: path already holds the new content, but FE_EIO still says it may not survive a
 * crash.
 *
 * The streaming form (fe_atomic_open / fe_atomic_commit / fe_atomic_abort) is for writers that
 * produce the content piece by piece; fe_write_file_atomic writes one buffer. A page that must
 * pass the secret redactor (log.h) is streamed through fe_atomic_put_redacted, a bounded buffer
 * at a time, with the same bytes as redacting the whole page once.
 */
#ifndef FE_FS_H
#define FE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "harness/base/buf.h"
#include "harness/base/err.h"

struct fe_atomic_file {
    FILE *f;   /* write the new content here (fwrite, fputs, fprintf) */
    char *path; /* the target */
    char *tmp;  /* the temporary file in the same folder */
};

/* Creates the temporary file for path. FE_OK, or FE_EIO with err naming path (a is then zeroed
 * and needs no abort). */
enum fe_status fe_atomic_open(struct fe_atomic_file *a, const char *path, struct fe_err *err);
/* Flushes, syncs, closes and renames the temporary file onto the target, then syncs the folder.
 * Releases a in every case (no abort needed afterwards). FE_OK or FE_EIO with err naming path;
 * also FE_EIO when ferror(a->f) says an earlier write failed. */
enum fe_status fe_atomic_commit(struct fe_atomic_file *a, struct fe_err *err);
/* Closes and removes the temporary file; the target is untouched. A zeroed a is a no-op. */
void fe_atomic_abort(struct fe_atomic_file *a);

/* Redacts (fe_redact_buf) and writes to a->f the bytes of b up to the last place a secret
 * cannot cross (fe_redact_cut), and keeps the rest in b, at its start, for the next call; with
 * all, every byte of b. The file gets exactly the redaction of everything put, whatever the
 * pieces. FE_OK, or FE_EIO with err naming a->path (b is then emptied; abort a). */
enum fe_status fe_atomic_put_redacted(struct fe_atomic_file *a, struct fe_buf *b, bool all,
                                      struct fe_err *err);

/* Replaces path with data[0..len) through the steps above. FE_OK or FE_EIO (err names path). */
enum fe_status fe_write_file_atomic(const char *path, const void *data, size_t len,
                                    struct fe_err *err);

#endif
