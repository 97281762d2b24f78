/* util.h — allocation that cannot fail, checked number parsing, small file helpers.
 *
 * Allocation failure ends the program with a message (xmalloc style), so callers never
 * check for NULL. Every function that returns memory says who frees it.
 */
#ifndef FE_UTIL_H
#define FE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *fe_xmalloc(size_t n);
void *fe_xcalloc(size_t count, size_t size);
void *fe_xrealloc(void *p, size_t n);
/* Reallocates an array of count elements of size bytes, aborting on overflow. */
void *fe_xreallocarray(void *p, size_t count, size_t size);
char *fe_xstrdup(const char *s);              /* NULL in, NULL out */
char *fe_xstrndup(const char *s, size_t n);
/* Gives the allocator's freed memory back to the system (glibc: malloc_trim; elsewhere
 * nothing). Called between phases, so one phase's freed blocks do not stay resident under the
 * next one's. */
void fe_release_free_memory(void);
/* Returns a newly allocated formatted string; caller frees. */
char *fe_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict parsers: the whole string must be a number in range. Return false otherwise. */
bool fe_parse_long(const char *s, long *out);
bool fe_parse_double(const char *s, double *out);

/* Reads a whole file (up to max bytes; 0 = no limit). Returns newly allocated,
 * NUL-terminated bytes (caller frees) and the length in *len, or NULL with errno set. */
char *fe_read_file(const char *path, size_t max, size_t *len);

/* Joins a relative path onto the folder of base_file ("a/b.json" + "c.txt" -> "a/c.txt").
 * Absolute paths are returned as copies. Caller frees. */
char *fe_path_relative_to(const char *base_file, const char *path);

/* Creates dir and its parents (mode 0755). Returns 0 or -1 with errno. */
int fe_mkdir_p(const char *dir);

/* Monotonic time in seconds and the wall clock as RFC 3339 UTC (buf >= 32 bytes). */
double fe_now(void);
void fe_utc_now(char *buf, size_t size);

/* Lowercase hex SHA-256 (65 bytes incl. NUL) of memory or a file (0 ok, -1 I/O error). */
void fe_sha256_hex(const void *data, size_t len, char out[65]);
int fe_sha256_file(const char *path, char out[65]);
/* Standard base64 of the SHA-256 of memory (44 characters + NUL): the form a Content-Security-
 * Policy 'sha256-...' source takes. */
void fe_sha256_base64(const void *data, size_t len, char out[45]);

/* Returns the byte offset of the first invalid UTF-8 sequence in s[0..len), or len if valid. */
size_t fe_utf8_check(const char *s, size_t len);

/* The length of the longest prefix of s[0..len) of at most max bytes that does not end inside a
 * UTF-8 sequence (len itself when len <= max). For valid UTF-8 the prefix is valid UTF-8. */
size_t fe_utf8_prefix(const char *s, size_t len, size_t max);

/* Optimal-string-alignment distance between a and b (Levenshtein plus adjacent transpositions),
 * ignoring ASCII case; SIZE_MAX when either is longer than 64 bytes. The one measure behind every
 * "did you mean" (config keys, options, commands). */
size_t fe_edit_distance(const char *a, const char *b);

#define FE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* fsyncs the directory holding path (after a create or rename-into-place). 0 or -1 (errno). */
int fe_fsync_parent_dir(const char *path);

#endif
