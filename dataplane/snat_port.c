/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SNAT source-port choice: RSS steering through the linearity of the
 * Toeplitz hash (Microsoft RSS specification; DPDK rte_thash.h) for IPv4
 * and IPv6 tuples, or a per-worker port partition. See snat_port.h for the
 * reasoning.
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

uint32_t
snat_port_rss_hash6(const struct snat_port_rss *r, const uint8_t src[16], const uint8_t dst[16],
		    uint16_t sport, uint16_t dport)
{
	/* rte_softrss() input for NONFRAG_IPV6_TCP/UDP: the addresses as
	 * host-order 32-bit words (rte_thash_load_v6_addrs() does the same),
	 * then sport in the high and dport in the low half of one word */
	uint32_t w[RTE_THASH_V6_L4_LEN];

	for (unsigned i = 0; i < 4; i++) {
		uint32_t a, b;
		memcpy(&a, src + 4 * i, 4);
		memcpy(&b, dst + 4 * i, 4);
		w[i] = rte_be_to_cpu_32(a);
		w[4 + i] = rte_be_to_cpu_32(b);
	}
	w[8] = (uint32_t)sport << 16 | dport;
	return rte_softrss(w, RTE_THASH_V6_L4_LEN, (const uint8_t *)r->key);
}

uint32_t
snat_port_rss_base6(const struct snat_port_rss *r, const uint8_t src[16], const uint8_t dst[16],
		    uint16_t sport)
{
	uint32_t h = 0;

	for (unsigned i = 0; i < 16; i++) {
		h ^= r->t6n[2 * i][src[i] >> 4] ^ r->t6n[2 * i + 1][src[i] & 0xf];
		h ^= r->t6n[32 + 2 * i][dst[i] >> 4] ^ r->t6n[33 + 2 * i][dst[i] & 0xf];
	}
	h ^= r->t6n[64][sport >> 12] ^ r->t6n[65][(sport >> 8) & 0xf] ^
	     r->t6n[66][(sport >> 4) & 0xf] ^ r->t6n[67][sport & 0xf];
	return h | SNAT_PORT_BASE_V6;
}

/* Hash of the all-zero IPv6 tuple with byte @p k (0..35) set to @p v. */
static uint32_t
hash6_byte(const struct snat_port_rss *r, unsigned k, uint8_t v)
{
	uint8_t b[36] = {0};
	b[k] = v;
	return snat_port_rss_hash6(r, b, b + 16, (uint16_t)(b[32] << 8 | b[33]),
				   (uint16_t)(b[34] << 8 | b[35]));
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
	for (unsigned v = 0; v < 256; v++) {
		r->t6d[0][v] = hash6_byte(r, 34, (uint8_t)v);
		r->t6d[1][v] = hash6_byte(r, 35, (uint8_t)v);
	}
	for (unsigned k = 0; k < 68; k++)
		for (unsigned v = 0; v < 16; v++)
			r->t6n[k][v] = hash6_byte(r, k / 2, (uint8_t)(k & 1 ? v : v << 4));
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

	if (known_free >= lo && known_free <= hi) {
		*port = (uint16_t)known_free;
		c->next = (uint16_t)(known_free == hi ? lo : known_free + 1);
		return 0;
	}
	if (p < lo || p > hi)
		p = lo;
	for (uint32_t i = 0; i < count; i++) {
		if ((rss == NULL || snat_port_rss_queue(rss, base, (uint16_t)p) == rss->queue) &&
		    !in_use(ctx, (uint16_t)p)) {
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
