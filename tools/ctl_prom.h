/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Reader of the Prometheus text exposition format (version 0.0.4), enough
 * for edgelbctl stats and describe to read edgelb's /metrics.
 *
 * Thread safety: no global state; a sample set belongs to one thread.
 */
#ifndef EDGELB_CTL_PROM_H
#define EDGELB_CTL_PROM_H

#include <stddef.h>

/** Most labels kept per sample. */
#define CTL_PROM_MAX_LABELS 8

/** One sample line: name{labels} value. */
struct ctl_prom_sample {
	char *name;
	size_t n_labels;
	char *label_names[CTL_PROM_MAX_LABELS];
	char *label_values[CTL_PROM_MAX_LABELS]; /**< unescaped */
	double value;				 /**< NaN and +-Inf allowed */
};

/** Every sample of a scrape, in text order. */
struct ctl_prom {
	struct ctl_prom_sample *samples;
	size_t n;
};

/**
 * Parse a scrape. Comment (# HELP, # TYPE) and blank lines are skipped;
 * timestamps are ignored.
 * @param line  receives the 1-based number of the first bad line on -EINVAL
 *              (may be NULL)
 * @return 0, -EINVAL (a malformed sample line; nothing kept), -ENOMEM
 */
int ctl_prom_parse(const char *text, size_t len, struct ctl_prom *p, unsigned *line);

/** Value of label @p name of a sample, or NULL. */
const char *ctl_prom_label(const struct ctl_prom_sample *s, const char *name);

/**
 * Sum of every sample named @p name.
 * @param found  receives the number of such samples (may be NULL)
 */
double ctl_prom_sum(const struct ctl_prom *p, const char *name, size_t *found);

/** Free every sample. */
void ctl_prom_free(struct ctl_prom *p);

#endif
