/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tables and derived cells of edgelbctl. The cell formats follow what
 * kubectl prints for Services, Endpoints and EndpointSlices, so that people
 * (and their scripts) read edgelb's tables the way they read kubectl's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_buf.h"
#include "ctl_table.h"

void
ctl_table_init(struct ctl_table *t, size_t cols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
}

int
ctl_table_take(struct ctl_table *t, char *cell)
{
	if (cell == NULL)
		return -ENOMEM;
	if (t->n == t->cap) {
		size_t cap = t->cap != 0 ? t->cap * 2 : 32;
		char **cells = realloc(t->cells, cap * sizeof(*cells));

		if (cells == NULL) {
			free(cell);
			return -ENOMEM;
		}
		t->cells = cells;
		t->cap = cap;
	}
	t->cells[t->n++] = cell;
	return 0;
}

int
ctl_table_add(struct ctl_table *t, const char *cell)
{
	return ctl_table_take(t, strdup(cell != NULL ? cell : "<none>"));
}

static size_t
ctl_table_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

int
ctl_table_print(const struct ctl_table *t, FILE *f, const char *indent)
{
	size_t widths[t->cols > 0 ? t->cols : 1];

	if (t->cols == 0)
		return 0;
	memset(widths, 0, sizeof(widths));
	for (size_t i = 0; i < t->n; i++) {
		size_t w = ctl_table_width(t->cells[i]);

		if (w > widths[i % t->cols])
			widths[i % t->cols] = w;
	}
	for (size_t i = 0; i < t->n; i++) {
		size_t col = i % t->cols;
		bool last = col == t->cols - 1 || i == t->n - 1;

		if (col == 0)
			fputs(indent, f);
		fputs(t->cells[i], f);
		if (last) {
			fputc('\n', f);
			continue;
		}
		for (size_t w = ctl_table_width(t->cells[i]); w < widths[col] + 3; w++)
			fputc(' ', f);
	}
	return ferror(f) ? -EIO : 0;
}

void
ctl_table_free(struct ctl_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* A list cell: items separated by ",", at most CTL_TABLE_MAX_LISTED shown. */
struct ctl_table_list {
	struct ctl_buf b;
	size_t count;
	bool oom;
};

static void
ctl_table_list_add(struct ctl_table_list *l, const char *item, size_t max)
{
	if (l->count++ >= max)
		return;
	if ((l->b.len > 0 && ctl_buf_adds(&l->b, ",") < 0) || ctl_buf_adds(&l->b, item) < 0)
		l->oom = true;
}

static char *
ctl_table_list_done(struct ctl_table_list *l, size_t max, const char *empty)
{
	if (!l->oom && l->count > max && ctl_buf_addf(&l->b, " + %zu more...", l->count - max) < 0)
		l->oom = true;
	if (l->oom) {
		ctl_buf_free(&l->b);
		return NULL;
	}
	if (l->count == 0) {
		ctl_buf_free(&l->b);
		return strdup(empty);
	}
	return ctl_buf_take(&l->b);
}

char *
ctl_table_svc_ports(const struct ctl_node *svc)
{
	const struct ctl_node *ports = ctl_doc_seq(svc, "spec", "ports", NULL);
	struct ctl_table_list l = {0};

	for (size_t i = 0; ports != NULL && i < ports->n; i++) {
		const struct ctl_node *p = ports->items[i];
		const char *port = ctl_doc_str(p, "port", NULL);
		const char *node_port = ctl_doc_str(p, "nodePort", NULL);
		const char *proto = ctl_doc_str(p, "protocol", NULL);
		char item[160];

		if (proto == NULL)
			proto = "TCP";
		if (port == NULL)
			port = "?";
		if (node_port != NULL && strcmp(node_port, "0") != 0)
			snprintf(item, sizeof(item), "%.20s:%.20s/%.20s", port, node_port, proto);
		else
			snprintf(item, sizeof(item), "%.20s/%.20s", port, proto);
		ctl_table_list_add(&l, item, SIZE_MAX);
	}
	return ctl_table_list_done(&l, SIZE_MAX, "<none>");
}

/* Append the scalars of a sequence of strings to a list. */
static void
ctl_table_list_strs(struct ctl_table_list *l, const struct ctl_node *seq)
{
	for (size_t i = 0; seq != NULL && i < seq->n; i++) {
		const char *s = ctl_doc_str(seq->items[i], NULL);

		if (s != NULL && *s != '\0')
			ctl_table_list_add(l, s, SIZE_MAX);
	}
}

char *
ctl_table_svc_external_ip(const struct ctl_node *svc)
{
	const char *type = ctl_doc_str(svc, "spec", "type", NULL);
	const struct ctl_node *ext = ctl_doc_seq(svc, "spec", "externalIPs", NULL);
	struct ctl_table_list l = {0};

	if (type == NULL)
		type = "ClusterIP";
	if (strcmp(type, "ClusterIP") == 0 || strcmp(type, "NodePort") == 0) {
		ctl_table_list_strs(&l, ext);
		return ctl_table_list_done(&l, SIZE_MAX, "<none>");
	}
	if (strcmp(type, "LoadBalancer") == 0) {
		const struct ctl_node *ing =
		    ctl_doc_seq(svc, "status", "loadBalancer", "ingress", NULL);

		for (size_t i = 0; ing != NULL && i < ing->n; i++) {
			const char *ip = ctl_doc_str(ing->items[i], "ip", NULL);

			if (ip == NULL || *ip == '\0')
				ip = ctl_doc_str(ing->items[i], "hostname", NULL);
			if (ip != NULL && *ip != '\0')
				ctl_table_list_add(&l, ip, SIZE_MAX);
		}
		ctl_table_list_strs(&l, ext);
		return ctl_table_list_done(&l, SIZE_MAX, "<pending>");
	}
	if (strcmp(type, "ExternalName") == 0) {
		const char *name = ctl_doc_str(svc, "spec", "externalName", NULL);

		return strdup(name != NULL ? name : "<none>");
	}
	return strdup("<unknown>");
}

char *
ctl_table_svc_cluster_ips(const struct ctl_node *svc)
{
	const struct ctl_node *ips = ctl_doc_seq(svc, "spec", "clusterIPs", NULL);
	const char *cip = ctl_doc_str(svc, "spec", "clusterIP", NULL);
	struct ctl_table_list l = {0};

	ctl_table_list_strs(&l, ips);
	if (l.count == 0 && cip != NULL && *cip != '\0')
		ctl_table_list_add(&l, cip, SIZE_MAX);
	return ctl_table_list_done(&l, SIZE_MAX, "<none>");
}

char *
ctl_table_svc_selector(const struct ctl_node *svc)
{
	const struct ctl_node *sel = ctl_doc_at(svc, "spec", "selector", NULL);
	struct ctl_table_list l = {0};

	for (size_t i = 0; sel != NULL && sel->type == CTL_NODE_MAP && i < sel->n; i++) {
		const char *v = ctl_doc_str(sel->items[i], NULL);
		char *item;

		if (asprintf(&item, "%s=%s", sel->keys[i]->text, v != NULL ? v : "") < 0) {
			l.oom = true;
			break;
		}
		ctl_table_list_add(&l, item, SIZE_MAX);
		free(item);
	}
	return ctl_table_list_done(&l, SIZE_MAX, "<none>");
}

static void
ctl_table_hostport(char *buf, size_t len, const char *ip, const char *port)
{
	if (strchr(ip, ':') != NULL)
		snprintf(buf, len, "[%s]:%s", ip, port);
	else
		snprintf(buf, len, "%s:%s", ip, port);
}

char *
ctl_table_endpoints(const struct ctl_node *ep)
{
	const struct ctl_node *subsets = ctl_doc_seq(ep, "subsets", NULL);
	struct ctl_table_list l = {0};

	for (size_t s = 0; subsets != NULL && s < subsets->n; s++) {
		const struct ctl_node *addrs = ctl_doc_seq(subsets->items[s], "addresses", NULL);
		const struct ctl_node *ports = ctl_doc_seq(subsets->items[s], "ports", NULL);
		size_t n_ports = ports != NULL && ports->n > 0 ? ports->n : 1;

		for (size_t p = 0; p < n_ports; p++) {
			const char *port = ports != NULL && ports->n > 0
					       ? ctl_doc_str(ports->items[p], "port", NULL)
					       : NULL;

			for (size_t a = 0; addrs != NULL && a < addrs->n; a++) {
				const char *ip = ctl_doc_str(addrs->items[a], "ip", NULL);
				char item[128];

				if (ip == NULL)
					continue;
				if (port != NULL)
					ctl_table_hostport(item, sizeof(item), ip, port);
				else
					snprintf(item, sizeof(item), "%s", ip);
				ctl_table_list_add(&l, item, CTL_TABLE_MAX_LISTED);
			}
		}
	}
	return ctl_table_list_done(&l, CTL_TABLE_MAX_LISTED, "<none>");
}

char *
ctl_table_slice_ports(const struct ctl_node *slice)
{
	const struct ctl_node *ports = ctl_doc_seq(slice, "ports", NULL);
	struct ctl_table_list l = {0};

	for (size_t i = 0; ports != NULL && i < ports->n; i++) {
		const char *port = ctl_doc_str(ports->items[i], "port", NULL);

		if (port == NULL)
			port = ctl_doc_str(ports->items[i], "name", NULL);
		ctl_table_list_add(&l, port != NULL ? port : "*", CTL_TABLE_MAX_LISTED);
	}
	return ctl_table_list_done(&l, CTL_TABLE_MAX_LISTED, "<unset>");
}

char *
ctl_table_slice_endpoints(const struct ctl_node *slice)
{
	const struct ctl_node *eps = ctl_doc_seq(slice, "endpoints", NULL);
	struct ctl_table_list l = {0};

	for (size_t i = 0; eps != NULL && i < eps->n; i++) {
		const struct ctl_node *addrs = ctl_doc_seq(eps->items[i], "addresses", NULL);

		for (size_t a = 0; addrs != NULL && a < addrs->n; a++) {
			const char *ip = ctl_doc_str(addrs->items[a], NULL);

			if (ip != NULL)
				ctl_table_list_add(&l, ip, CTL_TABLE_MAX_LISTED);
		}
	}
	return ctl_table_list_done(&l, CTL_TABLE_MAX_LISTED, "<unset>");
}

char *
ctl_table_slices_ready(const struct ctl_node *slices)
{
	struct ctl_table_list l = {0};

	for (size_t s = 0; slices != NULL && s < slices->n; s++) {
		const struct ctl_node *ports = ctl_doc_seq(slices->items[s], "ports", NULL);
		const struct ctl_node *eps = ctl_doc_seq(slices->items[s], "endpoints", NULL);

		for (size_t p = 0; ports != NULL && p < ports->n; p++) {
			const char *port = ctl_doc_str(ports->items[p], "port", NULL);

			for (size_t e = 0; port != NULL && eps != NULL && e < eps->n; e++) {
				const struct ctl_node *addrs =
				    ctl_doc_seq(eps->items[e], "addresses", NULL);

				if (ctl_doc_is(
					ctl_doc_at(eps->items[e], "conditions", "ready", NULL),
					"false"))
					continue;
				for (size_t a = 0; addrs != NULL && a < addrs->n; a++) {
					const char *ip = ctl_doc_str(addrs->items[a], NULL);
					char item[128];

					if (ip == NULL)
						continue;
					ctl_table_hostport(item, sizeof(item), ip, port);
					ctl_table_list_add(&l, item, CTL_TABLE_MAX_LISTED);
				}
			}
		}
	}
	return ctl_table_list_done(&l, CTL_TABLE_MAX_LISTED, "<none>");
}

void
ctl_table_duration(long long secs, char *buf, size_t len)
{
	const long long min = 60, hour = 60 * min, day = 24 * hour, year = 365 * day;

	if (secs < -1) {
		snprintf(buf, len, "<invalid>");
	} else if (secs < 0) {
		snprintf(buf, len, "0s");
	} else if (secs < 2 * min) {
		snprintf(buf, len, "%llds", secs);
	} else if (secs < 10 * min) {
		if (secs % min == 0)
			snprintf(buf, len, "%lldm", secs / min);
		else
			snprintf(buf, len, "%lldm%llds", secs / min, secs % min);
	} else if (secs < 3 * hour) {
		snprintf(buf, len, "%lldm", secs / min);
	} else if (secs < 8 * hour) {
		if (secs % hour / min == 0)
			snprintf(buf, len, "%lldh", secs / hour);
		else
			snprintf(buf, len, "%lldh%lldm", secs / hour, secs % hour / min);
	} else if (secs < 48 * hour) {
		snprintf(buf, len, "%lldh", secs / hour);
	} else if (secs < 8 * day) {
		if (secs % day / hour == 0)
			snprintf(buf, len, "%lldd", secs / day);
		else
			snprintf(buf, len, "%lldd%lldh", secs / day, secs % day / hour);
	} else if (secs < 2 * year) {
		snprintf(buf, len, "%lldd", secs / day);
	} else if (secs < 8 * year) {
		if (secs % year / day == 0)
			snprintf(buf, len, "%lldy", secs / year);
		else
			snprintf(buf, len, "%lldy%lldd", secs / year, secs % year / day);
	} else {
		snprintf(buf, len, "%lldy", secs / year);
	}
}

static int
ctl_table_num(const char **p, int digits, int *out)
{
	int v = 0;

	for (int i = 0; i < digits; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -EINVAL;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

int
ctl_table_parse_time(const char *s, time_t *t)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p = s;
	struct tm tm = {0};

	if (ctl_table_num(&p, 4, &y) < 0 || *p++ != '-' || ctl_table_num(&p, 2, &mo) < 0 ||
	    *p++ != '-' || ctl_table_num(&p, 2, &d) < 0 || (*p != 'T' && *p != 't' && *p != ' '))
		return -EINVAL;
	p++;
	if (ctl_table_num(&p, 2, &h) < 0 || *p++ != ':' || ctl_table_num(&p, 2, &mi) < 0 ||
	    *p++ != ':' || ctl_table_num(&p, 2, &sec) < 0)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (ctl_table_num(&p, 2, &oh) < 0 || *p++ != ':' || ctl_table_num(&p, 2, &om) < 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*t = timegm(&tm) - sign * (oh * 3600 + om * 60);
	return 0;
}

void
ctl_table_age(const struct ctl_node *obj, time_t now, char *buf, size_t len)
{
	const char *ts = ctl_doc_str(obj, "metadata", "creationTimestamp", NULL);
	time_t t;

	if (ts == NULL || ctl_table_parse_time(ts, &t) < 0) {
		snprintf(buf, len, "<unknown>");
		return;
	}
	ctl_table_duration((long long)(now - t), buf, len);
}
