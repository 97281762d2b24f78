/* buf.c — see buf.h. */
#include "harness/base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/base/util.h"

void fe_buf_init(struct fe_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap;
}

static int fe_buf_grow(struct fe_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return -1;
    size_t need = b->len + extra + 1;
    if (b->cap && need - 1 > b->cap)
        return -1;
    if (need <= b->alloc)
        return 0;
    size_t alloc = b->alloc ? b->alloc : 64;
    while (alloc < need)
        alloc = alloc > SIZE_MAX / 2 ? need : alloc * 2;
    b->data = fe_xrealloc(b->data, alloc);
    b->alloc = alloc;
    return 0;
}

int fe_buf_add(struct fe_buf *b, const void *data, size_t len)
{
    if (fe_buf_grow(b, len) != 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int fe_buf_adds(struct fe_buf *b, const char *s)
{
    return fe_buf_add(b, s, strlen(s));
}

int fe_buf_addch(struct fe_buf *b, char c)
{
    return fe_buf_add(b, &c, 1);
}

int fe_buf_vaddf(struct fe_buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0 || fe_buf_grow(b, (size_t)n) != 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int fe_buf_addf(struct fe_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fe_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int fe_buf_add_html(struct fe_buf *b, const char *s)
{
    for (; s && *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep ? fe_buf_adds(b, rep) : fe_buf_addch(b, *s))
            return -1;
    }
    return 0;
}

const char *fe_buf_str(const struct fe_buf *b)
{
    return b->data ? b->data : "";
}

void fe_buf_reset(struct fe_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *fe_buf_detach(struct fe_buf *b, size_t *len)
{
    char *p = b->data ? b->data : fe_xstrdup("");
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}

void fe_buf_release(struct fe_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}
