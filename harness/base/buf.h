/* buf.h — growable byte buffer (git's strbuf, curl's dynbuf).
 *
 * Invariants: data is always NUL-terminated (data[len] == 0) once anything was added, binary
 * safe (may contain NULs), and never grows beyond cap bytes (0 = no cap) so that a peer cannot
 * make us buffer without bound. A zeroed struct is a valid empty buffer; fe_buf_init sets a cap.
 */
#ifndef FE_BUF_H
#define FE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct fe_buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap; /* 0: unlimited */
};

void fe_buf_init(struct fe_buf *b, size_t cap);
/* Each add returns 0, or -1 (buffer unchanged) when the cap would be exceeded. */
int fe_buf_add(struct fe_buf *b, const void *data, size_t len);
int fe_buf_adds(struct fe_buf *b, const char *s);
int fe_buf_addch(struct fe_buf *b, char c);
int fe_buf_addf(struct fe_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int fe_buf_vaddf(struct fe_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s escaped for HTML text and attributes (& < > " '). */
int fe_buf_add_html(struct fe_buf *b, const char *s);
/* Returns data ("" when empty), borrowed until the next change. */
const char *fe_buf_str(const struct fe_buf *b);
void fe_buf_reset(struct fe_buf *b);            /* len = 0, keeps memory */
/* Hands the bytes over (caller frees; never NULL) and leaves the buffer empty. */
char *fe_buf_detach(struct fe_buf *b, size_t *len);
void fe_buf_release(struct fe_buf *b);          /* frees memory; buffer is empty again */

#endif
