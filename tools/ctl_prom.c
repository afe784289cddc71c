/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text format reader (the "text-based format" of the Prometheus
 * exposition formats documentation, version 0.0.4): lines of
 * `name{label="value",...} value [timestamp]`, label values with \\, \" and
 * \n escapes, values as Go floats (+Inf, -Inf, NaN).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl_prom.h"

static bool
ctl_prom_name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' ||
	       (!first && isdigit((unsigned char)c));
}

static void
ctl_prom_sample_free(struct ctl_prom_sample *s)
{
	free(s->name);
	for (size_t i = 0; i < s->n_labels; i++) {
		free(s->label_names[i]);
		free(s->label_values[i]);
	}
	memset(s, 0, sizeof(*s));
}

static int
ctl_prom_value(const char *p, const char *end, double *v)
{
	char num[64];
	size_t n = (size_t)(end - p);
	char *stop;

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, p, n);
	num[n] = '\0';
	if (strcmp(num, "+Inf") == 0 || strcmp(num, "Inf") == 0) {
		*v = INFINITY;
		return 0;
	}
	if (strcmp(num, "-Inf") == 0) {
		*v = -INFINITY;
		return 0;
	}
	if (strcmp(num, "NaN") == 0) {
		*v = NAN;
		return 0;
	}
	*v = strtod(num, &stop);
	return *stop == '\0' ? 0 : -EINVAL;
}

/* Parse one sample line [p, end) into s. */
static int
ctl_prom_line(const char *p, const char *end, struct ctl_prom_sample *s)
{
	const char *start = p;

	if (p == end || !ctl_prom_name_char(*p, true))
		return -EINVAL;
	while (p < end && ctl_prom_name_char(*p, false))
		p++;
	s->name = strndup(start, (size_t)(p - start));
	if (s->name == NULL)
		return -ENOMEM;
	if (p < end && *p == '{') {
		p++;
		for (;;) {
			char *val;
			size_t vn = 0;

			while (p < end && (*p == ' ' || *p == ','))
				p++;
			if (p < end && *p == '}') {
				p++;
				break;
			}
			start = p;
			if (p == end || !ctl_prom_name_char(*p, true))
				return -EINVAL;
			while (p < end && ctl_prom_name_char(*p, false))
				p++;
			if (p + 1 >= end || p[0] != '=' || p[1] != '"')
				return -EINVAL;
			if (s->n_labels == CTL_PROM_MAX_LABELS)
				return -EINVAL;
			s->label_names[s->n_labels] = strndup(start, (size_t)(p - start));
			val = malloc((size_t)(end - p));
			if (s->label_names[s->n_labels] == NULL || val == NULL) {
				free(val);
				s->n_labels++;
				return -ENOMEM;
			}
			s->label_values[s->n_labels++] = val;
			for (p += 2; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end) {
					p++;
					val[vn++] = *p == 'n' ? '\n' : *p;
				} else {
					val[vn++] = *p;
				}
			}
			if (p == end)
				return -EINVAL;
			val[vn] = '\0';
			p++; /* closing quote */
		}
	}
	if (p == end || (*p != ' ' && *p != '\t'))
		return -EINVAL;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	start = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	return ctl_prom_value(start, p, &s->value); /* a timestamp may follow */
}

int
ctl_prom_parse(const char *text, size_t len, struct ctl_prom *p, unsigned *line)
{
	const char *pos = text, *end = text + len;
	unsigned lineno = 0;

	memset(p, 0, sizeof(*p));
	while (pos < end) {
		const char *eol = memchr(pos, '\n', (size_t)(end - pos));
		const char *le = eol != NULL ? eol : end;
		struct ctl_prom_sample s = {0}, *grown;
		int rc;

		lineno++;
		if (le > pos && le[-1] == '\r')
			le--;
		while (pos < le && (*pos == ' ' || *pos == '\t'))
			pos++;
		if (pos == le || *pos == '#') {
			pos = eol != NULL ? eol + 1 : end;
			continue;
		}
		rc = ctl_prom_line(pos, le, &s);
		if (rc == 0) {
			grown = realloc(p->samples, (p->n + 1) * sizeof(*grown));
			if (grown == NULL)
				rc = -ENOMEM;
			else
				p->samples = grown;
		}
		if (rc < 0) {
			ctl_prom_sample_free(&s);
			ctl_prom_free(p);
			if (line != NULL)
				*line = lineno;
			return rc;
		}
		p->samples[p->n++] = s;
		pos = eol != NULL ? eol + 1 : end;
	}
	return 0;
}

const char *
ctl_prom_label(const struct ctl_prom_sample *s, const char *name)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (strcmp(s->label_names[i], name) == 0)
			return s->label_values[i];
	return NULL;
}

double
ctl_prom_sum(const struct ctl_prom *p, const char *name, size_t *found)
{
	double sum = 0;
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->samples[i].name, name) == 0) {
			sum += p->samples[i].value;
			n++;
		}
	}
	if (found != NULL)
		*found = n;
	return sum;
}

void
ctl_prom_free(struct ctl_prom *p)
{
	for (size_t i = 0; i < p->n; i++)
		ctl_prom_sample_free(&p->samples[i]);
	free(p->samples);
	p->samples = NULL;
	p->n = 0;
}
