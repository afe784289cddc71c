/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the address functions of control/types.c: what el_ip_parse and
 * el_cidr_parse accept and refuse, prefix arithmetic at the edges (/0, /31,
 * /32, /128, lengths that do not fall on a byte), formatting and ordering.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edgelb/types.h"

static struct el_ip
ip(const char *s)
{
	struct el_ip a;

	if (el_ip_parse(s, &a) != 0)
		fail_msg("\"%s\" should parse", s);
	return a;
}

static struct el_cidr
cidr(const char *s)
{
	struct el_cidr c;

	if (el_cidr_parse(s, &c) != 0)
		fail_msg("\"%s\" should parse", s);
	return c;
}

static void
assert_ip_refused(const char *s)
{
	struct el_ip a;

	memset(&a, 0xa5, sizeof(a));
	if (el_ip_parse(s, &a) != -EINVAL)
		fail_msg("\"%s\" should be refused", s);
	assert_int_equal(a.family, EL_AF_NONE);
}

static void
assert_cidr_refused(const char *s)
{
	struct el_cidr c;

	if (el_cidr_parse(s, &c) != -EINVAL)
		fail_msg("\"%s\" should be refused", s);
	assert_int_equal(c.addr.family, EL_AF_NONE);
}

static void
assert_contains(const char *prefix, const char *addr, bool want)
{
	struct el_cidr c = cidr(prefix);
	struct el_ip a = ip(addr);

	if (el_cidr_contains(&c, &a) != want)
		fail_msg("%s %s %s", prefix, want ? "should contain" : "should not contain", addr);
}

/* ---- el_ip_parse ------------------------------------------------------ */

static void
ipv4_is_stored_in_network_order(void **state)
{
	struct el_ip a = ip("198.18.0.1");

	(void)state;
	assert_int_equal(a.family, EL_AF_INET);
	assert_int_equal(a.v4, htonl(0xc6120001));
}

static void
ipv4_with_an_octet_above_255_is_refused(void **state)
{
	(void)state;
	assert_ip_refused("256.1.1.1");
	assert_ip_refused("198.18.2.300");
	assert_ip_refused("1.2.3.1000");
}

static void
ipv4_with_three_or_five_parts_is_refused(void **state)
{
	(void)state;
	assert_ip_refused("1.2.3");
	assert_ip_refused("1.2.3.4.5");
	assert_ip_refused("1.2.3.");
	assert_ip_refused("1..2.3");
}

static void
ipv4_with_leading_junk_is_refused(void **state)
{
	(void)state;
	assert_ip_refused(" 1.2.3.4");
	assert_ip_refused("x1.2.3.4");
	assert_ip_refused("+1.2.3.4");
	assert_ip_refused("0x1.2.3.4");
}

static void
ipv4_with_trailing_junk_is_refused(void **state)
{
	(void)state;
	assert_ip_refused("1.2.3.4 ");
	assert_ip_refused("1.2.3.4x");
	assert_ip_refused("1.2.3.4/24");
	assert_ip_refused("1.2.3.4:80");
}

static void
ipv4_octet_with_leading_zero_is_refused(void **state)
{
	(void)state;
	/* Some libraries read "010" as octal 8; refusing it avoids the doubt. */
	assert_ip_refused("01.2.3.4");
	assert_ip_refused("1.2.3.010");
}

static void
empty_or_null_address_is_refused(void **state)
{
	struct el_ip a;

	(void)state;
	assert_ip_refused("");
	assert_int_equal(el_ip_parse(NULL, &a), -EINVAL);
}

static void
ipv6_text_forms_are_accepted(void **state)
{
	struct el_ip a, b;

	(void)state;
	a = ip("::");
	assert_int_equal(a.family, EL_AF_INET6);
	a = ip("2001:db8::1");
	assert_int_equal(a.v6[0], 0x20);
	assert_int_equal(a.v6[1], 0x01);
	assert_int_equal(a.v6[15], 0x01);
	b = ip("2001:0db8:0000:0000:0000:0000:0000:0001");
	assert_true(el_ip_eq(&a, &b));
	a = ip("::ffff:198.18.0.1");
	assert_int_equal(a.family, EL_AF_INET6);
	assert_int_equal(a.v6[12], 198);
}

static void
malformed_ipv6_is_refused(void **state)
{
	(void)state;
	assert_ip_refused("2001:db8::1::2");
	assert_ip_refused("2001:db8:::1");
	assert_ip_refused("12345::");
	assert_ip_refused("[::1]");
	assert_ip_refused("fe80::1%lo");
	assert_ip_refused("1:2:3:4:5:6:7:8:9");
	assert_ip_refused("::g");
}

/* ---- el_cidr_parse ---------------------------------------------------- */

static void
cidr_keeps_address_and_length(void **state)
{
	struct el_cidr c = cidr("198.18.0.1/24");

	(void)state;
	/* Host bits stay: an interface address is written this way. */
	assert_int_equal(c.addr.v4, htonl(0xc6120001));
	assert_int_equal(c.len, 24);
	c = cidr("2001:db8::/32");
	assert_int_equal(c.addr.family, EL_AF_INET6);
	assert_int_equal(c.len, 32);
}

static void
cidr_without_length_is_a_host_prefix(void **state)
{
	(void)state;
	assert_int_equal(cidr("198.18.0.1").len, 32);
	assert_int_equal(cidr("2001:db8::1").len, 128);
}

static void
cidr_lengths_at_the_limits_are_accepted(void **state)
{
	(void)state;
	assert_int_equal(cidr("0.0.0.0/0").len, 0);
	assert_int_equal(cidr("1.2.3.4/32").len, 32);
	assert_int_equal(cidr("::/0").len, 0);
	assert_int_equal(cidr("2001:db8::1/128").len, 128);
}

static void
ipv4_length_33_is_refused(void **state)
{
	(void)state;
	assert_cidr_refused("1.2.3.4/33");
	assert_cidr_refused("1.2.3.4/100");
	assert_cidr_refused("1.2.3.4/1000");
}

static void
ipv6_length_129_is_refused(void **state)
{
	(void)state;
	assert_cidr_refused("2001:db8::/129");
	assert_cidr_refused("2001:db8::/999");
}

static void
malformed_length_is_refused(void **state)
{
	(void)state;
	assert_cidr_refused("1.2.3.4/");
	assert_cidr_refused("/24");
	assert_cidr_refused("1.2.3.4/-1");
	assert_cidr_refused("1.2.3.4/+8");
	assert_cidr_refused("1.2.3.4/ 8");
	assert_cidr_refused("1.2.3.4/8 ");
	assert_cidr_refused("1.2.3.4/8x");
	assert_cidr_refused("1.2.3.4/8/8");
	assert_cidr_refused("1.2.3.4/024");
	assert_cidr_refused("1.2.3/24");
	assert_cidr_refused("");
}

static void
very_long_cidr_text_is_refused(void **state)
{
	char s[200];

	(void)state;
	memset(s, '1', sizeof(s) - 4);
	memcpy(s + sizeof(s) - 4, "/24", 4);
	assert_cidr_refused(s);
}

/* ---- el_cidr_network and el_cidr_contains ----------------------------- */

static void
network_clears_the_host_bits(void **state)
{
	struct el_cidr n, c;
	char b[EL_IP_STRLEN];

	(void)state;
	c = cidr("198.18.0.77/24");
	el_cidr_network(&c, &n);
	assert_string_equal(el_ip_fmt(&n.addr, b, sizeof(b)), "198.18.0.0");
	assert_int_equal(n.len, 24);
	c = cidr("198.18.3.255/23");
	el_cidr_network(&c, &c); /* in place */
	assert_string_equal(el_ip_fmt(&c.addr, b, sizeof(b)), "198.18.2.0");
	c = cidr("198.18.0.3/31");
	el_cidr_network(&c, &n);
	assert_string_equal(el_ip_fmt(&n.addr, b, sizeof(b)), "198.18.0.2");
	c = cidr("198.18.0.3/32");
	el_cidr_network(&c, &n);
	assert_string_equal(el_ip_fmt(&n.addr, b, sizeof(b)), "198.18.0.3");
	c = cidr("255.255.255.255/0");
	el_cidr_network(&c, &n);
	assert_string_equal(el_ip_fmt(&n.addr, b, sizeof(b)), "0.0.0.0");
	c = cidr("2001:db8:1:2:3:4:5:6/64");
	el_cidr_network(&c, &n);
	assert_string_equal(el_ip_fmt(&n.addr, b, sizeof(b)), "2001:db8:1:2::");
	c = cidr("2001:db8::ffff/127");
	el_cidr_network(&c, &n);
	assert_string_equal(el_ip_fmt(&n.addr, b, sizeof(b)), "2001:db8::fffe");
	c = cidr("2001:db8::ffff/0");
	el_cidr_network(&c, &n);
	assert_string_equal(el_ip_fmt(&n.addr, b, sizeof(b)), "::");
}

static void
prefix_0_contains_every_address_of_its_family(void **state)
{
	(void)state;
	assert_contains("0.0.0.0/0", "0.0.0.0", true);
	assert_contains("0.0.0.0/0", "255.255.255.255", true);
	assert_contains("0.0.0.0/0", "198.18.0.1", true);
	assert_contains("::/0", "2001:db8::1", true);
	assert_contains("0.0.0.0/0", "::", false);
	assert_contains("::/0", "0.0.0.0", false);
}

static void
prefix_32_contains_only_its_address(void **state)
{
	(void)state;
	assert_contains("198.18.0.1/32", "198.18.0.1", true);
	assert_contains("198.18.0.1/32", "198.18.0.0", false);
	assert_contains("198.18.0.1/32", "198.18.0.2", false);
	assert_contains("198.18.0.1/32", "199.18.0.1", false);
}

static void
prefix_31_contains_a_pair(void **state)
{
	(void)state;
	assert_contains("198.18.0.2/31", "198.18.0.2", true);
	assert_contains("198.18.0.2/31", "198.18.0.3", true);
	assert_contains("198.18.0.2/31", "198.18.0.1", false);
	assert_contains("198.18.0.2/31", "198.18.0.4", false);
}

static void
prefix_edges_are_inside_and_neighbours_outside(void **state)
{
	(void)state;
	assert_contains("198.18.0.1/24", "198.18.0.0", true);
	assert_contains("198.18.0.1/24", "198.18.0.255", true);
	assert_contains("198.18.0.1/24", "198.18.1.0", false);
	assert_contains("198.18.0.1/24", "198.17.255.255", false);
	assert_contains("198.18.0.0/15", "198.19.255.255", true);
	assert_contains("198.18.0.0/15", "198.20.0.0", false);
	assert_contains("128.0.0.0/1", "127.255.255.255", false);
	assert_contains("128.0.0.0/1", "255.0.0.0", true);
	assert_contains("10.128.0.0/9", "10.127.0.1", false);
	assert_contains("10.128.0.0/9", "10.255.0.1", true);
}

static void
ipv6_prefixes_contain_by_bits(void **state)
{
	(void)state;
	assert_contains("2001:db8::/32", "2001:db8:ffff::1", true);
	assert_contains("2001:db8::/32", "2001:db9::1", false);
	assert_contains("2001:db8::1/128", "2001:db8::1", true);
	assert_contains("2001:db8::1/128", "2001:db8::2", false);
	assert_contains("2001:db8::/127", "2001:db8::1", true);
	assert_contains("2001:db8::/127", "2001:db8::2", false);
	assert_contains("fe80::/10", "febf::1", true);
	assert_contains("fe80::/10", "fec0::1", false);
}

static void
contains_with_an_impossible_length_treats_it_as_full(void **state)
{
	struct el_cidr c = cidr("198.18.0.1/32");
	struct el_ip same = ip("198.18.0.1"), other = ip("198.18.0.2");

	(void)state;
	c.len = 200; /* built by hand, not by the parser */
	assert_true(el_cidr_contains(&c, &same));
	assert_false(el_cidr_contains(&c, &other));
}

static void
unset_address_is_in_no_prefix(void **state)
{
	struct el_cidr c = cidr("0.0.0.0/0");
	struct el_ip none = {0};

	(void)state;
	assert_false(el_cidr_contains(&c, &none));
}

/* ---- el_ip_fmt, el_ip_eq, el_ip_cmp ------------------------------------ */

static void
format_round_trips(void **state)
{
	char b[EL_IP_STRLEN];
	struct el_ip a;

	(void)state;
	a = ip("198.18.0.1");
	assert_string_equal(el_ip_fmt(&a, b, sizeof(b)), "198.18.0.1");
	a = ip("2001:0db8:0:0:0:0:0:1");
	assert_string_equal(el_ip_fmt(&a, b, sizeof(b)), "2001:db8::1");
	a = ip("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	assert_string_equal(el_ip_fmt(&a, b, sizeof(b)), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void
format_of_unset_address_is_a_dash(void **state)
{
	char b[EL_IP_STRLEN];
	struct el_ip none = {0};

	(void)state;
	assert_string_equal(el_ip_fmt(&none, b, sizeof(b)), "-");
}

static void
format_into_a_short_buffer_gives_empty_text(void **state)
{
	char b[8];
	struct el_ip a = ip("198.18.0.100");

	(void)state;
	memset(b, 'x', sizeof(b));
	assert_string_equal(el_ip_fmt(&a, b, sizeof(b)), "");
}

static void
equality_needs_same_family_and_bytes(void **state)
{
	struct el_ip a = ip("198.18.0.1"), b = ip("198.18.0.1"), c = ip("198.18.0.2");
	struct el_ip m = ip("::ffff:198.18.0.1");

	(void)state;
	assert_true(el_ip_eq(&a, &b));
	assert_false(el_ip_eq(&a, &c));
	assert_false(el_ip_eq(&a, &m));
}

static void
ordering_is_family_then_address(void **state)
{
	struct el_ip a = ip("10.0.0.2"), b = ip("10.0.1.1"), c = ip("255.255.255.255");
	struct el_ip d = ip("::"), e = ip("2001:db8::1");

	(void)state;
	assert_true(el_ip_cmp(&a, &b) < 0); /* network order, not host order */
	assert_true(el_ip_cmp(&b, &a) > 0);
	assert_int_equal(el_ip_cmp(&a, &a), 0);
	assert_true(el_ip_cmp(&c, &d) < 0); /* every IPv4 before every IPv6 */
	assert_true(el_ip_cmp(&d, &e) < 0);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ipv4_is_stored_in_network_order),
	    cmocka_unit_test(ipv4_with_an_octet_above_255_is_refused),
	    cmocka_unit_test(ipv4_with_three_or_five_parts_is_refused),
	    cmocka_unit_test(ipv4_with_leading_junk_is_refused),
	    cmocka_unit_test(ipv4_with_trailing_junk_is_refused),
	    cmocka_unit_test(ipv4_octet_with_leading_zero_is_refused),
	    cmocka_unit_test(empty_or_null_address_is_refused),
	    cmocka_unit_test(ipv6_text_forms_are_accepted),
	    cmocka_unit_test(malformed_ipv6_is_refused),
	    cmocka_unit_test(cidr_keeps_address_and_length),
	    cmocka_unit_test(cidr_without_length_is_a_host_prefix),
	    cmocka_unit_test(cidr_lengths_at_the_limits_are_accepted),
	    cmocka_unit_test(ipv4_length_33_is_refused),
	    cmocka_unit_test(ipv6_length_129_is_refused),
	    cmocka_unit_test(malformed_length_is_refused),
	    cmocka_unit_test(very_long_cidr_text_is_refused),
	    cmocka_unit_test(network_clears_the_host_bits),
	    cmocka_unit_test(prefix_0_contains_every_address_of_its_family),
	    cmocka_unit_test(prefix_32_contains_only_its_address),
	    cmocka_unit_test(prefix_31_contains_a_pair),
	    cmocka_unit_test(prefix_edges_are_inside_and_neighbours_outside),
	    cmocka_unit_test(ipv6_prefixes_contain_by_bits),
	    cmocka_unit_test(contains_with_an_impossible_length_treats_it_as_full),
	    cmocka_unit_test(unset_address_is_in_no_prefix),
	    cmocka_unit_test(format_round_trips),
	    cmocka_unit_test(format_of_unset_address_is_a_dash),
	    cmocka_unit_test(format_into_a_short_buffer_gives_empty_text),
	    cmocka_unit_test(equality_needs_same_family_and_bytes),
	    cmocka_unit_test(ordering_is_family_then_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
