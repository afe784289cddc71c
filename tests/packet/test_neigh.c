/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour cache and ARP (dataplane/neigh.c) against a hand-built snapshot:
 * answering ARP for owned addresses, learning, resolving next hops with
 * bounded queues and retries (RFC 826; timers as documented in neigh.h).
 *
 * Needs EAL for the mbuf pool (--no-huge, no ports).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "../../dataplane/neigh.h"

static struct rte_mempool *pool;

/* ---- a small snapshot: ext (0) 198.18.0.1/24 + 198.18.1.1/24, int (1) 198.18.2.1/24 ---- */

static const uint8_t mac_ext[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_int[6] = {0x02, 0, 0, 0, 0x02, 0x01};
static const uint8_t mac_gw[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t mac_pod[6] = {0x02, 0, 0, 0, 0x02, 0x0e};
static const uint8_t mac_pod2[6] = {0x02, 0, 0, 0, 0x02, 0x2e};

static struct el_snapshot snap;
static struct el_snap_owned owned[16];
static struct el_snap_neigh statics[1];

static uint32_t
ip4(const char *s)
{
	uint32_t a;
	inet_pton(AF_INET, s, &a);
	return a;
}

static void
own_add(const char *s, uint8_t kind)
{
	struct el_ip ip = el_ip4(ip4(s));
	uint32_t i = snapshot_addr_hash(&ip) & 15;
	while (owned[i].kind != 0)
		i = (i + 1) & 15;
	owned[i].ip = ip;
	owned[i].kind = kind;
}

static void
snap_build(void)
{
	memset(&snap, 0, sizeof(snap));
	memset(owned, 0, sizeof(owned));
	own_add("198.18.0.1", EL_OWN_IFACE);
	own_add("198.18.1.1", EL_OWN_IFACE);
	own_add("198.18.2.1", EL_OWN_IFACE);
	own_add("198.18.0.100", EL_OWN_VIP);
	snap.own = owned;
	snap.own_mask = 15;
	snap.n_ifaces = 2;
	strcpy(snap.ifaces[0].name, "ext");
	memcpy(snap.ifaces[0].mac, mac_ext, 6);
	el_cidr_parse("198.18.0.1/24", &snap.ifaces[0].addrs[0]);
	el_cidr_parse("198.18.1.1/24", &snap.ifaces[0].addrs[1]);
	snap.ifaces[0].n_addrs = 2;
	strcpy(snap.ifaces[1].name, "int");
	memcpy(snap.ifaces[1].mac, mac_int, 6);
	el_cidr_parse("198.18.2.1/24", &snap.ifaces[1].addrs[0]);
	snap.ifaces[1].n_addrs = 1;
	statics[0].ip = el_ip4(ip4("198.18.0.254"));
	memcpy(statics[0].mac, mac_gw, 6);
	statics[0].iface = 0;
	snap.neighs = statics;
	snap.n_neighs = 1;
}

/* ---- capture of what the module sends and drops ---- */

#define CAP_MAX 2048

struct capture {
	unsigned n_sent;
	uint8_t sent_iface[CAP_MAX];
	struct rte_mbuf *sent[CAP_MAX];
	unsigned drops[EL_DROP_MAX];
	unsigned n_dropped;
	struct el_worker_stats stats;
};

static struct capture cap;

static void
cap_send(void *ctx, uint8_t iface, struct rte_mbuf *m)
{
	struct capture *c = ctx;
	assert_true(c->n_sent < CAP_MAX);
	c->sent_iface[c->n_sent] = iface;
	c->sent[c->n_sent++] = m;
}

static void
cap_drop(void *ctx, struct rte_mbuf *m, enum el_drop reason)
{
	struct capture *c = ctx;
	c->drops[reason]++;
	c->n_dropped++;
	rte_pktmbuf_free(m);
}

static struct neigh_tx tx = {.send = cap_send, .drop = cap_drop, .ctx = &cap};

static void
cap_reset(void)
{
	for (unsigned i = 0; i < cap.n_sent; i++)
		rte_pktmbuf_free(cap.sent[i]);
	memset(&cap, 0, sizeof(cap));
}

static int
setup(void **state)
{
	snap_build();
	cap_reset();
	tx.pool = pool;
	tx.stats = &cap.stats;
	*state = neigh_create(256, SOCKET_ID_ANY);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	neigh_destroy(*state);
	cap_reset();
	return 0;
}

/* ---- frames ---- */

static struct rte_mbuf *
frame(const void *bytes, unsigned len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	void *p = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, bytes, len);
	return m;
}

/* An ARP frame; @p pad bytes of trailing zeros after the 28-byte payload. */
static struct rte_mbuf *
arp_frame(uint16_t op, const uint8_t sha[6], const char *sip, const uint8_t tha[6], const char *tip,
	  unsigned pad)
{
	uint8_t b[128] = {0};
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	if (op == RTE_ARP_OP_REQUEST)
		memset(eth->dst_addr.addr_bytes, 0xff, 6);
	else
		memcpy(eth->dst_addr.addr_bytes, tha, 6);
	memcpy(eth->src_addr.addr_bytes, sha, 6);
	eth->ether_type = htons(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = htons(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = htons(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = htons(op);
	memcpy(arp->arp_data.arp_sha.addr_bytes, sha, 6);
	arp->arp_data.arp_sip = ip4(sip);
	memcpy(arp->arp_data.arp_tha.addr_bytes, tha, 6);
	arp->arp_data.arp_tip = ip4(tip);
	return frame(b, 42 + pad);
}

/* A 14+20 byte frame standing for an IPv4 packet to be sent; the Ethernet
 * header is garbage the module must overwrite; byte 14 tags the packet. */
static struct rte_mbuf *
ip_packet(uint8_t tag)
{
	uint8_t b[34];
	memset(b, 0xaa, sizeof(b));
	b[14] = tag;
	return frame(b, sizeof(b));
}

static const uint8_t zero_mac[6];

static struct el_ip
nh(const char *s)
{
	return el_ip4(ip4(s));
}

static void
assert_eth(const struct rte_mbuf *m, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	assert_memory_equal(eth->dst_addr.addr_bytes, dst, 6);
	assert_memory_equal(eth->src_addr.addr_bytes, src, 6);
	assert_int_equal(ntohs(eth->ether_type), type);
}

static const struct rte_arp_hdr *
arp_of(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
}

static void
assert_request_for(unsigned i, uint8_t iface, const char *sender, const char *target)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t *mac = snap.ifaces[iface].mac;
	assert_true(i < cap.n_sent);
	assert_int_equal(cap.sent_iface[i], iface);
	assert_int_equal(rte_pktmbuf_pkt_len(cap.sent[i]), 42);
	assert_eth(cap.sent[i], bcast, mac, RTE_ETHER_TYPE_ARP);
	const struct rte_arp_hdr *a = arp_of(cap.sent[i]);
	assert_int_equal(ntohs(a->arp_hardware), RTE_ARP_HRD_ETHER);
	assert_int_equal(ntohs(a->arp_protocol), RTE_ETHER_TYPE_IPV4);
	assert_int_equal(a->arp_hlen, 6);
	assert_int_equal(a->arp_plen, 4);
	assert_int_equal(ntohs(a->arp_opcode), RTE_ARP_OP_REQUEST);
	assert_memory_equal(a->arp_data.arp_sha.addr_bytes, mac, 6);
	assert_int_equal(a->arp_data.arp_sip, ip4(sender));
	assert_memory_equal(a->arp_data.arp_tha.addr_bytes, zero_mac, 6);
	assert_int_equal(a->arp_data.arp_tip, ip4(target));
}

static unsigned
count_requests(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < cap.n_sent; i++) {
		const struct rte_ether_hdr *eth =
		    rte_pktmbuf_mtod(cap.sent[i], const struct rte_ether_hdr *);
		if (eth->ether_type == htons(RTE_ETHER_TYPE_ARP))
			n++;
	}
	return n;
}

static void
input(struct neigh_table *t, uint8_t iface, struct rte_mbuf *m, uint64_t now, int *learned)
{
	neigh_arp_input(t, &snap, iface, m, now, &tx, NULL, NULL, learned);
}

/* ---- ARP input ---- */

static void
test_request_for_interface_address_is_answered_in_place(void **state)
{
	struct rte_mbuf *m =
	    arp_frame(RTE_ARP_OP_REQUEST, mac_gw, "198.18.0.254", zero_mac, "198.18.0.1", 18);
	input(*state, 0, m, 1000, NULL);
	assert_int_equal(cap.n_sent, 1);
	assert_ptr_equal(cap.sent[0], m);
	assert_int_equal(cap.sent_iface[0], 0);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 42);
	assert_eth(m, mac_gw, mac_ext, RTE_ETHER_TYPE_ARP);
	const struct rte_arp_hdr *a = arp_of(m);
	assert_int_equal(ntohs(a->arp_opcode), RTE_ARP_OP_REPLY);
	assert_memory_equal(a->arp_data.arp_sha.addr_bytes, mac_ext, 6);
	assert_int_equal(a->arp_data.arp_sip, ip4("198.18.0.1"));
	assert_memory_equal(a->arp_data.arp_tha.addr_bytes, mac_gw, 6);
	assert_int_equal(a->arp_data.arp_tip, ip4("198.18.0.254"));
	assert_int_equal(cap.stats.arp_replies, 1);
	assert_int_equal(cap.n_dropped, 0);
}

static void
test_request_for_vip_is_answered(void **state)
{
	struct rte_mbuf *m =
	    arp_frame(RTE_ARP_OP_REQUEST, mac_gw, "198.18.0.254", zero_mac, "198.18.0.100", 0);
	input(*state, 0, m, 1000, NULL);
	assert_int_equal(cap.n_sent, 1);
	assert_int_equal(arp_of(m)->arp_data.arp_sip, ip4("198.18.0.100"));
	assert_int_equal(cap.stats.arp_replies, 1);
}

static void
test_request_for_other_address_is_dropped_as_not_ours(void **state)
{
	input(*state, 0,
	      arp_frame(RTE_ARP_OP_REQUEST, mac_gw, "198.18.0.254", zero_mac, "198.18.0.7", 0),
	      1000, NULL);
	assert_int_equal(cap.n_sent, 0);
	assert_int_equal(cap.drops[EL_DROP_NOT_OURS], 1);
	assert_int_equal(cap.stats.arp_replies, 0);
}

static void
test_request_not_for_us_teaches_nothing(void **state)
{
	int learned = -1;
	input(*state, 1,
	      arp_frame(RTE_ARP_OP_REQUEST, mac_pod, "198.18.2.14", zero_mac, "198.18.2.99", 0),
	      1000, &learned);
	assert_int_equal(learned, 0);
	struct el_ip pod = nh("198.18.2.14");
	cap_reset();
	neigh_output(*state, &snap, 1, &pod, ip_packet(1), 1001, &tx);
	assert_int_equal(neigh_pending(*state), 1);
	assert_request_for(0, 1, "198.18.2.1", "198.18.2.14");
}

static void
test_frame_shorter_than_arp_is_invalid(void **state)
{
	struct rte_mbuf *m =
	    arp_frame(RTE_ARP_OP_REQUEST, mac_gw, "198.18.0.254", zero_mac, "198.18.0.1", 0);
	rte_pktmbuf_trim(m, 1);
	input(*state, 0, m, 1000, NULL);
	assert_int_equal(cap.drops[EL_DROP_ARP_INVALID], 1);
	assert_int_equal(cap.n_sent, 0);
}

/* Corrupt one header field of an owned-target request: always invalid. */
static void
assert_invalid_when(void **state, unsigned offset, uint8_t value)
{
	struct rte_mbuf *m =
	    arp_frame(RTE_ARP_OP_REQUEST, mac_gw, "198.18.0.254", zero_mac, "198.18.0.1", 0);
	rte_pktmbuf_mtod(m, uint8_t *)[offset] = value;
	input(*state, 0, m, 1000, NULL);
	assert_int_equal(cap.drops[EL_DROP_ARP_INVALID], 1);
	assert_int_equal(cap.n_sent, 0);
	assert_int_equal(cap.stats.arp_replies, 0);
}

static void
test_hardware_type_other_than_ethernet_is_invalid(void **state)
{
	assert_invalid_when(state, 15, 6);
}

static void
test_protocol_other_than_ipv4_is_invalid(void **state)
{
	assert_invalid_when(state, 16, 0x86);
}

static void
test_hardware_length_other_than_6_is_invalid(void **state)
{
	assert_invalid_when(state, 18, 8);
}

static void
test_protocol_length_other_than_4_is_invalid(void **state)
{
	assert_invalid_when(state, 19, 16);
}

static void
test_opcode_other_than_request_or_reply_is_invalid(void **state)
{
	assert_invalid_when(state, 21, 3);
}

static void
test_request_for_us_teaches_the_sender(void **state)
{
	int learned = 0;
	struct el_ip ip;
	uint8_t mac[6];
	struct el_ip pod = nh("198.18.2.14");

	neigh_arp_input(
	    *state, &snap, 1,
	    arp_frame(RTE_ARP_OP_REQUEST, mac_pod, "198.18.2.14", zero_mac, "198.18.2.1", 0), 1000,
	    &tx, &ip, mac, &learned);
	assert_int_equal(learned, 1);
	assert_true(el_ip_eq(&ip, &pod));
	assert_memory_equal(mac, mac_pod, 6);
	cap_reset();
	neigh_output(*state, &snap, 1, &pod, ip_packet(7), 1001, &tx);
	assert_int_equal(cap.n_sent, 1);
	assert_eth(cap.sent[0], mac_pod, mac_int, RTE_ETHER_TYPE_IPV4);
	assert_int_equal(neigh_pending(*state), 0);
}

static void
test_gratuitous_arp_updates_a_known_neighbour(void **state)
{
	struct el_ip pod = nh("198.18.2.14");
	int learned = 0;

	neigh_learn(*state, &snap, 1, &pod, mac_pod, 1000, &tx);
	input(*state, 1,
	      arp_frame(RTE_ARP_OP_REQUEST, mac_pod2, "198.18.2.14", zero_mac, "198.18.2.14", 0),
	      2000, &learned);
	assert_int_equal(learned, 1);
	assert_int_equal(cap.n_dropped, 0);
	neigh_output(*state, &snap, 1, &pod, ip_packet(7), 2001, &tx);
	assert_int_equal(cap.n_sent, 1);
	assert_eth(cap.sent[0], mac_pod2, mac_int, RTE_ETHER_TYPE_IPV4);
}

static void
test_gratuitous_arp_of_unknown_host_is_not_ours(void **state)
{
	int learned = -1;
	input(*state, 1,
	      arp_frame(RTE_ARP_OP_REQUEST, mac_pod2, "198.18.2.14", zero_mac, "198.18.2.14", 0),
	      2000, &learned);
	assert_int_equal(learned, 0);
	assert_int_equal(cap.drops[EL_DROP_NOT_OURS], 1);
}

static void
test_sender_claiming_an_owned_address_is_not_learned(void **state)
{
	int learned = -1;
	input(*state, 0,
	      arp_frame(RTE_ARP_OP_REPLY, mac_gw, "198.18.0.1", mac_ext, "198.18.0.1", 0), 2000,
	      &learned);
	assert_int_equal(learned, 0);
}

/* ---- output and resolution ---- */

static void
test_static_neighbour_is_sent_at_once(void **state)
{
	struct el_ip gw = nh("198.18.0.254");
	struct rte_mbuf *m = ip_packet(1);
	neigh_output(*state, &snap, 0, &gw, m, 1000, &tx);
	assert_int_equal(cap.n_sent, 1);
	assert_ptr_equal(cap.sent[0], m);
	assert_int_equal(cap.sent_iface[0], 0);
	assert_eth(m, mac_gw, mac_ext, RTE_ETHER_TYPE_IPV4);
	assert_int_equal(cap.stats.arp_requests, 0);
}

static void
test_static_neighbour_wins_over_a_learned_one(void **state)
{
	struct el_ip gw = nh("198.18.0.254");
	input(*state, 0,
	      arp_frame(RTE_ARP_OP_REPLY, mac_pod, "198.18.0.254", mac_ext, "198.18.0.1", 0), 1000,
	      NULL);
	neigh_output(*state, &snap, 0, &gw, ip_packet(1), 1000, &tx);
	assert_int_equal(cap.n_sent, 1);
	assert_eth(cap.sent[0], mac_gw, mac_ext, RTE_ETHER_TYPE_IPV4);
}

/* Statics of a second snapshot: 200 pods on int, each with its own MAC. */
static struct el_snap_neigh many[200];

static void
many_build(struct el_snapshot *s, uint64_t generation, uint8_t mac_tag)
{
	*s = snap;
	s->generation = generation;
	for (unsigned k = 0; k < RTE_DIM(many); k++) {
		char a[32];
		snprintf(a, sizeof(a), "198.18.3.%u", k + 1);
		many[k].ip = el_ip4(ip4(a));
		many[k].iface = 1;
		memcpy(many[k].mac, mac_pod, 6);
		many[k].mac[4] = mac_tag;
		many[k].mac[5] = (uint8_t)k;
	}
	s->neighs = many;
	s->n_neighs = RTE_DIM(many);
}

static void
test_every_one_of_many_static_neighbours_is_found(void **state)
{
	struct el_snapshot s;
	many_build(&s, 7, 0x03);
	for (unsigned k = 0; k < RTE_DIM(many); k++)
		neigh_output(*state, &s, 1, &many[k].ip, ip_packet((uint8_t)k), 1000, &tx);
	assert_int_equal(cap.n_sent, RTE_DIM(many));
	assert_int_equal(cap.stats.arp_requests, 0);
	for (unsigned k = 0; k < RTE_DIM(many); k++)
		assert_eth(cap.sent[k], many[k].mac, mac_int, RTE_ETHER_TYPE_IPV4);
}

static void
test_static_neighbour_on_another_interface_is_not_used(void **state)
{
	struct el_snapshot s;
	many_build(&s, 7, 0x03);
	neigh_output(*state, &s, 0, &many[5].ip, ip_packet(1), 1000, &tx);
	assert_int_equal(neigh_pending(*state), 1);
	assert_int_equal(cap.stats.arp_requests, 1);
}

static void
test_new_snapshot_generation_brings_its_static_neighbours(void **state)
{
	struct el_snapshot s;
	many_build(&s, 7, 0x03);
	neigh_output(*state, &s, 1, &many[9].ip, ip_packet(1), 1000, &tx);
	/* same memory, next generation: a new MAC and one neighbour gone */
	many_build(&s, 8, 0x04);
	s.n_neighs = 9;
	neigh_output(*state, &s, 1, &many[8].ip, ip_packet(2), 1000, &tx);
	neigh_output(*state, &s, 1, &many[9].ip, ip_packet(3), 1000, &tx);
	assert_int_equal(cap.n_sent, 3); /* two frames and one ARP request */
	assert_eth(cap.sent[1], many[8].mac, mac_int, RTE_ETHER_TYPE_IPV4);
	assert_int_equal(many[8].mac[4], 0x04);
	assert_int_equal(neigh_pending(*state), 1);
	assert_request_for(2, 1, "198.18.2.1", "198.18.3.10");
}

static void
test_first_of_duplicate_static_neighbours_wins(void **state)
{
	struct el_snapshot s;
	many_build(&s, 7, 0x03);
	many[1].ip = many[0].ip;
	neigh_output(*state, &s, 1, &many[0].ip, ip_packet(1), 1000, &tx);
	assert_int_equal(cap.n_sent, 1);
	assert_eth(cap.sent[0], many[0].mac, mac_int, RTE_ETHER_TYPE_IPV4);
}

static void
test_unknown_next_hop_queues_and_broadcasts_a_request(void **state)
{
	struct el_ip pod = nh("198.18.2.14");
	neigh_output(*state, &snap, 1, &pod, ip_packet(1), 1000, &tx);
	assert_int_equal(neigh_pending(*state), 1);
	assert_int_equal(cap.n_sent, 1);
	assert_request_for(0, 1, "198.18.2.1", "198.18.2.14");
	assert_int_equal(cap.stats.arp_requests, 1);
}

static void
test_request_sender_is_the_address_in_the_target_subnet(void **state)
{
	struct el_ip a = nh("198.18.1.9");
	neigh_output(*state, &snap, 0, &a, ip_packet(1), 1000, &tx);
	assert_request_for(0, 0, "198.18.1.1", "198.18.1.9");
}

static void
test_request_sender_is_the_first_address_off_subnet(void **state)
{
	struct el_ip a = nh("198.18.5.9");
	neigh_output(*state, &snap, 0, &a, ip_packet(1), 1000, &tx);
	assert_request_for(0, 0, "198.18.0.1", "198.18.5.9");
}

static void
test_reply_releases_queued_packets_in_order(void **state)
{
	struct el_ip pod = nh("198.18.2.14");
	int learned = 0;

	for (uint8_t i = 0; i < 3; i++)
		neigh_output(*state, &snap, 1, &pod, ip_packet(i), 1000 + i, &tx);
	assert_int_equal(count_requests(), 1);
	cap_reset();
	input(*state, 1,
	      arp_frame(RTE_ARP_OP_REPLY, mac_pod, "198.18.2.14", mac_int, "198.18.2.1", 0), 1100,
	      &learned);
	assert_int_equal(learned, 1);
	assert_int_equal(neigh_pending(*state), 0);
	assert_int_equal(cap.n_sent, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(cap.sent_iface[i], 1);
		assert_eth(cap.sent[i], mac_pod, mac_int, RTE_ETHER_TYPE_IPV4);
		assert_int_equal(rte_pktmbuf_mtod(cap.sent[i], uint8_t *)[14], i);
	}
	assert_int_equal(cap.n_dropped, 0);
}

static void
test_at_most_one_request_per_second(void **state)
{
	struct el_ip pod = nh("198.18.2.14");
	neigh_output(*state, &snap, 1, &pod, ip_packet(1), 1000, &tx);
	neigh_output(*state, &snap, 1, &pod, ip_packet(2), 1500, &tx);
	neigh_housekeeping(*state, &snap, 1999, &tx);
	assert_int_equal(count_requests(), 1);
	neigh_housekeeping(*state, &snap, 2000, &tx);
	assert_int_equal(count_requests(), 2);
	neigh_housekeeping(*state, &snap, 2500, &tx);
	assert_int_equal(count_requests(), 2);
}

static void
test_three_unanswered_requests_drop_the_waiting_packets(void **state)
{
	struct el_ip pod = nh("198.18.2.14");
	neigh_output(*state, &snap, 1, &pod, ip_packet(1), 1000, &tx);
	neigh_output(*state, &snap, 1, &pod, ip_packet(2), 1000, &tx);
	for (uint64_t now = 1001; now < 4000; now++)
		neigh_housekeeping(*state, &snap, now, &tx);
	assert_int_equal(count_requests(), 3);
	assert_int_equal(neigh_pending(*state), 2);
	assert_int_equal(cap.n_dropped, 0);
	neigh_housekeeping(*state, &snap, 4000, &tx);
	assert_int_equal(count_requests(), 3);
	assert_int_equal(neigh_pending(*state), 0);
	assert_int_equal(cap.drops[EL_DROP_NEIGH_UNRESOLVED], 2);
}

static void
test_after_giving_up_the_next_packet_starts_over(void **state)
{
	struct el_ip pod = nh("198.18.2.14");
	neigh_output(*state, &snap, 1, &pod, ip_packet(1), 1000, &tx);
	for (uint64_t now = 2000; now <= 4000; now += 1000)
		neigh_housekeeping(*state, &snap, now, &tx);
	cap_reset();
	neigh_output(*state, &snap, 1, &pod, ip_packet(2), 4001, &tx);
	assert_int_equal(neigh_pending(*state), 1);
	assert_request_for(0, 1, "198.18.2.1", "198.18.2.14");
}

static void
test_ninth_waiting_packet_of_a_next_hop_is_dropped(void **state)
{
	struct el_ip pod = nh("198.18.2.14");
	for (uint8_t i = 0; i < 9; i++)
		neigh_output(*state, &snap, 1, &pod, ip_packet(i), 1000, &tx);
	assert_int_equal(neigh_pending(*state), 8);
	assert_int_equal(cap.drops[EL_DROP_NEIGH_PENDING_FULL], 1);
}

static void
test_table_holds_at_most_1024_waiting_packets(void **state)
{
	/* 129 next hops x 8 packets = 1032: the last 8 do not fit */
	for (unsigned h = 0; h < 129; h++) {
		char s[32];
		snprintf(s, sizeof(s), "198.18.%u.%u", 4 + h / 200, 1 + h % 200);
		struct el_ip a = nh(s);
		for (uint8_t i = 0; i < 8; i++)
			neigh_output(*state, &snap, 1, &a, ip_packet(i), 1000, &tx);
	}
	assert_int_equal(neigh_pending(*state), 1024);
	assert_int_equal(cap.drops[EL_DROP_NEIGH_PENDING_FULL], 8);
}

static void
test_packet_for_a_new_next_hop_is_dropped_when_the_table_is_full(void **state)
{
	struct neigh_table *t = neigh_create(2, SOCKET_ID_ANY);
	struct el_ip a = nh("198.18.2.20"), b = nh("198.18.2.21"), c = nh("198.18.2.22");
	(void)state;
	assert_non_null(t);
	neigh_output(t, &snap, 1, &a, ip_packet(1), 1000, &tx);
	neigh_output(t, &snap, 1, &b, ip_packet(2), 1000, &tx);
	neigh_output(t, &snap, 1, &c, ip_packet(3), 1000, &tx);
	assert_int_equal(neigh_pending(t), 2);
	assert_int_equal(cap.drops[EL_DROP_NEIGH_PENDING_FULL], 1);
	neigh_destroy(t);
}

static void
test_removing_entries_keeps_the_others_reachable(void **state)
{
	/* a small table whose probe runs collide; half the entries time out */
	struct neigh_table *t = neigh_create(16, SOCKET_ID_ANY);
	char s[32];
	(void)state;
	assert_non_null(t);
	for (unsigned h = 1; h < 16; h += 2) {
		snprintf(s, sizeof(s), "198.18.2.%u", 20 + h);
		struct el_ip a = nh(s);
		neigh_output(t, &snap, 1, &a, ip_packet((uint8_t)h), 1000, &tx);
	}
	neigh_housekeeping(t, &snap, 2000, &tx);
	for (unsigned h = 0; h < 16; h += 2) {
		snprintf(s, sizeof(s), "198.18.2.%u", 20 + h);
		struct el_ip a = nh(s);
		neigh_output(t, &snap, 1, &a, ip_packet((uint8_t)h), 2500, &tx);
	}
	neigh_housekeeping(t, &snap, 3000, &tx);
	neigh_housekeeping(t, &snap, 4000, &tx);
	assert_int_equal(cap.drops[EL_DROP_NEIGH_UNRESOLVED], 8);
	assert_int_equal(neigh_pending(t), 8);
	cap_reset();
	for (unsigned h = 0; h < 16; h += 2) {
		snprintf(s, sizeof(s), "198.18.2.%u", 20 + h);
		struct el_ip a = nh(s);
		neigh_learn(t, &snap, 1, &a, mac_pod, 4001, &tx);
	}
	assert_int_equal(neigh_pending(t), 0);
	assert_int_equal(cap.n_sent, 8);
	neigh_destroy(t);
}

static void
test_stale_neighbour_is_used_while_probed(void **state)
{
	struct el_ip pod = nh("198.18.2.14");
	const uint64_t learned_at = 1000, stale = learned_at + 5 * 60 * 1000;

	neigh_learn(*state, &snap, 1, &pod, mac_pod, learned_at, &tx);
	neigh_output(*state, &snap, 1, &pod, ip_packet(1), stale - 1, &tx);
	assert_int_equal(count_requests(), 0);
	cap_reset();
	neigh_output(*state, &snap, 1, &pod, ip_packet(2), stale, &tx);
	assert_int_equal(count_requests(), 1);
	assert_int_equal(cap.n_sent, 2);
	assert_request_for(0, 1, "198.18.2.1", "198.18.2.14");
	assert_eth(cap.sent[1], mac_pod, mac_int, RTE_ETHER_TYPE_IPV4);
	assert_int_equal(neigh_pending(*state), 0);
}

static void
test_arp_from_a_known_neighbour_refreshes_it(void **state)
{
	struct el_ip pod = nh("198.18.2.14");
	const uint64_t t0 = 1000, t1 = t0 + 4 * 60 * 1000;

	neigh_learn(*state, &snap, 1, &pod, mac_pod, t0, &tx);
	/* a request for someone else still proves the neighbour is alive */
	input(*state, 1,
	      arp_frame(RTE_ARP_OP_REQUEST, mac_pod, "198.18.2.14", zero_mac, "198.18.2.99", 0), t1,
	      NULL);
	neigh_output(*state, &snap, 1, &pod, ip_packet(1), t0 + 5 * 60 * 1000 + 1, &tx);
	assert_int_equal(count_requests(), 0);
}

static void
test_unanswered_probes_make_the_neighbour_wait_again(void **state)
{
	struct el_ip pod = nh("198.18.2.14");
	const uint64_t stale = 1000 + 5 * 60 * 1000;

	neigh_learn(*state, &snap, 1, &pod, mac_pod, 1000, &tx);
	for (unsigned k = 0; k < 3; k++)
		neigh_output(*state, &snap, 1, &pod, ip_packet(1), stale + 1000 * k, &tx);
	assert_int_equal(count_requests(), 3);
	assert_int_equal(neigh_pending(*state), 0);
	cap_reset();
	neigh_output(*state, &snap, 1, &pod, ip_packet(2), stale + 3000, &tx);
	assert_int_equal(neigh_pending(*state), 1);
	assert_request_for(0, 1, "198.18.2.1", "198.18.2.14");
}

static void
test_destroy_frees_waiting_packets(void **state)
{
	struct el_ip pod = nh("198.18.2.14");
	unsigned before;
	(void)state;
	struct neigh_table *t = neigh_create(4, SOCKET_ID_ANY);
	cap_reset();
	before = rte_mempool_avail_count(pool);
	neigh_output(t, &snap, 1, &pod, ip_packet(1), 1000, &tx);
	cap_reset(); /* frees the request */
	assert_int_equal(rte_mempool_avail_count(pool), before - 1);
	neigh_destroy(t);
	assert_int_equal(rte_mempool_avail_count(pool), before);
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0],	   "--no-huge", "-m", "256",	     "--no-shconf",
		       "--no-pci", "-l",	"0",  "--log-level", "lib.eal:error"};
	(void)argc;
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("neigh_test", 4096, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "no mbuf pool\n");
		return 1;
	}
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_request_for_interface_address_is_answered_in_place),
	    T(test_request_for_vip_is_answered),
	    T(test_request_for_other_address_is_dropped_as_not_ours),
	    T(test_request_not_for_us_teaches_nothing),
	    T(test_frame_shorter_than_arp_is_invalid),
	    T(test_hardware_type_other_than_ethernet_is_invalid),
	    T(test_protocol_other_than_ipv4_is_invalid),
	    T(test_hardware_length_other_than_6_is_invalid),
	    T(test_protocol_length_other_than_4_is_invalid),
	    T(test_opcode_other_than_request_or_reply_is_invalid),
	    T(test_request_for_us_teaches_the_sender),
	    T(test_gratuitous_arp_updates_a_known_neighbour),
	    T(test_gratuitous_arp_of_unknown_host_is_not_ours),
	    T(test_sender_claiming_an_owned_address_is_not_learned),
	    T(test_static_neighbour_is_sent_at_once),
	    T(test_static_neighbour_wins_over_a_learned_one),
	    T(test_every_one_of_many_static_neighbours_is_found),
	    T(test_static_neighbour_on_another_interface_is_not_used),
	    T(test_new_snapshot_generation_brings_its_static_neighbours),
	    T(test_first_of_duplicate_static_neighbours_wins),
	    T(test_unknown_next_hop_queues_and_broadcasts_a_request),
	    T(test_request_sender_is_the_address_in_the_target_subnet),
	    T(test_request_sender_is_the_first_address_off_subnet),
	    T(test_reply_releases_queued_packets_in_order),
	    T(test_at_most_one_request_per_second),
	    T(test_three_unanswered_requests_drop_the_waiting_packets),
	    T(test_after_giving_up_the_next_packet_starts_over),
	    T(test_ninth_waiting_packet_of_a_next_hop_is_dropped),
	    T(test_table_holds_at_most_1024_waiting_packets),
	    T(test_packet_for_a_new_next_hop_is_dropped_when_the_table_is_full),
	    T(test_removing_entries_keeps_the_others_reachable),
	    T(test_stale_neighbour_is_used_while_probed),
	    T(test_arp_from_a_known_neighbour_refreshes_it),
	    T(test_unanswered_probes_make_the_neighbour_wait_again),
	    T(test_destroy_frees_waiting_packets),
	};
#undef T
	int rc = cmocka_run_group_tests_name("neigh", tests, NULL, NULL);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
