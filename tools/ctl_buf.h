/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Growable text buffer of edgelbctl: JSON/YAML emitters, HTTP requests and
 * table cells append to it. The text is always NUL-terminated.
 *
 * Thread safety: a buffer belongs to one thread; no shared state.
 */
#ifndef EDGELB_CTL_BUF_H
#define EDGELB_CTL_BUF_H

#include <stddef.h>

/** A growable byte string; zero-initialise before first use. */
struct ctl_buf {
	char *p;    /**< NUL-terminated text, or NULL while empty */
	size_t len; /**< bytes used, NUL excluded */
	size_t cap; /**< bytes allocated */
};

/**
 * Append @p n bytes.
 * @return 0, or -ENOMEM (the buffer keeps its previous text)
 */
int ctl_buf_add(struct ctl_buf *b, const void *data, size_t n);

/** Append a NUL-terminated string. @return 0, or -ENOMEM */
int ctl_buf_adds(struct ctl_buf *b, const char *s);

/** Append printf-formatted text. @return 0, -ENOMEM or -EINVAL (bad format) */
int ctl_buf_addf(struct ctl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** The text so far; "" (a static empty string) when nothing was added. */
const char *ctl_buf_str(const struct ctl_buf *b);

/**
 * Hand the text over to the caller (free() it) and reset the buffer.
 * @return the text ("" allocated when empty), or NULL on allocation failure
 */
char *ctl_buf_take(struct ctl_buf *b);

/** Release the memory and reset the buffer to empty. */
void ctl_buf_free(struct ctl_buf *b);

#endif
