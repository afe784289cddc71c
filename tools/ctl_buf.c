/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Growable NUL-terminated byte string used throughout edgelbctl. The capacity
 * doubles, so appending n bytes one at a time costs O(n) overall.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_buf.h"

static int
ctl_buf_reserve(struct ctl_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap != 0 ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int
ctl_buf_add(struct ctl_buf *b, const void *data, size_t n)
{
	int rc = ctl_buf_reserve(b, n);

	if (rc < 0)
		return rc;
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
ctl_buf_adds(struct ctl_buf *b, const char *s)
{
	return ctl_buf_add(b, s, strlen(s));
}

int
ctl_buf_addf(struct ctl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	rc = ctl_buf_reserve(b, (size_t)n);
	if (rc < 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *
ctl_buf_str(const struct ctl_buf *b)
{
	return b->p != NULL ? b->p : "";
}

char *
ctl_buf_take(struct ctl_buf *b)
{
	char *p = b->p;

	if (p == NULL)
		p = strdup("");
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void
ctl_buf_free(struct ctl_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}
