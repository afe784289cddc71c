/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet fixture runner (DESIGN.md section 7, suite "packet").
 *
 * Builds the snapshot of tests/packet/edgelb.yaml and tests/packet/manifests
 * the way the appliance does (config_load, manifest_load_path,
 * compile_snapshot), then replays the fixture file written by fixtures.py:
 * every fixture gets a fresh worker; every step feeds one frame to
 * worker_process_burst(), runs worker_poll_housekeeping() at the step's time,
 * and compares what the worker transmitted with the expected frames byte for
 * byte (outside the ranges a fixture marks as open), checks the checksums of
 * every captured IPv4 and IPv6 frame, and checks the verdict against the worker's
 * counters. The file format is described in fixtures.py.
 *
 * Input frames may be empty ("-": an mbuf with data_len 0) and longer than
 * one mbuf: they are then chained, and "seg=N" before the hex splits any
 * input into segments of N bytes. An expected frame marked "badl4" must
 * carry a TCP/UDP checksum that does NOT verify (the input's was wrong, and
 * an incremental update keeps it wrong); every other captured frame must
 * carry correct ones. A "drop:" step must leave the flow table as it was
 * (flows_active and flows_created unchanged).
 *
 * A step whose verdict is "set:KEY=VALUE,..." is not run: it changes the
 * worker configuration of its fixture before the worker is created (keys
 * max_flows, new_flows_per_source, new_flows_burst, icmp_errors_per_second,
 * icmp_errors_burst), so a fixture can ask for a tiny flow table or a
 * per-source or error limit. Otherwise the worker gets the config file's
 * conntrack.max_flows and icmp limits, as the appliance passes them.
 *
 * A verdict "drop:A+B" expects the drop counters A and B to move by one
 * each (a packet dropped for A and an error about it not sent, B).
 *
 * Usage: run_fixtures CONFIG MANIFEST_DIR FIXTURE_FILE [NAME_SUBSTRING]
 * (EL_FIXTURES_VERBOSE=1 in the environment prints which alternative each
 * variable was bound to.)
 * Last line of output: "N passed, M failed"; exit status 1 when any failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/csum.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"
#include "edgelb/worker.h"

#define FX_MAX_ALTS    8
#define FX_MAX_OUTS    16
#define FX_MAX_STEPS   64
#define FX_MAX_IGN     16
#define FX_MAX_VARS    128
#define FX_MAX_CAPTURE 64
#define FX_FRAME_MAX   2048  /* captured frames */
#define FX_INPUT_MAX   16384 /* input frames: jumbo and oversize ones too */

static const uint8_t fx_mac[2][6] = {
    {0x02, 0x00, 0x00, 0x00, 0x00, 0x01}, /* ext */
    {0x02, 0x00, 0x00, 0x00, 0x02, 0x01}, /* int */
};

struct fx_frame {
	uint16_t len;
	uint8_t *data;
};

struct fx_range {
	uint16_t off, len;
};

/* A set of frames, one per alternative; var < 0: a single fixed frame. */
struct fx_frames {
	int var;
	unsigned n;
	uint16_t seg; /**< input: segment size of the mbuf chain; 0 = one mbuf's room */
	struct fx_frame alt[FX_MAX_ALTS];
};

struct fx_out {
	uint8_t iface;
	bool bad_l4; /**< its TCP/UDP checksum must not verify */
	struct fx_frames f;
	unsigned n_ign;
	struct fx_range ign[FX_MAX_IGN];
};

struct fx_step {
	uint64_t now;
	char verdict[64];
	char note[256];
	bool has_in;
	uint8_t in_iface;
	struct fx_frames in;
	unsigned n_outs;
	struct fx_out outs[FX_MAX_OUTS];
};

struct fx {
	char name[128];
	char desc[512];
	unsigned line;
	unsigned n_steps;
	struct fx_step steps[FX_MAX_STEPS];
	unsigned n_distinct;
	int distinct[FX_MAX_VARS];
};

/* Variables: which alternative (pod) a name is bound to. Names starting
 * with "g_" keep their value across fixtures. */
static struct {
	char name[64];
	int value; /* -1 = unbound */
} fx_vars[FX_MAX_VARS];
static unsigned fx_n_vars;

struct fx_capture {
	unsigned n;
	uint8_t iface[FX_MAX_CAPTURE];
	uint16_t len[FX_MAX_CAPTURE];
	uint8_t data[FX_MAX_CAPTURE][FX_FRAME_MAX];
	unsigned overflow;
};

static struct fx_capture fx_cap;

/* ---- failure messages ---- */

static bool fx_failed;
static bool fx_verbose; /* EL_FIXTURES_VERBOSE set: print variable bindings */
static FILE *fx_log;	/* messages of the fixture being run */

static void __attribute__((format(printf, 1, 2))) fx_fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(fx_log, "    ");
	va_start(ap, fmt);
	vfprintf(fx_log, fmt, ap);
	va_end(ap);
	fprintf(fx_log, "\n");
	fx_failed = true;
}

/* ---- parsing ---- */

static int
fx_var(const char *name)
{
	for (unsigned i = 0; i < fx_n_vars; i++)
		if (strcmp(fx_vars[i].name, name) == 0)
			return (int)i;
	if (fx_n_vars == FX_MAX_VARS || strlen(name) >= sizeof(fx_vars[0].name))
		return -1;
	snprintf(fx_vars[fx_n_vars].name, sizeof(fx_vars[0].name), "%s", name);
	fx_vars[fx_n_vars].value = -1;
	return (int)fx_n_vars++;
}

static void
fx_vars_reset_local(void)
{
	for (unsigned i = 0; i < fx_n_vars; i++)
		if (strncmp(fx_vars[i].name, "g_", 2) != 0)
			fx_vars[i].value = -1;
}

static int
fx_hex(const char *s, struct fx_frame *f)
{
	size_t n = strcmp(s, "-") == 0 ? 0 : strlen(s);
	if (n % 2 != 0 || n / 2 > FX_INPUT_MAX)
		return -EINVAL;
	f->data = malloc(n / 2 + 1);
	if (f->data == NULL)
		return -ENOMEM;
	f->len = (uint16_t)(n / 2);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1) {
			free(f->data);
			return -EINVAL;
		}
		f->data[i] = (uint8_t)v;
	}
	return 0;
}

/* Parse "[@VAR] [ign=O:L,...] HEX..." from the tokenizer state. */
static int
fx_parse_frames(char **save, struct fx_frames *fr, struct fx_out *out)
{
	char *tok;

	fr->var = -1;
	fr->n = 0;
	fr->seg = 0;
	while ((tok = strtok_r(NULL, " \n", save)) != NULL) {
		if (tok[0] == '@') {
			fr->var = fx_var(tok + 1);
			if (fr->var < 0)
				return -ENOSPC;
		} else if (strncmp(tok, "seg=", 4) == 0 && out == NULL) {
			unsigned long v = strtoul(tok + 4, NULL, 10);
			if (v == 0 || v > UINT16_MAX)
				return -EINVAL;
			fr->seg = (uint16_t)v;
		} else if (strcmp(tok, "badl4") == 0 && out != NULL) {
			out->bad_l4 = true;
		} else if (strncmp(tok, "ign=", 4) == 0 && out != NULL) {
			char *r, *s2;
			for (r = strtok_r(tok + 4, ",", &s2); r != NULL;
			     r = strtok_r(NULL, ",", &s2)) {
				unsigned o, l;
				if (sscanf(r, "%u:%u", &o, &l) != 2 || out->n_ign == FX_MAX_IGN)
					return -EINVAL;
				out->ign[out->n_ign].off = (uint16_t)o;
				out->ign[out->n_ign++].len = (uint16_t)l;
			}
		} else {
			if (fr->n == FX_MAX_ALTS)
				return -ENOSPC;
			int rc = fx_hex(tok, &fr->alt[fr->n]);
			if (rc < 0)
				return rc;
			fr->n++;
		}
	}
	if (fr->n == 0 || (fr->var < 0 && fr->n != 1))
		return -EINVAL;
	return 0;
}

static void
fx_free(struct fx *f)
{
	for (unsigned s = 0; s < f->n_steps; s++) {
		struct fx_step *st = &f->steps[s];
		for (unsigned a = 0; a < st->in.n; a++)
			free(st->in.alt[a].data);
		for (unsigned o = 0; o < st->n_outs; o++)
			for (unsigned a = 0; a < st->outs[o].f.n; a++)
				free(st->outs[o].f.alt[a].data);
	}
	memset(f, 0, sizeof(*f));
}

/* Read the next fixture. Returns 1 when one was read, 0 at the end of the
 * file, a negative errno on a syntax error (with *lineno set). */
static int
fx_read(FILE *fp, struct fx *f, unsigned *lineno)
{
	char *line = NULL, *save, *tok;
	size_t cap = 0;
	bool in_fixture = false;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	while (getline(&line, &cap, fp) > 0) {
		++*lineno;
		tok = strtok_r(line, " \n", &save);
		if (tok == NULL || tok[0] == '#')
			continue;
		if (strcmp(tok, "fixture") == 0) {
			char *name = strtok_r(NULL, " \n", &save);
			char *desc = strtok_r(NULL, "\n", &save);
			if (in_fixture || name == NULL) {
				rc = -EINVAL;
				break;
			}
			snprintf(f->name, sizeof(f->name), "%s", name);
			snprintf(f->desc, sizeof(f->desc), "%s", desc ? desc : "");
			f->line = *lineno;
			in_fixture = true;
		} else if (!in_fixture) {
			rc = -EINVAL;
			break;
		} else if (strcmp(tok, "step") == 0) {
			char *now = strtok_r(NULL, " \n", &save);
			char *verdict = strtok_r(NULL, " \n", &save);
			char *note = strtok_r(NULL, "\n", &save);
			if (now == NULL || verdict == NULL || f->n_steps == FX_MAX_STEPS) {
				rc = -EINVAL;
				break;
			}
			struct fx_step *st = &f->steps[f->n_steps++];
			st->now = strtoull(now, NULL, 10);
			snprintf(st->verdict, sizeof(st->verdict), "%s", verdict);
			snprintf(st->note, sizeof(st->note), "%s",
				 note && strcmp(note, "-") != 0 ? note : "");
			st->in.var = -1;
		} else if (strcmp(tok, "in") == 0 || strcmp(tok, "out") == 0) {
			char *iface = strtok_r(NULL, " \n", &save);
			struct fx_step *st = f->n_steps ? &f->steps[f->n_steps - 1] : NULL;
			if (st == NULL || iface == NULL || atoi(iface) < 0 ||
			    atoi(iface) >= EL_SNAP_MAX_IFACES) {
				rc = -EINVAL;
				break;
			}
			if (tok[0] == 'i') {
				if (st->has_in) {
					rc = -EINVAL;
					break;
				}
				st->has_in = true;
				st->in_iface = (uint8_t)atoi(iface);
				rc = fx_parse_frames(&save, &st->in, NULL);
			} else {
				if (st->n_outs == FX_MAX_OUTS) {
					rc = -ENOSPC;
					break;
				}
				struct fx_out *o = &st->outs[st->n_outs++];
				o->iface = (uint8_t)atoi(iface);
				rc = fx_parse_frames(&save, &o->f, o);
			}
			if (rc < 0)
				break;
		} else if (strcmp(tok, "distinct") == 0) {
			while ((tok = strtok_r(NULL, " \n", &save)) != NULL &&
			       f->n_distinct < FX_MAX_VARS) {
				int v = fx_var(tok);
				if (v < 0) {
					rc = -ENOSPC;
					break;
				}
				f->distinct[f->n_distinct++] = v;
			}
			if (rc < 0)
				break;
		} else if (strcmp(tok, "end") == 0) {
			free(line);
			return 1;
		} else {
			rc = -EINVAL;
			break;
		}
	}
	free(line);
	if (rc == 0 && in_fixture)
		rc = -EINVAL; /* no "end" */
	return rc;
}

/* ---- capture ---- */

static uint16_t
fx_tx(void *ctx, uint8_t iface, struct rte_mbuf **pkts, uint16_t n)
{
	struct fx_capture *c = ctx;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (c->n < FX_MAX_CAPTURE && rte_pktmbuf_pkt_len(m) <= FX_FRAME_MAX) {
			const void *p =
			    rte_pktmbuf_read(m, 0, rte_pktmbuf_pkt_len(m), c->data[c->n]);
			if (p != c->data[c->n])
				memcpy(c->data[c->n], p, rte_pktmbuf_pkt_len(m));
			c->len[c->n] = (uint16_t)rte_pktmbuf_pkt_len(m);
			c->iface[c->n++] = iface;
		} else {
			c->overflow++;
		}
		rte_pktmbuf_free(m);
	}
	return n;
}

/* ---- comparison and reporting ---- */

/* Name of the field at @p off of an Ethernet/IPv6 frame (fixed header,
 * then the upper layer when no extension header is in between). */
static const char *
fx_field6(const uint8_t *b, unsigned len, unsigned off)
{
	if (off < 18)
		return "IPv6 version/traffic class/flow label";
	if (off < 20)
		return "IPv6 payload length";
	if (off == 20)
		return "IPv6 next header";
	if (off == 21)
		return "IPv6 hop limit";
	if (off < 38)
		return "IPv6 source";
	if (off < 54)
		return "IPv6 destination";
	unsigned k = off - 54;
	switch (len > 20 ? b[20] : 0) {
	case 6:
		return k < 4	? "TCP ports"
		       : k < 12 ? "TCP seq/ack"
		       : k < 16 ? "TCP flags/window"
		       : k < 18 ? "TCP checksum"
				: "TCP urgent/options/payload";
	case 17:
		return k < 4   ? "UDP ports"
		       : k < 6 ? "UDP length"
		       : k < 8 ? "UDP checksum"
			       : "UDP payload";
	case 58:
		return k == 0	? "ICMPv6 type"
		       : k == 1 ? "ICMPv6 code"
		       : k < 4	? "ICMPv6 checksum"
		       : k < 8	? "ICMPv6 rest of header"
				: "ICMPv6 body";
	default:
		return "IPv6 extension headers or upper layer";
	}
}

/* Name of the header field at @p off of an Ethernet/IPv4 frame. */
static const char *
fx_field(const uint8_t *b, unsigned len, unsigned off)
{
	static const char *const ip_fields[20] = {
	    "IPv4 version/IHL", "IPv4 TOS",	    "IPv4 total length", "IPv4 total length",
	    "IPv4 id",		"IPv4 id",	    "IPv4 flags/offset", "IPv4 flags/offset",
	    "IPv4 TTL",		"IPv4 protocol",    "IPv4 checksum",	 "IPv4 checksum",
	    "IPv4 source",	"IPv4 source",	    "IPv4 source",	 "IPv4 source",
	    "IPv4 destination", "IPv4 destination", "IPv4 destination",	 "IPv4 destination"};
	static const char *const tcp_fields[20] = {
	    "TCP source port", "TCP source port", "TCP dest port",   "TCP dest port", "TCP seq",
	    "TCP seq",	       "TCP seq",	  "TCP seq",	     "TCP ack",	      "TCP ack",
	    "TCP ack",	       "TCP ack",	  "TCP data offset", "TCP flags",     "TCP window",
	    "TCP window",      "TCP checksum",	  "TCP checksum",    "TCP urgent",    "TCP urgent"};
	static const char *const udp_fields[8] = {
	    "UDP source port", "UDP source port", "UDP dest port", "UDP dest port",
	    "UDP length",      "UDP length",	  "UDP checksum",  "UDP checksum"};

	if (off < 6)
		return "Ethernet destination";
	if (off < 12)
		return "Ethernet source";
	if (off < 14)
		return "EtherType";
	if (len >= 54 && b[12] == 0x86 && b[13] == 0xdd)
		return fx_field6(b, len, off);
	if (len < 34 || b[12] != 0x08 || b[13] != 0x00)
		return "payload";
	unsigned ihl = (b[14] & 0xf) * 4u, l4 = 14 + ihl;
	if (off < 34)
		return ip_fields[off - 14];
	if (off < l4)
		return "IPv4 options";
	unsigned k = off - l4;
	switch (b[23]) {
	case 6:
		return k < 20 ? tcp_fields[k] : "TCP options/payload";
	case 17:
		return k < 8 ? udp_fields[k] : "UDP payload";
	case 1:
		return k == 0	? "ICMP type"
		       : k == 1 ? "ICMP code"
		       : k < 4	? "ICMP checksum"
		       : k < 8	? "ICMP rest of header"
				: "ICMP payload (quoted packet)";
	default:
		return "L4";
	}
}

static bool
fx_ignored(const struct fx_out *o, unsigned off)
{
	for (unsigned i = 0; i < o->n_ign; i++)
		if (off >= o->ign[i].off && off < (unsigned)o->ign[i].off + o->ign[i].len)
			return true;
	return false;
}

/* Offset of the first difference outside the ignored ranges; -1 if equal.
 * A length difference counts at the shorter length. */
static int
fx_first_diff(const struct fx_out *o, const struct fx_frame *exp, const uint8_t *got,
	      unsigned got_len)
{
	unsigned n = exp->len < got_len ? exp->len : got_len;
	for (unsigned i = 0; i < n; i++)
		if (exp->data[i] != got[i] && !fx_ignored(o, i))
			return (int)i;
	return exp->len == got_len ? -1 : (int)n;
}

static void
fx_dump_diff(const struct fx_out *o, const struct fx_frame *exp, const uint8_t *got,
	     unsigned got_len)
{
	unsigned n = exp->len > got_len ? exp->len : got_len;
	int first = fx_first_diff(o, exp, got, got_len);

	fprintf(fx_log, "      first difference at offset %d (%s); expected %u bytes, got %u\n",
		first, fx_field(exp->data, exp->len, (unsigned)first), exp->len, got_len);
	fprintf(fx_log, "      rows with differences ('^' differs, '.' ignored):\n");
	for (unsigned row = 0; row < n; row += 16) {
		char e[64] = "", g[64] = "", mk[64] = "";
		bool differs = false;
		for (unsigned i = row; i < row + 16 && i < n; i++) {
			unsigned p = (i - row) * 3;
			bool in_e = i < exp->len, in_g = i < got_len;
			bool ign = fx_ignored(o, i);
			snprintf(e + p, sizeof(e) - p, in_e ? "%02x " : "-- ",
				 in_e ? exp->data[i] : 0);
			snprintf(g + p, sizeof(g) - p, in_g ? "%02x " : "-- ", in_g ? got[i] : 0);
			bool d = !(in_e && in_g && exp->data[i] == got[i]);
			snprintf(mk + p, sizeof(mk) - p, "%s  ", ign ? "." : d ? "^" : " ");
			if (d && !ign)
				differs = true;
		}
		if (!differs)
			continue;
		fprintf(fx_log, "      exp %04x: %s\n      got %04x: %s\n                %s\n", row,
			e, row, g, mk);
	}
}

static void
fx_dump(const char *what, const uint8_t *b, unsigned len)
{
	fprintf(fx_log, "      %s (%u bytes):", what, len);
	for (unsigned i = 0; i < len; i++)
		fprintf(fx_log, "%s%02x", i % 16 == 0 ? "\n        " : " ", b[i]);
	fprintf(fx_log, "\n");
}

/* ---- checksums of captured frames ---- */

static bool
fx_sum_ok(uint32_t sum)
{
	return csum_fold32(sum) == 0xffff;
}

static const char fx_bad_tcp[] = "TCP checksum wrong";
static const char fx_bad_udp[] = "UDP checksum wrong";

/* fx_csum_problem() of an Ethernet/IPv6 frame: the TCP, UDP or ICMPv6
 * checksum with the pseudo-header of RFC 8200 section 8.1 (after any
 * extension headers); a zero UDP checksum is wrong over IPv6. */
static const char *
fx_csum6_problem(const uint8_t *b, unsigned len)
{
	if (len < 54)
		return "IPv6 frame shorter than an IPv6 header";
	unsigned tot = 40u + ((unsigned)b[18] << 8 | b[19]), off = 40;
	uint8_t nh = b[20];
	if ((b[14] >> 4) != 6 || tot > len - 14)
		return "IPv6 header inconsistent with the frame";
	while (nh == 0 || nh == 43 || nh == 44 || nh == 60) {
		if (off + 8 > tot)
			return "IPv6 extension header beyond the payload";
		const uint8_t *h = b + 14 + off;
		if (nh == 44 && (((unsigned)h[2] << 8 | h[3]) & 0xfff9) != 0)
			return NULL; /* a fragment: no L4 to check */
		nh = h[0];
		off += nh == 44 ? 8u : (h[1] + 1u) * 8u;
		if (off > tot)
			return "IPv6 extension header beyond the payload";
	}
	const uint8_t *l4 = b + 14 + off;
	unsigned l4len = tot - off;
	if (nh != 6 && nh != 17 && nh != 58)
		return NULL;
	if (l4len < (nh == 6 ? 20u : 8u))
		return "IPv6 upper-layer header truncated";
	if (nh == 17 && (l4[6] | l4[7]) == 0)
		return "UDP checksum 0 over IPv6";
	if (fx_sum_ok(csum_partial(l4, l4len, csum_ip6_pseudo(b + 22, b + 38, nh, l4len))))
		return NULL;
	return nh == 6 ? fx_bad_tcp : nh == 17 ? fx_bad_udp : "ICMPv6 checksum wrong";
}

/* Check the checksums a captured frame carries; NULL when fine. */
static const char *
fx_csum_problem(const uint8_t *b, unsigned len)
{
	if (len >= 14 && b[12] == 0x86 && b[13] == 0xdd)
		return fx_csum6_problem(b, len);
	if (len < 14 || b[12] != 0x08 || b[13] != 0x00)
		return NULL;
	if (len < 34)
		return "IPv4 frame shorter than an IPv4 header";
	unsigned ihl = (b[14] & 0xf) * 4u, tot = (unsigned)b[16] << 8 | b[17];
	if ((b[14] >> 4) != 4 || ihl < 20 || len < 14 + ihl || tot < ihl || tot > len - 14)
		return "IPv4 header inconsistent with the frame";
	if (!fx_sum_ok(csum_partial(b + 14, ihl, 0)))
		return "IPv4 header checksum wrong";
	if ((b[20] & 0x3f) != 0 || b[21] != 0)
		return NULL; /* a fragment: no L4 to check */
	const uint8_t *l4 = b + 14 + ihl;
	unsigned l4len = tot - ihl;
	uint8_t pseudo[12];
	memcpy(pseudo, b + 26, 8);
	pseudo[8] = 0;
	pseudo[9] = b[23];
	pseudo[10] = (uint8_t)(l4len >> 8);
	pseudo[11] = (uint8_t)l4len;
	switch (b[23]) {
	case 6:
		if (l4len < 20)
			return "TCP header truncated";
		if (!fx_sum_ok(csum_partial(l4, l4len, csum_partial(pseudo, 12, 0))))
			return fx_bad_tcp;
		break;
	case 17:
		if (l4len < 8)
			return "UDP header truncated";
		if ((l4[6] | l4[7]) != 0 &&
		    !fx_sum_ok(csum_partial(l4, l4len, csum_partial(pseudo, 12, 0))))
			return fx_bad_udp;
		break;
	case 1:
		if (l4len < 8 || !fx_sum_ok(csum_partial(l4, l4len, 0)))
			return "ICMP checksum wrong";
		if ((l4[0] == 3 || l4[0] == 11 || l4[0] == 12) && l4len >= 28) {
			unsigned qihl = (l4[8] & 0xf) * 4u;
			if (qihl >= 20 && l4len >= 8 + qihl &&
			    !fx_sum_ok(csum_partial(l4 + 8, qihl, 0)))
				return "quoted IPv4 header checksum wrong";
		}
		break;
	default:
		break;
	}
	return NULL;
}

/* ---- verdicts ---- */

static int
fx_drop_index(const char *label)
{
	for (int d = 0; d < EL_DROP_MAX; d++)
		if (strcmp(worker_drop_name((enum el_drop)d), label) == 0)
			return d;
	return -1;
}

static void
fx_check_verdict(const struct fx_step *st, const struct el_worker_stats *a,
		 const struct el_worker_stats *b)
{
	int allowed_drop = -1, want_drop = -1, want_drop2 = -1;
	const char *v = st->verdict;

	if (strncmp(v, "drop:", 5) == 0) {
		char labels[sizeof(st->verdict)], *plus;
		snprintf(labels, sizeof(labels), "%s", v + 5);
		plus = strchr(labels, '+');
		if (plus != NULL) {
			*plus = '\0';
			want_drop2 = fx_drop_index(plus + 1);
		}
		want_drop = fx_drop_index(labels);
		if (want_drop < 0 || (plus != NULL && want_drop2 < 0)) {
			fx_fail("unknown drop reason in verdict \"%s\"", v);
			return;
		}
	} else if (strcmp(v, "arp-reply") == 0) {
		if (b->arp_replies - a->arp_replies != 1)
			fx_fail("verdict %s: arp_replies moved by %" PRIu64, v,
				b->arp_replies - a->arp_replies);
	} else if (strcmp(v, "echo-reply") == 0) {
		if (b->icmp_echo_replies - a->icmp_echo_replies != 1)
			fx_fail("verdict %s: icmp_echo_replies moved by %" PRIu64, v,
				b->icmp_echo_replies - a->icmp_echo_replies);
	} else if (strcmp(v, "reject") == 0) {
		if (b->rejects_sent - a->rejects_sent != 1)
			fx_fail("verdict %s: rejects_sent moved by %" PRIu64, v,
				b->rejects_sent - a->rejects_sent);
		allowed_drop = EL_DROP_NO_ENDPOINT; /* may or may not be counted too */
	} else if (strcmp(v, "translate") == 0) {
		if (b->icmp_errors_translated - a->icmp_errors_translated != 1)
			fx_fail("verdict %s: icmp_errors_translated moved by %" PRIu64, v,
				b->icmp_errors_translated - a->icmp_errors_translated);
	} else if (strcmp(v, "forward") != 0 && strcmp(v, "queued") != 0 &&
		   strcmp(v, "none") != 0) {
		fx_fail("unknown verdict \"%s\"", v);
		return;
	}
	if (want_drop >= 0 &&
	    (b->flows_active != a->flows_active || b->flows_created != a->flows_created))
		fx_fail("verdict %s: the flow table changed (flows_active %" PRIu64 " -> %" PRIu64
			", flows_created %" PRIu64 " -> %" PRIu64 ")",
			v, a->flows_active, b->flows_active, a->flows_created, b->flows_created);
	for (int d = 0; d < EL_DROP_MAX; d++) {
		uint64_t delta = b->drops[d] - a->drops[d];
		uint64_t want = d == want_drop || d == want_drop2 ? 1 : 0;
		if (d == allowed_drop || delta == want)
			continue;
		fx_fail("verdict %s: drops{reason=\"%s\"} moved by %" PRIu64 " (expected %" PRIu64
			")",
			v, worker_drop_name((enum el_drop)d), delta, want);
	}
}

/* Counters that must agree with what was captured. */
static void
fx_check_tx_counters(const struct el_worker_stats *a, const struct el_worker_stats *b)
{
	unsigned per_iface[EL_SNAP_MAX_IFACES] = {0}, arp_req = 0;

	for (unsigned i = 0; i < fx_cap.n; i++) {
		const uint8_t *f = fx_cap.data[i];
		per_iface[fx_cap.iface[i] % EL_SNAP_MAX_IFACES]++;
		if (fx_cap.len[i] >= 22 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 &&
		    f[21] == 1)
			arp_req++;
		/* a Neighbor Solicitation counts as a request too (worker.h) */
		if (fx_cap.len[i] >= 55 && f[12] == 0x86 && f[13] == 0xdd && f[20] == 58 &&
		    f[54] == 135)
			arp_req++;
	}
	for (unsigned i = 0; i < EL_SNAP_MAX_IFACES; i++)
		if (b->tx_pkts[i] - a->tx_pkts[i] != per_iface[i])
			fx_fail("tx_pkts[%u] moved by %" PRIu64 " but %u frames were sent there", i,
				b->tx_pkts[i] - a->tx_pkts[i], per_iface[i]);
	if (b->arp_requests - a->arp_requests != arp_req)
		fx_fail("arp_requests moved by %" PRIu64 " but %u ARP requests / NS were sent",
			b->arp_requests - a->arp_requests, arp_req);
}

/* Compare the expected frames of one interface with the captured ones, in
 * order; binds variables of alternatives that match. */
static void
fx_check_iface(const struct fx_step *st, uint8_t iface)
{
	const struct fx_out *exp[FX_MAX_OUTS];
	unsigned got[FX_MAX_CAPTURE], n_exp = 0, n_got = 0;

	for (unsigned i = 0; i < st->n_outs; i++)
		if (st->outs[i].iface == iface)
			exp[n_exp++] = &st->outs[i];
	for (unsigned i = 0; i < fx_cap.n; i++)
		if (fx_cap.iface[i] == iface)
			got[n_got++] = i;
	if (n_exp != n_got)
		fx_fail("interface %u: expected %u frame(s), captured %u", iface, n_exp, n_got);

	for (unsigned k = 0; k < n_exp && k < n_got; k++) {
		const struct fx_out *o = exp[k];
		const uint8_t *g = fx_cap.data[got[k]];
		unsigned glen = fx_cap.len[got[k]];
		int var = o->f.var, bound = var >= 0 ? fx_vars[var].value : 0;
		int best = -1, best_at = -1;

		if (var >= 0 && bound >= (int)o->f.n) {
			fx_fail("variable %s bound to alternative %d, frame has %u",
				fx_vars[var].name, bound, o->f.n);
			continue;
		}
		for (unsigned a = 0; a < o->f.n; a++) {
			if (var >= 0 && bound >= 0 && (int)a != bound)
				continue;
			int at = fx_first_diff(o, &o->f.alt[a], g, glen);
			if (at < 0) {
				best = (int)a;
				best_at = -1;
				break;
			}
			if (at > best_at) {
				best = (int)a;
				best_at = at;
			}
		}
		if (best_at < 0) {
			if (var >= 0 && fx_vars[var].value != best) {
				fx_vars[var].value = best;
				if (fx_verbose)
					fprintf(fx_log, "    %s = alternative %d\n",
						fx_vars[var].name, best);
			}
			continue;
		}
		if (var >= 0 && bound >= 0)
			fx_fail("interface %u frame %u differs from alternative %d (variable %s)",
				iface, k + 1, bound, fx_vars[var].name);
		else if (var >= 0)
			fx_fail("interface %u frame %u matches none of %u alternatives "
				"(variable %s); closest is %d",
				iface, k + 1, o->f.n, fx_vars[var].name, best);
		else
			fx_fail("interface %u frame %u differs", iface, k + 1);
		fx_dump_diff(o, &o->f.alt[best], g, glen);
	}
	for (unsigned k = n_exp; k < n_got; k++)
		fx_dump("unexpected frame", fx_cap.data[got[k]], fx_cap.len[got[k]]);
	for (unsigned k = n_got; k < n_exp; k++) {
		const struct fx_frames *f = &exp[k]->f;
		int a = f->var >= 0 && fx_vars[f->var].value >= 0 ? fx_vars[f->var].value : 0;
		fx_dump("missing frame", f->alt[a].data, f->alt[a].len);
	}
}

/* ---- running ---- */

struct fx_env {
	const struct el_snapshot *snap;
	struct rte_mempool *pool;
	uint32_t max_flows;
	uint32_t icmp_errors_per_second;
	uint32_t icmp_errors_burst;
};

/* The frame as one mbuf, or as a chain of segments of @p seg bytes (0: as
 * much as an mbuf holds). */
static struct rte_mbuf *
fx_mbuf(struct rte_mempool *pool, const struct fx_frame *f, uint16_t seg)
{
	struct rte_mbuf *head = NULL;
	uint32_t off = 0;

	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (m == NULL)
			goto fail;
		uint32_t n = f->len - off, room = rte_pktmbuf_tailroom(m);
		if (seg != 0 && n > seg)
			n = seg;
		if (n > room)
			n = room;
		void *p = rte_pktmbuf_append(m, (uint16_t)n);
		if (p == NULL) {
			rte_pktmbuf_free(m);
			goto fail;
		}
		memcpy(p, f->data + off, n);
		off += n;
		if (head == NULL) {
			head = m;
		} else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			goto fail;
		}
	} while (off < f->len);
	return head;
fail:
	rte_pktmbuf_free(head);
	return NULL;
}

/* The expected frame the @p k-th capture on @p iface is compared with. */
static const struct fx_out *
fx_expected(const struct fx_step *st, uint8_t iface, unsigned k)
{
	for (unsigned i = 0; i < st->n_outs; i++)
		if (st->outs[i].iface == iface && k-- == 0)
			return &st->outs[i];
	return NULL;
}

static bool
fx_run_step(struct el_worker *w, const struct fx_env *env, const struct fx_step *st)
{
	struct el_worker_stats before, after;

	memset(&fx_cap, 0, sizeof(fx_cap));
	worker_stats_read(w, &before);
	if (st->has_in) {
		int a = 0;
		if (st->in.var >= 0) {
			a = fx_vars[st->in.var].value;
			if (a < 0 || a >= (int)st->in.n) {
				fx_fail(
				    "input depends on variable %s, which no earlier frame bound",
				    fx_vars[st->in.var].name);
				return false;
			}
		}
		struct rte_mbuf *m = fx_mbuf(env->pool, &st->in.alt[a], st->in.seg);
		if (m == NULL) {
			fx_fail("no mbuf for the input frame");
			return false;
		}
		m->port = st->in_iface;
		worker_process_burst(w, env->snap, st->in_iface, &m, 1, st->now);
	}
	worker_poll_housekeeping(w, env->snap, st->now);
	worker_stats_read(w, &after);

	if (fx_cap.overflow)
		fx_fail("%u frames not captured (more than %d, or too long)", fx_cap.overflow,
			FX_MAX_CAPTURE);
	unsigned seen[EL_SNAP_MAX_IFACES] = {0};
	for (unsigned i = 0; i < fx_cap.n; i++) {
		uint8_t ifc = fx_cap.iface[i] % EL_SNAP_MAX_IFACES;
		const struct fx_out *o = fx_expected(st, ifc, seen[ifc]++);
		const char *why = fx_csum_problem(fx_cap.data[i], fx_cap.len[i]);
		if (o != NULL && o->bad_l4) {
			if (why == fx_bad_tcp || why == fx_bad_udp)
				continue;
			why = why != NULL ? why
					  : "TCP/UDP checksum verifies, but the input's was wrong: "
					    "an end host would take a damaged segment";
		}
		if (why != NULL) {
			fx_fail("interface %u frame: %s", fx_cap.iface[i], why);
			fx_dump("frame", fx_cap.data[i], fx_cap.len[i]);
		}
	}
	for (uint8_t i = 0; i < EL_SNAP_MAX_IFACES; i++)
		fx_check_iface(st, i);
	fx_check_verdict(st, &before, &after);
	fx_check_tx_counters(&before, &after);
	return !fx_failed;
}

static bool
fx_is_setting(const struct fx_step *st)
{
	return strncmp(st->verdict, "set:", 4) == 0;
}

/* Apply the "set:" steps of @p f to @p conf. */
static bool
fx_settings(const struct fx *f, struct el_worker_conf *conf)
{
	for (unsigned s = 0; s < f->n_steps; s++) {
		char buf[sizeof(f->steps[s].verdict)], *save = NULL, *kv;
		if (!fx_is_setting(&f->steps[s]))
			continue;
		snprintf(buf, sizeof(buf), "%s", f->steps[s].verdict + 4);
		for (kv = strtok_r(buf, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(kv, '='), *end;
			unsigned long v;
			if (eq == NULL) {
				fx_fail("setting \"%s\" is not KEY=VALUE", kv);
				return false;
			}
			*eq = '\0';
			v = strtoul(eq + 1, &end, 10);
			if (*end != '\0' || v > UINT32_MAX) {
				fx_fail("setting %s: bad value \"%s\"", kv, eq + 1);
				return false;
			}
			if (strcmp(kv, "max_flows") == 0)
				conf->max_flows = (uint32_t)v;
			else if (strcmp(kv, "new_flows_per_source") == 0)
				conf->new_flows_per_source = (uint32_t)v;
			else if (strcmp(kv, "new_flows_burst") == 0)
				conf->new_flows_burst = (uint32_t)v;
			else if (strcmp(kv, "icmp_errors_per_second") == 0)
				conf->icmp_errors_per_second = (uint32_t)v;
			else if (strcmp(kv, "icmp_errors_burst") == 0)
				conf->icmp_errors_burst = (uint32_t)v;
			else {
				fx_fail("unknown setting %s", kv);
				return false;
			}
		}
	}
	return true;
}

static bool
fx_run(const struct fx *f, const struct fx_env *env)
{
	struct el_worker_conf conf;
	struct el_worker *w;
	unsigned avail = rte_mempool_avail_count(env->pool);

	fx_failed = false;
	fx_vars_reset_local();
	memset(&conf, 0, sizeof(conf));
	conf.index = 0;
	conf.n_workers = 1;
	conf.max_flows = env->max_flows;
	conf.icmp_errors_per_second = env->icmp_errors_per_second;
	conf.icmp_errors_burst = env->icmp_errors_burst;
	conf.socket_id = SOCKET_ID_ANY;
	conf.pool = env->pool;
	conf.tx = fx_tx;
	conf.tx_ctx = &fx_cap;
	conf.snat_port_min = 1024;
	conf.snat_port_max = 65535;
	if (!fx_settings(f, &conf))
		return false;
	rte_srand(1); /* the worker's hash seeds: the same on every run */
	w = worker_create(&conf);
	if (w == NULL) {
		fx_fail("worker_create: %s", rte_strerror(rte_errno));
		return false;
	}
	for (unsigned s = 0; s < f->n_steps; s++) {
		const struct fx_step *st = &f->steps[s];
		if (fx_is_setting(st))
			continue;
		if (!fx_run_step(w, env, st)) {
			fprintf(fx_log,
				"    ^ in step %u (t=%" PRIu64 " ms, verdict %s%s%s), fixture file "
				"line %u\n",
				s + 1, st->now, st->verdict, st->note[0] ? ": " : "", st->note,
				f->line);
			break;
		}
	}
	if (!fx_failed && f->n_distinct > 1) {
		bool all_same = true;
		for (unsigned i = 0; i < f->n_distinct; i++) {
			int v = fx_vars[f->distinct[i]].value;
			if (v < 0)
				fx_fail("variable %s never bound", fx_vars[f->distinct[i]].name);
			if (v != fx_vars[f->distinct[0]].value)
				all_same = false;
		}
		if (all_same)
			fx_fail("every flow of %s went to the same pod without affinity too: the "
				"fixture proves nothing (choose other client ports)",
				fx_vars[f->distinct[0]].name);
	}
	worker_destroy(w);
	if (rte_mempool_avail_count(env->pool) != avail)
		fx_fail("mbuf leak: %d mbufs not returned after worker_destroy",
			(int)avail - (int)rte_mempool_avail_count(env->pool));
	return !fx_failed;
}

/* Run one fixture, then print its result line and, on failure, what went
 * wrong (collected while it ran). */
static bool
fx_run_reported(const struct fx *f, const struct fx_env *env)
{
	char *buf = NULL;
	size_t len = 0;
	bool ok;

	fx_log = open_memstream(&buf, &len);
	if (fx_log == NULL)
		fx_log = stdout;
	fx_verbose = getenv("EL_FIXTURES_VERBOSE") != NULL;
	ok = fx_run(f, env);
	if (fx_log != stdout)
		fclose(fx_log);
	fx_log = stdout;
	printf("%s %s: %s\n", ok ? "ok  " : "FAIL", f->name, f->desc);
	if ((!ok || fx_verbose) && buf != NULL)
		fputs(buf, stdout);
	free(buf);
	return ok;
}

static int
fx_snapshot(const char *config, const char *manifests, struct el_config *cfg,
	    struct el_model *model, struct compile_state **cs, struct el_snapshot **snap)
{
	char err[512];
	int rc;

	rc = config_load(config, cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "config: %s\n", err);
		return rc;
	}
	el_model_init(model);
	rc = manifest_load_path(model, manifests, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "manifests: %s\n", err);
		return rc;
	}
	*cs = compile_state_new(cfg);
	if (*cs == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg->n_ifaces && i < 2; i++)
		compile_set_iface(*cs, i, (uint16_t)i, fx_mac[i]);
	rc = compile_snapshot(*cs, model, snap, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "compile: %s\n", err);
	return rc;
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0],		"--no-huge", "-m", "256",	  "--no-shconf",
		       "--no-pci",	"-l",	     "0",  "--log-level", "lib.eal:error",
		       "--no-telemetry"};
	struct el_config cfg;
	struct el_model model;
	struct compile_state *cs = NULL;
	struct el_snapshot *snap = NULL;
	struct fx_env env;
	struct fx *f;
	unsigned passed = 0, failed = 0, lineno = 0;
	FILE *fp;
	int rc;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: %s CONFIG MANIFEST_DIR FIXTURE_FILE [NAME_SUBSTRING]\n",
			argv[0]);
		return 2;
	}
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fx_log = stdout;
	if (fx_snapshot(argv[1], argv[2], &cfg, &model, &cs, &snap) < 0) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	env.snap = snap;
	env.max_flows = cfg.ct_max_flows ? cfg.ct_max_flows : 4096;
	env.icmp_errors_per_second = cfg.icmp_errors_per_second;
	env.icmp_errors_burst = cfg.icmp_errors_burst;
	env.pool = rte_pktmbuf_pool_create("fixtures", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					   SOCKET_ID_ANY);
	fp = fopen(argv[3], "r");
	f = malloc(sizeof(*f));
	if (env.pool == NULL || fp == NULL || f == NULL) {
		fprintf(stderr, "setup: %s\n", env.pool == NULL ? "no mbuf pool" : strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	while ((rc = fx_read(fp, f, &lineno)) > 0) {
		if (argc == 5 && strstr(f->name, argv[4]) == NULL) {
			fx_free(f);
			continue;
		}
		if (fx_run_reported(f, &env))
			passed++;
		else
			failed++;
		fx_free(f);
	}
	if (rc < 0) {
		printf("FAIL fixture file %s: syntax error at line %u\n", argv[3], lineno);
		failed++;
	}
	fclose(fp);
	free(f);
	compile_snapshot_free(cs, snap);
	compile_state_free(cs);
	el_model_free(&model);
	config_free(&cfg);
	rte_mempool_free(env.pool);
	rte_eal_cleanup();
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
