/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Summing, printing and exporting the worker counters. The Prometheus
 * renderer follows the text exposition format 0.0.4: "# HELP" and "# TYPE"
 * once per metric family, then one "name{label="value"} number" line per
 * series, label values escaped (backslash, double quote, newline).
 *
 * The two IP families of a dual-stack Service port are two service objects
 * with one name; per-service series are summed over them, so no series
 * appears twice (backend series differ by the backend address anyway).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

void
stats_sum(struct el_worker *const *workers, unsigned n, struct el_worker_stats *out)
{
	struct el_worker_stats one;

	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < n; w++) {
		worker_stats_read(workers[w], &one);
		for (unsigned i = 0; i < EL_SNAP_MAX_IFACES; i++) {
			out->rx_pkts[i] += one.rx_pkts[i];
			out->tx_pkts[i] += one.tx_pkts[i];
			out->rx_bytes[i] += one.rx_bytes[i];
			out->tx_bytes[i] += one.tx_bytes[i];
		}
		for (unsigned d = 0; d < EL_DROP_MAX; d++)
			out->drops[d] += one.drops[d];
		out->flows_created += one.flows_created;
		out->flows_active += one.flows_active;
		out->flows_expired += one.flows_expired;
		out->arp_replies += one.arp_replies;
		out->arp_requests += one.arp_requests;
		out->icmp_echo_replies += one.icmp_echo_replies;
		out->icmp_errors_translated += one.icmp_errors_translated;
		out->rejects_sent += one.rejects_sent;
		out->handoffs += one.handoffs;
	}
}

void
stats_svc_sum(struct el_worker *const *workers, unsigned n, uint32_t svc_id, uint64_t *created,
	      uint64_t *active)
{
	uint64_t c, a;

	*created = 0;
	*active = 0;
	for (unsigned w = 0; w < n; w++) {
		c = a = 0;
		worker_svc_stats(workers[w], svc_id, &c, &a);
		*created += c;
		*active += a;
	}
}

static int
stats_svc_name_cmp(const void *a, const void *b)
{
	const struct el_snap_svc *x = *(const struct el_snap_svc *const *)a;
	const struct el_snap_svc *y = *(const struct el_snap_svc *const *)b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : (x->id > y->id) - (x->id < y->id);
}

/* The service objects of @p snap sorted by name (the families of a port
 * next to each other); NULL when there are none or memory ran out. */
static const struct el_snap_svc **
stats_svcs_by_name(const struct el_snapshot *snap)
{
	const struct el_snap_svc **v;

	if (snap == NULL || snap->n_svcs == 0)
		return NULL;
	v = malloc(snap->n_svcs * sizeof(*v));
	if (v == NULL)
		return NULL;
	memcpy(v, snap->svcs, snap->n_svcs * sizeof(*v));
	qsort(v, snap->n_svcs, sizeof(*v), stats_svc_name_cmp);
	return v;
}

/* Flows of the service objects v[*i..] that share v[*i]'s name, summed;
 * *i moves past them. */
static void
stats_svc_group(const struct stats_src *src, const struct el_snap_svc **v, uint32_t n, uint32_t *i,
		uint64_t *created, uint64_t *active)
{
	uint32_t j = *i;

	*created = *active = 0;
	do {
		uint64_t c, a;

		stats_svc_sum(src->workers, src->n_workers, v[j]->id, &c, &a);
		*created += c;
		*active += a;
		j++;
	} while (j < n && strcmp(v[j]->name, v[*i]->name) == 0);
	*i = j;
}

static unsigned
stats_n_ifaces(const struct stats_src *src)
{
	if (src->snap == NULL)
		return 0;
	return src->snap->n_ifaces < EL_SNAP_MAX_IFACES ? src->snap->n_ifaces : EL_SNAP_MAX_IFACES;
}

int
stats_print(FILE *f, const struct stats_src *src)
{
	struct el_worker_stats s;
	const struct el_snapshot *snap = src->snap;
	bool any = false;

	stats_sum(src->workers, src->n_workers, &s);

	fprintf(f, "edgelb counters after %.1f s (snapshot generation %" PRIu64 ", %u workers)\n",
		src->uptime_seconds, src->generation, src->n_workers);
	fprintf(f, "  %-12s %14s %16s %14s %16s\n", "interface", "rx_packets", "rx_bytes",
		"tx_packets", "tx_bytes");
	for (unsigned i = 0; i < stats_n_ifaces(src); i++)
		fprintf(f, "  %-12s %14" PRIu64 " %16" PRIu64 " %14" PRIu64 " %16" PRIu64 "\n",
			snap->ifaces[i].name, s.rx_pkts[i], s.rx_bytes[i], s.tx_pkts[i],
			s.tx_bytes[i]);
	fprintf(f, "  flows: created %" PRIu64 "  active %" PRIu64 "  expired %" PRIu64 "\n",
		s.flows_created, s.flows_active, s.flows_expired);
	fprintf(f,
		"  arp: replies %" PRIu64 "  requests %" PRIu64 "    icmp: echo_replies %" PRIu64
		"  errors_translated %" PRIu64 "\n",
		s.arp_replies, s.arp_requests, s.icmp_echo_replies, s.icmp_errors_translated);
	fprintf(f, "  rejects_sent %" PRIu64 "  handoffs %" PRIu64 "\n", s.rejects_sent,
		s.handoffs);

	fprintf(f, "  drops:");
	for (unsigned d = 0; d < EL_DROP_MAX; d++) {
		if (s.drops[d] == 0)
			continue;
		fprintf(f, "\n    %-24s %12" PRIu64, worker_drop_name((enum el_drop)d), s.drops[d]);
		any = true;
	}
	fprintf(f, "%s\n", any ? "" : " none");

	if (snap != NULL && snap->n_svcs > 0) {
		const struct el_snap_svc **v = stats_svcs_by_name(snap);

		fprintf(f, "  %-40s %14s %14s\n", "service port", "flows_created", "flows_active");
		for (uint32_t i = 0; v != NULL && i < snap->n_svcs;) {
			const char *name = v[i]->name;
			uint64_t c, a;

			stats_svc_group(src, v, snap->n_svcs, &i, &c, &a);
			fprintf(f, "  %-40s %14" PRIu64 " %14" PRIu64 "\n", name, c, a);
		}
		free(v);
	}
	fflush(f);
	return ferror(f) ? -EIO : 0;
}

/* ---- Prometheus text ---- */

struct stats_buf {
	char *buf;
	size_t len;
	size_t off;
	bool full;
};

static void __attribute__((format(printf, 2, 3)))
stats_put(struct stats_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->off, b->len - b->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->len - b->off) {
		b->full = true;
		b->off = b->len - 1;
		return;
	}
	b->off += (size_t)n;
}

/* A label value with \, " and newline escaped. */
static void
stats_put_label(struct stats_buf *b, const char *v)
{
	char tmp[2 * 128 + 1];
	size_t o = 0;

	for (; *v != '\0' && o + 2 < sizeof(tmp); v++) {
		if (*v == '\\' || *v == '"') {
			tmp[o++] = '\\';
			tmp[o++] = *v;
		} else if (*v == '\n') {
			tmp[o++] = '\\';
			tmp[o++] = 'n';
		} else {
			tmp[o++] = *v;
		}
	}
	tmp[o] = '\0';
	stats_put(b, "%s", tmp);
}

static void
stats_put_family(struct stats_buf *b, const char *name, const char *type, const char *help)
{
	stats_put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Active flows of one backend of one service port. */
struct stats_be {
	uint32_t svc_id;
	struct el_ip ip;
	uint16_t port;
	uint64_t n;
};

static int
stats_be_cmp(const void *a, const void *b)
{
	const struct stats_be *x = a, *y = b;
	int c;

	if (x->svc_id != y->svc_id)
		return x->svc_id < y->svc_id ? -1 : 1;
	c = el_ip_cmp(&x->ip, &y->ip);
	return c != 0 ? c : (x->port > y->port) - (x->port < y->port);
}

static int
stats_svc_id_cmp(const void *a, const void *b)
{
	const struct el_snap_svc *x = *(const struct el_snap_svc *const *)a;
	const struct el_snap_svc *y = *(const struct el_snap_svc *const *)b;

	return (x->id > y->id) - (x->id < y->id);
}

/*
 * edgelb_backend_flows_active{service,backend}: the workers' flow tables
 * walked with worker_conns() and counted per (service port, backend).
 * Backends without flows, and flows of service ports no longer in the
 * snapshot, are left out. A worker holding more than STATS_BE_SCAN_MAX
 * flows is counted up to that many (the family's HELP says so).
 */
static void
stats_backend_flows(struct stats_buf *b, const struct stats_src *src)
{
	const struct el_snapshot *snap = src->snap;
	const struct el_snap_svc **by_id = NULL;
	struct el_conn_info *conns = NULL;
	struct stats_be *be = NULL;
	size_t n_be = 0, cap_be = 0;
	bool cut = false;

	stats_put_family(b, "edgelb_backend_flows_active", "gauge",
			 "Tracked connections per service port and backend.");
	if (snap == NULL || snap->n_svcs == 0 || src->n_workers == 0)
		return;
	by_id = malloc(snap->n_svcs * sizeof(*by_id));
	if (by_id == NULL)
		return;
	memcpy(by_id, snap->svcs, snap->n_svcs * sizeof(*by_id));
	qsort(by_id, snap->n_svcs, sizeof(*by_id), stats_svc_id_cmp);

	for (unsigned w = 0; w < src->n_workers; w++) {
		struct el_worker_stats ws;
		unsigned want, got;

		worker_stats_read(src->workers[w], &ws);
		if (ws.flows_active == 0)
			continue;
		/* a few more than counted: flows come and go while we walk */
		want = ws.flows_active + 64 > STATS_BE_SCAN_MAX ? STATS_BE_SCAN_MAX
								: (unsigned)ws.flows_active + 64;
		cut |= ws.flows_active > STATS_BE_SCAN_MAX;
		free(conns);
		conns = malloc(want * sizeof(*conns));
		if (conns == NULL)
			break;
		got = worker_conns(src->workers[w], conns, want, 0);
		for (unsigned i = 0; i < got; i++) {
			if (n_be == cap_be) {
				size_t nc = cap_be ? cap_be * 2 : 256;
				struct stats_be *nb = realloc(be, nc * sizeof(*nb));
				if (nb == NULL)
					goto out;
				be = nb;
				cap_be = nc;
			}
			be[n_be++] = (struct stats_be){.svc_id = conns[i].svc_id,
						       .ip = conns[i].backend,
						       .port = conns[i].bport,
						       .n = 1};
		}
	}
	if (n_be > 1)
		qsort(be, n_be, sizeof(*be), stats_be_cmp);
	for (size_t i = 0; i < n_be;) {
		struct el_snap_svc key = {.id = be[i].svc_id};
		const struct el_snap_svc *kp = &key, *const * svc;
		char ip[EL_IP_STRLEN], addr[EL_IP_STRLEN + 10];
		size_t j = i + 1;
		uint64_t n = be[i].n;

		while (j < n_be && stats_be_cmp(&be[i], &be[j]) == 0)
			n += be[j++].n;
		svc = bsearch(&kp, by_id, snap->n_svcs, sizeof(*by_id), stats_svc_id_cmp);
		if (svc != NULL) {
			el_ip_fmt(&be[i].ip, ip, sizeof(ip));
			snprintf(addr, sizeof(addr),
				 be[i].ip.family == EL_AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
				 be[i].port);
			stats_put(b, "edgelb_backend_flows_active{service=\"");
			stats_put_label(b, (*svc)->name);
			stats_put(b, "\",backend=\"%s\"} %" PRIu64 "\n", addr, n);
		}
		i = j;
	}
	if (cut)
		stats_put(b,
			  "# edgelb_backend_flows_active counts the first %u flows of each "
			  "worker\n",
			  STATS_BE_SCAN_MAX);
out:
	free(by_id);
	free(conns);
	free(be);
}

int
stats_render_prometheus(char *buf, size_t len, const struct stats_src *src)
{
	struct stats_buf b = {.buf = buf, .len = len};
	const struct el_snapshot *snap = src->snap;
	struct el_worker_stats s;

	if (buf == NULL || len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	stats_sum(src->workers, src->n_workers, &s);

	stats_put_family(&b, "edgelb_packets_total", "counter",
			 "Packets received (rx) and sent (tx) per interface.");
	for (unsigned i = 0; i < stats_n_ifaces(src); i++) {
		static const char *const dir[2] = {"rx", "tx"};
		for (unsigned d = 0; d < 2; d++) {
			stats_put(&b, "edgelb_packets_total{port=\"");
			stats_put_label(&b, snap->ifaces[i].name);
			stats_put(&b, "\",direction=\"%s\"} %" PRIu64 "\n", dir[d],
				  d == 0 ? s.rx_pkts[i] : s.tx_pkts[i]);
		}
	}

	stats_put_family(&b, "edgelb_drops_total", "counter", "Packets dropped, by reason.");
	for (unsigned d = 0; d < EL_DROP_MAX; d++)
		stats_put(&b, "edgelb_drops_total{reason=\"%s\"} %" PRIu64 "\n",
			  worker_drop_name((enum el_drop)d), s.drops[d]);

	stats_put_family(&b, "edgelb_flows_active", "gauge", "Tracked connections.");
	stats_put(&b, "edgelb_flows_active %" PRIu64 "\n", s.flows_active);

	stats_put_family(&b, "edgelb_flows_created_total", "counter",
			 "Connections created, per service port (both IP families).");
	{
		const struct el_snap_svc **v = stats_svcs_by_name(snap);

		for (uint32_t i = 0; v != NULL && i < snap->n_svcs;) {
			const char *name = v[i]->name;
			uint64_t c, a;

			stats_svc_group(src, v, snap->n_svcs, &i, &c, &a);
			stats_put(&b, "edgelb_flows_created_total{service=\"");
			stats_put_label(&b, name);
			stats_put(&b, "\"} %" PRIu64 "\n", c);
		}
		if (v == NULL && snap != NULL && snap->n_svcs > 0)
			stats_put(&b, "# edgelb_flows_created_total: out of memory\n");
		free(v);
	}

	stats_backend_flows(&b, src);

	stats_put_family(&b, "edgelb_snapshot_generation", "gauge",
			 "Generation of the snapshot the workers use.");
	stats_put(&b, "edgelb_snapshot_generation %" PRIu64 "\n", src->generation);

	stats_put_family(&b, "edgelb_snapshot_publish_seconds", "gauge",
			 "Duration of the last snapshot publish, grace period included.");
	stats_put(&b, "edgelb_snapshot_publish_seconds %.9f\n", src->publish_seconds);

	if (b.full)
		return -ENOSPC;
	return (int)b.off;
}
