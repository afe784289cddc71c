/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgelbctl documents: YAML (1.1 plain scalar typing) and JSON in, JSON and
 * YAML out. What a manifest says must reach the API with the same types
 * kubectl would send.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_doc.h"

/* Compact JSON of the single document of a YAML text. */
static char *
json_of(const char *yaml)
{
	struct ctl_node *doc;
	struct ctl_buf b = {0};
	char err[256];

	if (ctl_doc_load_one(yaml, strlen(yaml), &doc, err, sizeof(err)) != 0) {
		print_error("load failed: %s\n", err);
		return NULL;
	}
	assert_int_equal(ctl_doc_to_json(doc, 0, &b), 0);
	ctl_doc_free(doc);
	return ctl_buf_take(&b);
}

static void
expect_json(const char *yaml, const char *json)
{
	char *got = json_of(yaml);

	assert_non_null(got);
	assert_string_equal(got, json);
	free(got);
}

/* The type and JSON spelling of one plain scalar. */
static void
expect_scalar(const char *plain, int type, const char *norm)
{
	char *out = NULL;
	int got = ctl_doc_resolve(plain, strlen(plain), &out);

	if (got != type)
		print_error("\"%s\": type %d, expected %d\n", plain, got, type);
	assert_int_equal(got, type);
	assert_string_equal(out, norm);
	free(out);
}

static int
load_fails(const char *yaml, char *err, size_t errlen)
{
	struct ctl_node **docs;
	size_t n;
	int rc = ctl_doc_load(yaml, strlen(yaml), &docs, &n, err, errlen);

	if (rc == 0)
		ctl_doc_free_all(docs, n);
	return rc;
}

static void
test_plain_integer_becomes_a_json_number(void **state)
{
	(void)state;
	expect_json("port: 80\n", "{\"port\":80}");
}

static void
test_quoted_number_stays_a_string(void **state)
{
	(void)state;
	expect_json("targetPort: \"8080\"\nnodePort: '30080'\n",
		    "{\"targetPort\":\"8080\",\"nodePort\":\"30080\"}");
}

static void
test_block_scalar_is_always_a_string(void **state)
{
	(void)state;
	expect_json("a: |\n  123\nb: >-\n  true\n", "{\"a\":\"123\\n\",\"b\":\"true\"}");
}

static void
test_yaml11_boolean_spellings_become_booleans(void **state)
{
	static const char *const trues[] = {"true", "True", "TRUE", "yes", "Yes",
					    "YES",  "on",   "On",   "ON",  "y"};
	static const char *const falses[] = {"false", "False", "FALSE", "no",  "No",
					     "NO",    "off",   "Off",	"OFF", "n"};

	(void)state;
	for (size_t i = 0; i < sizeof(trues) / sizeof(trues[0]); i++)
		expect_scalar(trues[i], CTL_NODE_BOOL, "true");
	for (size_t i = 0; i < sizeof(falses) / sizeof(falses[0]); i++)
		expect_scalar(falses[i], CTL_NODE_BOOL, "false");
}

static void
test_null_spellings_become_null(void **state)
{
	(void)state;
	expect_scalar("~", CTL_NODE_NULL, "null");
	expect_scalar("null", CTL_NODE_NULL, "null");
	expect_scalar("NULL", CTL_NODE_NULL, "null");
	expect_json("a:\nb: ~\n", "{\"a\":null,\"b\":null}");
}

static void
test_hex_octal_binary_and_underscored_ints_become_decimal(void **state)
{
	(void)state;
	expect_scalar("0x1F", CTL_NODE_INT, "31");
	expect_scalar("017", CTL_NODE_INT, "15");
	expect_scalar("0b101", CTL_NODE_INT, "5");
	expect_scalar("1_000", CTL_NODE_INT, "1000");
	expect_scalar("-42", CTL_NODE_INT, "-42");
	expect_scalar("+7", CTL_NODE_INT, "7");
	expect_scalar("0", CTL_NODE_INT, "0");
}

static void
test_integer_beyond_64_bits_keeps_its_digits(void **state)
{
	(void)state;
	expect_scalar("123456789012345678901234567890", CTL_NODE_INT,
		      "123456789012345678901234567890");
}

static void
test_floats_get_a_json_spelling(void **state)
{
	(void)state;
	expect_scalar("1.5", CTL_NODE_FLOAT, "1.5");
	expect_scalar(".5", CTL_NODE_FLOAT, "0.5");
	expect_scalar("1.", CTL_NODE_FLOAT, "1.0");
	expect_scalar("-2.5e3", CTL_NODE_FLOAT, "-2500.0");
	expect_scalar("+0.1", CTL_NODE_FLOAT, "0.1");
	expect_scalar("6.02e+23", CTL_NODE_FLOAT, "6.02e+23");
}

static void
test_float_with_exponent_is_written_so_it_reads_back_as_a_float(void **state)
{
	(void)state;
	/* "%g" gives "1e+53", which YAML 1.1 reads as a string */
	expect_scalar("1.e53", CTL_NODE_FLOAT, "1.0e+53");
	expect_scalar("-1.0e-7", CTL_NODE_FLOAT, "-1.0e-07");
	expect_scalar("1.0e+53", CTL_NODE_FLOAT, "1.0e+53");
	expect_json("a: 1.e53\n", "{\"a\":1.0e+53}");
}

static void
test_lookalikes_of_numbers_stay_strings(void **state)
{
	static const char *const strs[] = {"1e3",   "1:20", "08",    ".inf", ".nan", "0x",
					   "12abc", "v1",   "1.2.3", "-",    "_1",   "1.5e"};

	(void)state;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		expect_scalar(strs[i], CTL_NODE_STR, strs[i]);
}

static void
test_addresses_and_names_stay_strings(void **state)
{
	(void)state;
	expect_json("ip: 198.18.2.11\nv6: 2001:db8::1\nname: web\n",
		    "{\"ip\":\"198.18.2.11\",\"v6\":\"2001:db8::1\",\"name\":\"web\"}");
}

static void
test_str_tag_keeps_a_number_a_string(void **state)
{
	(void)state;
	expect_json("a: !!str 80\nb: !!int \"81\"\n", "{\"a\":\"80\",\"b\":81}");
}

static void
test_json_string_escapes_are_written(void **state)
{
	(void)state;
	expect_json("s: \"q\\\" b\\\\ n\\n t\\t c\\x01 \\u00e9\"\n",
		    "{\"s\":\"q\\\" b\\\\ n\\n t\\t c\\u0001 \xc3\xa9\"}");
}

static void
test_characters_yaml_reads_differently_are_escaped_in_json(void **state)
{
	(void)state;
	/* NEL, LS and PS are line breaks to YAML 1.1, DEL and C1 controls are
	 * not printable, U+FEFF is a byte order mark: raw in JSON, a YAML
	 * reader (edgelb's) would fold or refuse them */
	expect_json("s: \"a\\Nb\\Lc\\Pd\"\n", "{\"s\":\"a\\u0085b\\u2028c\\u2029d\"}");
	expect_json("s: \"\\x7f\\x80\\x9f\\ufeff\\xa0\"\n",
		    "{\"s\":\"\\u007f\\u0080\\u009f\\ufeff\xc2\xa0\"}");
}

static void
test_nested_maps_and_sequences_keep_their_order(void **state)
{
	(void)state;
	expect_json("spec:\n  z: 1\n  ports:\n  - {port: 80, name: http}\n  - port: 443\n  a: []\n"
		    "  b: {}\n",
		    "{\"spec\":{\"z\":1,\"ports\":[{\"port\":80,\"name\":\"http\"},{\"port\":443}],"
		    "\"a\":[],\"b\":{}}}");
}

static void
test_json_input_reads_like_yaml(void **state)
{
	(void)state;
	expect_json("{\"kind\":\"Service\",\"spec\":{\"ports\":[{\"port\":80,\"x\":1.25,\"t\":true,"
		    "\"n\":null,\"s\":\"80\"}]}}",
		    "{\"kind\":\"Service\",\"spec\":{\"ports\":[{\"port\":80,\"x\":1.25,\"t\":true,"
		    "\"n\":null,\"s\":\"80\"}]}}");
}

static void
test_scalar_keys_become_string_keys(void **state)
{
	(void)state;
	expect_json("80: http\ntrue: x\n", "{\"80\":\"http\",\"true\":\"x\"}");
}

static void
test_every_document_of_a_stream_is_returned(void **state)
{
	const char *yaml = "a: 1\n---\n---\nb: 2\n...\n---\n- 3\n";
	struct ctl_node **docs;
	char err[128];
	size_t n;

	(void)state;
	assert_int_equal(ctl_doc_load(yaml, strlen(yaml), &docs, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_int_equal(docs[0]->type, CTL_NODE_MAP);
	assert_int_equal(docs[1]->type, CTL_NODE_NULL);
	assert_string_equal(ctl_doc_str(docs[2], "b", NULL), "2");
	assert_int_equal(docs[3]->type, CTL_NODE_SEQ);
	ctl_doc_free_all(docs, n);
}

static void
test_empty_stream_has_no_documents(void **state)
{
	struct ctl_node **docs;
	char err[128];
	size_t n = 99;

	(void)state;
	assert_int_equal(ctl_doc_load("# only a comment\n", 17, &docs, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	ctl_doc_free_all(docs, n);
}

static void
test_duplicate_key_is_refused_with_its_line(void **state)
{
	char err[128];

	(void)state;
	assert_int_equal(load_fails("a: 1\nb: 2\na: 3\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 3"));
	assert_non_null(strstr(err, "duplicate key \"a\""));
}

static void
test_syntax_error_names_its_document_and_line(void **state)
{
	char err[128];

	(void)state;
	assert_int_equal(load_fails("a: 1\n---\nb: [1, 2\nc: 3\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "document 2, line 4: "));
}

static void
test_tab_indentation_error_says_so(void **state)
{
	char err[160];

	(void)state;
	assert_int_equal(load_fails("metadata:\n\tname: x\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "a tab"));
}

static void
test_aliases_are_expanded(void **state)
{
	(void)state;
	expect_json("base: &p {port: 80}\nother: *p\n",
		    "{\"base\":{\"port\":80},\"other\":{\"port\":80}}");
}

static void
test_unknown_alias_is_refused(void **state)
{
	char err[128];

	(void)state;
	assert_int_equal(load_fails("a: *nope\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nope"));
}

static void
test_alias_bomb_is_refused(void **state)
{
	struct ctl_buf b = {0};
	char err[128];

	(void)state;
	ctl_buf_adds(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 9; i++)
		ctl_buf_addf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i,
			     i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	assert_int_equal(load_fails(ctl_buf_str(&b), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too many"));
	ctl_buf_free(&b);
}

static void
test_too_deep_nesting_is_refused(void **state)
{
	struct ctl_buf b = {0};
	char err[128];

	(void)state;
	for (int i = 0; i < CTL_DOC_MAX_DEPTH + 2; i++)
		ctl_buf_adds(&b, "[");
	for (int i = 0; i < CTL_DOC_MAX_DEPTH + 2; i++)
		ctl_buf_adds(&b, "]");
	assert_int_equal(load_fails(ctl_buf_str(&b), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "deeper"));
	ctl_buf_free(&b);
}

static void
test_pretty_json_puts_one_member_per_line(void **state)
{
	struct ctl_node *doc;
	struct ctl_buf b = {0};
	char err[64];

	(void)state;
	assert_int_equal(ctl_doc_load_one("{a: 1, b: [x], c: {}}", 21, &doc, err, sizeof(err)), 0);
	assert_int_equal(ctl_doc_to_json(doc, 4, &b), 0);
	assert_string_equal(
	    ctl_buf_str(&b),
	    "{\n    \"a\": 1,\n    \"b\": [\n        \"x\"\n    ],\n    \"c\": {}\n}");
	ctl_buf_free(&b);
	ctl_doc_free(doc);
}

static void
test_yaml_output_quotes_strings_that_look_like_other_types(void **state)
{
	struct ctl_node *doc;
	struct ctl_buf b = {0};
	char err[64];
	const char *json =
	    "{\"s\":\"8080\",\"t\":\"true\",\"e\":\"\",\"port\":8080,\"name\":\"web\"}";

	(void)state;
	assert_int_equal(ctl_doc_load_one(json, strlen(json), &doc, err, sizeof(err)), 0);
	assert_int_equal(ctl_doc_to_yaml(doc, &b), 0);
	assert_string_equal(ctl_buf_str(&b),
			    "s: \"8080\"\nt: \"true\"\ne: \"\"\nport: 8080\nname: web\n");
	ctl_buf_free(&b);
	ctl_doc_free(doc);
}

static void
test_yaml_output_reads_back_as_the_same_document(void **state)
{
	const char *json = "{\"a\":[1,\"2\",{\"b\":null,\"c\":\"multi\\nline\"}],\"d\":{\"e\":1.5,"
			   "\"f\":\"yes\",\"g\":[]}}";
	struct ctl_node *doc, *back;
	struct ctl_buf y = {0}, j = {0};
	char err[64];

	(void)state;
	assert_int_equal(ctl_doc_load_one(json, strlen(json), &doc, err, sizeof(err)), 0);
	assert_int_equal(ctl_doc_to_yaml(doc, &y), 0);
	assert_int_equal(ctl_doc_load_one(y.p, y.len, &back, err, sizeof(err)), 0);
	assert_int_equal(ctl_doc_to_json(back, 0, &j), 0);
	assert_string_equal(ctl_buf_str(&j), json);
	ctl_buf_free(&y);
	ctl_buf_free(&j);
	ctl_doc_free(doc);
	ctl_doc_free(back);
}

static void
test_lookups_walk_nested_mappings(void **state)
{
	struct ctl_node *doc;
	char err[64];
	const char *y = "metadata: {name: web, labels: {kubernetes.io/service-name: x}}\n"
			"spec: {ports: [1]}\n";

	(void)state;
	assert_int_equal(ctl_doc_load_one(y, strlen(y), &doc, err, sizeof(err)), 0);
	assert_string_equal(ctl_doc_str(doc, "metadata", "name", NULL), "web");
	assert_string_equal(
	    ctl_doc_str(doc, "metadata", "labels", "kubernetes.io/service-name", NULL), "x");
	assert_non_null(ctl_doc_seq(doc, "spec", "ports", NULL));
	assert_null(ctl_doc_seq(doc, "metadata", NULL));
	assert_null(ctl_doc_str(doc, "metadata", "missing", NULL));
	assert_null(ctl_doc_str(doc, "spec", NULL));
	ctl_doc_free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_integer_becomes_a_json_number),
	    cmocka_unit_test(test_quoted_number_stays_a_string),
	    cmocka_unit_test(test_block_scalar_is_always_a_string),
	    cmocka_unit_test(test_yaml11_boolean_spellings_become_booleans),
	    cmocka_unit_test(test_null_spellings_become_null),
	    cmocka_unit_test(test_hex_octal_binary_and_underscored_ints_become_decimal),
	    cmocka_unit_test(test_integer_beyond_64_bits_keeps_its_digits),
	    cmocka_unit_test(test_floats_get_a_json_spelling),
	    cmocka_unit_test(test_float_with_exponent_is_written_so_it_reads_back_as_a_float),
	    cmocka_unit_test(test_lookalikes_of_numbers_stay_strings),
	    cmocka_unit_test(test_addresses_and_names_stay_strings),
	    cmocka_unit_test(test_str_tag_keeps_a_number_a_string),
	    cmocka_unit_test(test_json_string_escapes_are_written),
	    cmocka_unit_test(test_characters_yaml_reads_differently_are_escaped_in_json),
	    cmocka_unit_test(test_nested_maps_and_sequences_keep_their_order),
	    cmocka_unit_test(test_json_input_reads_like_yaml),
	    cmocka_unit_test(test_scalar_keys_become_string_keys),
	    cmocka_unit_test(test_every_document_of_a_stream_is_returned),
	    cmocka_unit_test(test_empty_stream_has_no_documents),
	    cmocka_unit_test(test_duplicate_key_is_refused_with_its_line),
	    cmocka_unit_test(test_syntax_error_names_its_document_and_line),
	    cmocka_unit_test(test_tab_indentation_error_says_so),
	    cmocka_unit_test(test_aliases_are_expanded),
	    cmocka_unit_test(test_unknown_alias_is_refused),
	    cmocka_unit_test(test_alias_bomb_is_refused),
	    cmocka_unit_test(test_too_deep_nesting_is_refused),
	    cmocka_unit_test(test_pretty_json_puts_one_member_per_line),
	    cmocka_unit_test(test_yaml_output_quotes_strings_that_look_like_other_types),
	    cmocka_unit_test(test_yaml_output_reads_back_as_the_same_document),
	    cmocka_unit_test(test_lookups_walk_nested_mappings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
