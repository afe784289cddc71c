/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SNAT source-port choice: RSS steering through the linearity of the
 * Toeplitz hash (Microsoft RSS specification; DPDK rte_thash.h), or a
 * per-worker port partition. See snat_port.h for the reasoning.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_thash.h>

#include "snat_port.h"

uint32_t
snat_port_rss_hash(const struct snat_port_rss *r, uint32_t src, uint32_t dst, uint16_t sport,
		   uint16_t dport)
{
	struct rte_ipv4_tuple t;

	t.src_addr = rte_be_to_cpu_32(src);
	t.dst_addr = rte_be_to_cpu_32(dst);
	t.sport = sport;
	t.dport = dport;
	return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, (const uint8_t *)r->key);
}

int
snat_port_rss_init(struct snat_port_rss *r, const uint8_t *key, unsigned key_len,
		   const uint16_t *reta, unsigned reta_size, uint16_t queue)
{
	/* rte_softrss() reads one key word past the tuple: 16 bytes for IPv4 */
	if (key == NULL || reta == NULL || key_len < 16 || key_len > SNAT_PORT_KEY_MAX ||
	    reta_size == 0 || reta_size > SNAT_PORT_RETA_MAX || (reta_size & (reta_size - 1)))
		return -EINVAL;

	memset(r, 0, sizeof(*r));
	memcpy(r->key, key, key_len);
	memcpy(r->reta, reta, reta_size * sizeof(reta[0]));
	r->reta_mask = reta_size - 1;
	r->queue = queue;

	for (unsigned k = 0; k < 12; k++) {
		for (unsigned v = 0; v < 256; v++) {
			uint8_t b[12] = {0};
			uint32_t src, dst;
			b[k] = (uint8_t)v;
			memcpy(&src, b, 4);
			memcpy(&dst, b + 4, 4);
			r->t[k][v] = snat_port_rss_hash(r, src, dst, (uint16_t)(b[8] << 8 | b[9]),
							(uint16_t)(b[10] << 8 | b[11]));
		}
	}
	return 0;
}

int
snat_port_part_init(struct snat_port_part *p, unsigned n, uint16_t min, uint16_t max)
{
	if (n == 0 || n > SNAT_PORT_MAX_PARTS || min > max)
		return -EINVAL;
	uint32_t range = (uint32_t)max - min + 1;
	if (range < n)
		return -EINVAL;

	uint32_t size = range / n, extra = range % n, lo = min;
	p->n = n;
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = size + (i < extra ? 1 : 0);
		p->lo[i] = (uint16_t)lo;
		p->hi[i] = (uint16_t)(lo + len - 1);
		lo += len;
	}
	return 0;
}

int
snat_port_pick(struct snat_port_cursor *c, const struct snat_port_rss *rss, uint32_t base,
	       snat_port_in_use_fn in_use, void *ctx, uint32_t known_free, uint16_t *port)
{
	uint32_t lo = c->lo, hi = c->hi, p = c->next;
	uint32_t count = hi - lo + 1;

	if (p < lo || p > hi)
		p = lo;
	for (uint32_t i = 0; i < count; i++) {
		if ((rss == NULL || snat_port_rss_queue(rss, base, (uint16_t)p) == rss->queue) &&
		    (p == known_free || !in_use(ctx, (uint16_t)p))) {
			*port = (uint16_t)p;
			c->next = (uint16_t)(p == hi ? lo : p + 1);
			return 0;
		}
		p = p == hi ? lo : p + 1;
	}
	return -ENOSPC;
}

int
snat_port_peek(struct snat_port_cursor *c, const struct snat_port_rss *rss, uint32_t base,
	       uint16_t *port)
{
	uint32_t lo = c->lo, hi = c->hi, p = c->next;
	uint32_t count = hi - lo + 1;

	if (p < lo || p > hi)
		p = lo;
	for (uint32_t i = 0; i < count; i++) {
		if (rss == NULL || snat_port_rss_queue(rss, base, (uint16_t)p) == rss->queue) {
			*port = (uint16_t)p;
			c->next = (uint16_t)(p == hi ? lo : p + 1);
			return 0;
		}
		p = p == hi ? lo : p + 1;
	}
	return -ENOSPC;
}
