/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parsing, printing and comparing the address types of types.h. Text forms
 * are those of inet_pton(3) (dotted quad without leading zeros, RFC 4291
 * section 2.2 for IPv6) plus "/LEN" for prefixes (RFC 4632).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelb/types.h"

int
el_ip_parse(const char *s, struct el_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, ip->v6) != 1)
			return -EINVAL;
		ip->family = EL_AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, s, &ip->v4) != 1)
		return -EINVAL;
	ip->family = EL_AF_INET;
	return 0;
}

int
el_cidr_parse(const char *s, struct el_cidr *c)
{
	char buf[64];
	const char *slash;
	int rc;

	memset(c, 0, sizeof(*c));
	if (s == NULL)
		return -EINVAL;
	slash = strchr(s, '/');
	if (slash == NULL) {
		rc = el_ip_parse(s, &c->addr);
		if (rc < 0)
			return rc;
		c->len = c->addr.family == EL_AF_INET ? 32 : 128;
		return 0;
	}
	if ((size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, slash - s);
	buf[slash - s] = '\0';
	rc = el_ip_parse(buf, &c->addr);
	if (rc < 0) {
		memset(c, 0, sizeof(*c));
		return rc;
	}
	const char *p = slash + 1;
	/* Decimal digits only, no sign, no spaces, no leading zero ("/024"). */
	if (*p < '0' || *p > '9' || strlen(p) > 3 || (p[0] == '0' && p[1] != '\0')) {
		memset(c, 0, sizeof(*c));
		return -EINVAL;
	}
	char *end;
	long len = strtol(p, &end, 10);
	if (*end != '\0' || len < 0 || len > (c->addr.family == EL_AF_INET ? 32 : 128)) {
		memset(c, 0, sizeof(*c));
		return -EINVAL;
	}
	c->len = (uint8_t)len;
	return 0;
}

const char *
el_ip_fmt(const struct el_ip *ip, char *buf, size_t len)
{
	const char *r = buf;

	if (len == 0)
		return buf;
	if (ip->family == EL_AF_INET)
		r = inet_ntop(AF_INET, &ip->v4, buf, (socklen_t)len);
	else if (ip->family == EL_AF_INET6)
		r = inet_ntop(AF_INET6, ip->v6, buf, (socklen_t)len);
	else
		snprintf(buf, len, "-");
	/* A buffer too small leaves no half-written text behind. */
	if (r == NULL)
		buf[0] = '\0';
	return buf;
}

/* Width in bits of an address family; 0 for "unset". */
static unsigned
ip_bits(uint8_t family)
{
	return family == EL_AF_INET ? 32 : family == EL_AF_INET6 ? 128 : 0;
}

void
el_cidr_network(const struct el_cidr *c, struct el_cidr *net)
{
	unsigned bits = ip_bits(c->addr.family);
	unsigned len = c->len < bits ? c->len : bits;
	uint8_t *p;
	unsigned i;

	if (net != c)
		*net = *c;
	net->len = (uint8_t)len;
	p = net->addr.family == EL_AF_INET ? (uint8_t *)&net->addr.v4 : net->addr.v6;
	for (i = 0; i < bits / 8; i++) {
		if (len >= 8 * (i + 1))
			continue;
		if (len <= 8 * i)
			p[i] = 0;
		else
			p[i] &= (uint8_t)(0xff << (8 * (i + 1) - len));
	}
}

bool
el_ip_eq(const struct el_ip *a, const struct el_ip *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == EL_AF_INET)
		return a->v4 == b->v4;
	if (a->family == EL_AF_INET6)
		return memcmp(a->v6, b->v6, 16) == 0;
	return true;
}

bool
el_cidr_contains(const struct el_cidr *c, const struct el_ip *ip)
{
	const uint8_t *pa, *pb;
	unsigned bits = c->len, i;

	if (c->addr.family != ip->family || ip->family == EL_AF_NONE)
		return false;
	/* A length past the family's width would read beyond the address. */
	if (bits > ip_bits(ip->family))
		bits = ip_bits(ip->family);
	if (ip->family == EL_AF_INET) {
		pa = (const uint8_t *)&c->addr.v4;
		pb = (const uint8_t *)&ip->v4;
	} else {
		pa = c->addr.v6;
		pb = ip->v6;
	}
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (pa[i] != pb[i])
			return false;
	if (bits == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - bits));
	return (pa[i] & mask) == (pb[i] & mask);
}

int
el_ip_cmp(const struct el_ip *a, const struct el_ip *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->family == EL_AF_INET)
		return memcmp(&a->v4, &b->v4, 4);
	if (a->family == EL_AF_INET6)
		return memcmp(a->v6, b->v6, 16);
	return 0;
}
