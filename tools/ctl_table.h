/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kubectl-like tables of edgelbctl: aligned columns (each padded to its
 * widest cell plus three spaces), and the cells kubectl derives from
 * Services, Endpoints and EndpointSlices (PORT(S), EXTERNAL-IP, ENDPOINTS,
 * AGE).
 *
 * Thread safety: no global state; a table belongs to one thread.
 */
#ifndef EDGELB_CTL_TABLE_H
#define EDGELB_CTL_TABLE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "ctl_doc.h"

/** Rows of cells, filled row by row. */
struct ctl_table {
	size_t cols;  /**< cells per row */
	char **cells; /**< row-major */
	size_t n;     /**< cells added */
	size_t cap;
};

/** Most items a cell lists before "+ N more...". */
#define CTL_TABLE_MAX_LISTED 3

/** Start an empty table of @p cols columns. */
void ctl_table_init(struct ctl_table *t, size_t cols);

/**
 * Append one cell (the next column of the current row).
 * @param cell  text; NULL prints as "<none>"
 * @return 0, or -ENOMEM
 */
int ctl_table_add(struct ctl_table *t, const char *cell);

/** Append a cell and take ownership of the malloc'd @p cell (NULL: -ENOMEM). */
int ctl_table_take(struct ctl_table *t, char *cell);

/**
 * Print the rows; the last column is not padded, trailing spaces never
 * written. Widths count UTF-8 characters.
 * @param indent  written before every row ("" for none)
 * @return 0, or -EIO
 */
int ctl_table_print(const struct ctl_table *t, FILE *f, const char *indent);

/** Free every cell. */
void ctl_table_free(struct ctl_table *t);

/**
 * PORT(S) of a Service: "80/TCP" per port, "80:30080/TCP" with a nodePort,
 * joined by ","; "<none>" without ports.
 * @return a malloc'd string, or NULL (out of memory)
 */
char *ctl_table_svc_ports(const struct ctl_node *svc);

/**
 * EXTERNAL-IP of a Service, as kubectl shows it: ClusterIP and NodePort:
 * spec.externalIPs or "<none>"; LoadBalancer: status.loadBalancer.ingress
 * (ip, else hostname) then externalIPs, or "<pending>" when both are empty;
 * ExternalName: spec.externalName; other types: "<unknown>".
 * @return a malloc'd string, or NULL (out of memory)
 */
char *ctl_table_svc_external_ip(const struct ctl_node *svc);

/**
 * CLUSTER-IP of a Service: every address of spec.clusterIPs joined by ","
 * (a dual-stack Service shows both families, primary first), else
 * spec.clusterIP; "None" for a headless one, "<none>" when neither is set.
 * @return a malloc'd string, or NULL (out of memory)
 */
char *ctl_table_svc_cluster_ips(const struct ctl_node *svc);

/** SELECTOR of a Service: "k=v,k2=v2" or "<none>". Malloc'd; NULL: no memory. */
char *ctl_table_svc_selector(const struct ctl_node *svc);

/**
 * ENDPOINTS of a core/v1 Endpoints object: "IP:PORT" for every ready
 * address and port of every subset ("[IPv6]:PORT"; the bare IP for a subset
 * without ports), the first three then " + N more..."; "<none>" when empty.
 * @return a malloc'd string, or NULL (out of memory)
 */
char *ctl_table_endpoints(const struct ctl_node *ep);

/** PORTS of an EndpointSlice: port numbers (the name, or "*" when unset),
 *  three then " + N more...", "<unset>" when empty. Malloc'd or NULL. */
char *ctl_table_slice_ports(const struct ctl_node *slice);

/** ENDPOINTS of an EndpointSlice: every address of every endpoint, three
 *  then " + N more...", "<unset>" when empty. Malloc'd or NULL. */
char *ctl_table_slice_endpoints(const struct ctl_node *slice);

/**
 * Endpoints of a service from its EndpointSlices, as describe shows them:
 * "IP:PORT" for every ready endpoint (conditions.ready unset counts as ready)
 * and every port of its slice, three then " + N more...", "<none>" when
 * empty.
 * @param slices  a sequence of EndpointSlice objects (NULL: none)
 * @return a malloc'd string, or NULL (out of memory)
 */
char *ctl_table_slices_ready(const struct ctl_node *slices);

/**
 * A duration as kubectl prints ages: "45s", "5m3s", "95m", "4h5m", "30h",
 * "3d4h", "300d", "3y20d", "9y".
 * @param secs  seconds; negative prints "0s" (or "<invalid>" below -1)
 */
void ctl_table_duration(long long secs, char *buf, size_t len);

/**
 * Parse an RFC 3339 UTC timestamp ("2024-05-01T10:00:00Z", fraction and
 * numeric offset accepted).
 * @return 0, or -EINVAL
 */
int ctl_table_parse_time(const char *s, time_t *t);

/** AGE of an object from metadata.creationTimestamp at @p now; "<unknown>"
 *  when absent or malformed. */
void ctl_table_age(const struct ctl_node *obj, time_t now, char *buf, size_t len);

#endif
