/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parsing, printing and comparing the address types of types.h.
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
	if (rc < 0)
		return rc;
	const char *p = slash + 1;
	if (*p < '0' || *p > '9' || strlen(p) > 3)
		return -EINVAL;
	char *end;
	long len = strtol(p, &end, 10);
	if (*end != '\0' || len < 0 || len > (c->addr.family == EL_AF_INET ? 32 : 128))
		return -EINVAL;
	c->len = (uint8_t)len;
	return 0;
}

const char *
el_ip_fmt(const struct el_ip *ip, char *buf, size_t len)
{
	if (ip->family == EL_AF_INET)
		inet_ntop(AF_INET, &ip->v4, buf, len);
	else if (ip->family == EL_AF_INET6)
		inet_ntop(AF_INET6, ip->v6, buf, len);
	else
		snprintf(buf, len, "-");
	return buf;
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

	if (c->addr.family != ip->family)
		return false;
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
