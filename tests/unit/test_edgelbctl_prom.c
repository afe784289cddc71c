/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgelbctl Prometheus reader: the samples of edgelb's /metrics, labels
 * unescaped, comments skipped, malformed lines refused.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_prom.h"

static const char scrape[] =
    "# HELP edgelb_packets_total Packets received (rx) and sent (tx) per interface.\n"
    "# TYPE edgelb_packets_total counter\n"
    "edgelb_packets_total{port=\"ext\",direction=\"rx\"} 120\n"
    "edgelb_packets_total{port=\"ext\",direction=\"tx\"} 118\n"
    "\n"
    "edgelb_drops_total{reason=\"no_service\"} 0\n"
    "edgelb_flows_active 7\n"
    "edgelb_flows_created_total{service=\"default/web:http\"} 42 1700000000000\n"
    "edgelb_snapshot_publish_seconds 0.000125\n";

static void
test_samples_keep_names_labels_and_values(void **state)
{
	struct ctl_prom p;

	(void)state;
	assert_int_equal(ctl_prom_parse(scrape, strlen(scrape), &p, NULL), 0);
	assert_int_equal(p.n, 6);
	assert_string_equal(p.samples[0].name, "edgelb_packets_total");
	assert_string_equal(ctl_prom_label(&p.samples[0], "port"), "ext");
	assert_string_equal(ctl_prom_label(&p.samples[1], "direction"), "tx");
	assert_true(p.samples[1].value == 118);
	assert_null(ctl_prom_label(&p.samples[0], "reason"));
	assert_int_equal(p.samples[3].n_labels, 0);
	assert_true(p.samples[5].value == 0.000125);
	ctl_prom_free(&p);
}

static void
test_timestamp_after_the_value_is_ignored(void **state)
{
	struct ctl_prom p;

	(void)state;
	assert_int_equal(ctl_prom_parse(scrape, strlen(scrape), &p, NULL), 0);
	assert_string_equal(ctl_prom_label(&p.samples[4], "service"), "default/web:http");
	assert_true(p.samples[4].value == 42);
	ctl_prom_free(&p);
}

static void
test_sum_adds_every_sample_of_a_name(void **state)
{
	struct ctl_prom p;
	size_t found;

	(void)state;
	assert_int_equal(ctl_prom_parse(scrape, strlen(scrape), &p, NULL), 0);
	assert_true(ctl_prom_sum(&p, "edgelb_packets_total", &found) == 238);
	assert_int_equal(found, 2);
	assert_true(ctl_prom_sum(&p, "edgelb_missing", &found) == 0);
	assert_int_equal(found, 0);
	ctl_prom_free(&p);
}

static void
test_label_values_are_unescaped(void **state)
{
	const char *t = "m{a=\"q\\\"x\\\\y\\nz\",b=\"\"} 1\n";
	struct ctl_prom p;

	(void)state;
	assert_int_equal(ctl_prom_parse(t, strlen(t), &p, NULL), 0);
	assert_string_equal(ctl_prom_label(&p.samples[0], "a"), "q\"x\\y\nz");
	assert_string_equal(ctl_prom_label(&p.samples[0], "b"), "");
	ctl_prom_free(&p);
}

static void
test_special_float_values_are_read(void **state)
{
	const char *t = "a +Inf\nb -Inf\nc NaN\nd 1e3\n";
	struct ctl_prom p;

	(void)state;
	assert_int_equal(ctl_prom_parse(t, strlen(t), &p, NULL), 0);
	assert_true(isinf(p.samples[0].value) && p.samples[0].value > 0);
	assert_true(isinf(p.samples[1].value) && p.samples[1].value < 0);
	assert_true(isnan(p.samples[2].value));
	assert_true(p.samples[3].value == 1000);
	ctl_prom_free(&p);
}

static void
test_malformed_line_is_refused_with_its_number(void **state)
{
	static const char *const bad[] = {"ok 1\nm{a=\"x} 1\n", "ok 1\nm 1x\n", "ok 1\nm{a=x} 1\n",
					  "ok 1\n9m 1\n", "ok 1\nm\n"};
	struct ctl_prom p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned line = 0;

		if (ctl_prom_parse(bad[i], strlen(bad[i]), &p, &line) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(line, 2);
		assert_int_equal(p.n, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_samples_keep_names_labels_and_values),
	    cmocka_unit_test(test_timestamp_after_the_value_is_ignored),
	    cmocka_unit_test(test_sum_adds_every_sample_of_a_name),
	    cmocka_unit_test(test_label_values_are_unescaped),
	    cmocka_unit_test(test_special_float_values_are_read),
	    cmocka_unit_test(test_malformed_line_is_refused_with_its_number),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
