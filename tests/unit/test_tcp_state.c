/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the TCP tracking state machine: one test per transition of
 * tcp_state_next() and tcp_state_track_update(), and the flag validity
 * rules over every combination of the six flag bits, checked against a list
 * of valid combinations written out here (RFC 9293 section 3.10.7).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edgelb/tcp_state.h"

#define FIN EL_TCP_FIN
#define SYN EL_TCP_SYN
#define RST EL_TCP_RST
#define PSH EL_TCP_PSH
#define ACK EL_TCP_ACK
#define URG EL_TCP_URG
#define ECE 0x40
#define CWR 0x80

#define CLIENT	true
#define BACKEND false

/* The TCP states, in the order a connection passes through them. */
static const enum el_ct_state tcp_states[] = {
    EL_CT_NONE,	    EL_CT_SYN_SENT,   EL_CT_SYN_RECV,  EL_CT_ESTABLISHED,
    EL_CT_FIN_WAIT, EL_CT_CLOSE_WAIT, EL_CT_TIME_WAIT, EL_CT_CLOSE,
};
#define N_TCP_STATES (sizeof(tcp_states) / sizeof(tcp_states[0]))

static void
assert_state(enum el_ct_state got, enum el_ct_state want)
{
	if (got != want)
		fail_msg("state %s, expected %s", ct_state_name(got), ct_state_name(want));
}

/* ---- opening handshake ---- */

static void
client_syn_opens_a_new_flow(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_NONE, SYN, CLIENT), EL_CT_SYN_SENT);
}

static void
backend_syn_does_not_open_a_flow(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_NONE, SYN, BACKEND), EL_CT_NONE);
}

static void
retransmitted_client_syn_keeps_syn_sent(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_SYN_SENT, SYN, CLIENT), EL_CT_SYN_SENT);
}

static void
backend_syn_ack_moves_syn_sent_to_syn_recv(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_SYN_SENT, SYN | ACK, BACKEND), EL_CT_SYN_RECV);
}

static void
syn_ack_from_client_keeps_syn_sent(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_SYN_SENT, SYN | ACK, CLIENT), EL_CT_SYN_SENT);
}

static void
client_ack_moves_syn_recv_to_established(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_SYN_RECV, ACK, CLIENT), EL_CT_ESTABLISHED);
}

static void
client_data_moves_syn_recv_to_established(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_SYN_RECV, PSH | ACK, CLIENT), EL_CT_ESTABLISHED);
}

static void
client_ack_in_syn_sent_is_established_when_syn_ack_was_missed(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_SYN_SENT, ACK, CLIENT), EL_CT_ESTABLISHED);
}

static void
backend_ack_in_syn_sent_keeps_syn_sent(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_SYN_SENT, ACK, BACKEND), EL_CT_SYN_SENT);
}

static void
backend_ack_in_syn_recv_keeps_syn_recv(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_SYN_RECV, ACK, BACKEND), EL_CT_SYN_RECV);
}

static void
client_fin_ack_in_syn_recv_completes_handshake_and_closes(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_SYN_RECV, FIN | ACK, CLIENT), EL_CT_FIN_WAIT);
}

static void
retransmitted_syn_ack_keeps_syn_recv(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_SYN_RECV, SYN | ACK, BACKEND), EL_CT_SYN_RECV);
}

/* ---- established ---- */

static void
data_in_either_direction_keeps_established(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_ESTABLISHED, PSH | ACK, CLIENT), EL_CT_ESTABLISHED);
	assert_state(tcp_state_next(EL_CT_ESTABLISHED, PSH | ACK, BACKEND), EL_CT_ESTABLISHED);
}

static void
client_syn_in_established_keeps_established(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_ESTABLISHED, SYN, CLIENT), EL_CT_ESTABLISHED);
}

static void
client_fin_moves_established_to_fin_wait(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_ESTABLISHED, FIN | ACK, CLIENT), EL_CT_FIN_WAIT);
}

static void
backend_fin_moves_established_to_fin_wait(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_ESTABLISHED, FIN | ACK, BACKEND), EL_CT_FIN_WAIT);
}

/* ---- closing, side unknown (tcp_state_next) ---- */

static void
fin_from_either_side_moves_fin_wait_to_time_wait(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_FIN_WAIT, FIN | ACK, CLIENT), EL_CT_TIME_WAIT);
	assert_state(tcp_state_next(EL_CT_FIN_WAIT, FIN | ACK, BACKEND), EL_CT_TIME_WAIT);
}

static void
ack_keeps_fin_wait_when_closing_side_is_unknown(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_FIN_WAIT, ACK, CLIENT), EL_CT_FIN_WAIT);
	assert_state(tcp_state_next(EL_CT_FIN_WAIT, ACK, BACKEND), EL_CT_FIN_WAIT);
}

static void
fin_moves_close_wait_to_time_wait(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_CLOSE_WAIT, FIN | ACK, BACKEND), EL_CT_TIME_WAIT);
	assert_state(tcp_state_next(EL_CT_CLOSE_WAIT, FIN | ACK, CLIENT), EL_CT_TIME_WAIT);
}

static void
data_keeps_close_wait(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_CLOSE_WAIT, PSH | ACK, BACKEND), EL_CT_CLOSE_WAIT);
}

static void
last_ack_keeps_time_wait(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_TIME_WAIT, ACK, CLIENT), EL_CT_TIME_WAIT);
}

/* ---- reset and reuse ---- */

static void
client_rst_closes_every_tcp_state(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_TCP_STATES; i++) {
		assert_state(tcp_state_next(tcp_states[i], RST, CLIENT), EL_CT_CLOSE);
		assert_state(tcp_state_next(tcp_states[i], RST | ACK, CLIENT), EL_CT_CLOSE);
	}
}

static void
backend_rst_closes_every_tcp_state(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_TCP_STATES; i++) {
		assert_state(tcp_state_next(tcp_states[i], RST, BACKEND), EL_CT_CLOSE);
		assert_state(tcp_state_next(tcp_states[i], RST | ACK, BACKEND), EL_CT_CLOSE);
	}
}

static void
client_syn_reopens_a_time_wait_flow(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_TIME_WAIT, SYN, CLIENT), EL_CT_SYN_SENT);
}

static void
client_syn_reopens_a_closed_flow(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_CLOSE, SYN, CLIENT), EL_CT_SYN_SENT);
}

static void
backend_syn_does_not_reopen_a_closed_flow(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_CLOSE, SYN, BACKEND), EL_CT_CLOSE);
	assert_state(tcp_state_next(EL_CT_TIME_WAIT, SYN, BACKEND), EL_CT_TIME_WAIT);
}

static void
ack_keeps_a_closed_flow_closed(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_CLOSE, ACK, CLIENT), EL_CT_CLOSE);
}

/* ---- what never changes the state ---- */

static void
invalid_flags_keep_every_state(void **state)
{
	(void)state;
	const uint8_t bad[] = {0, FIN, SYN | FIN, SYN | RST, FIN | RST | ACK, PSH, URG};

	for (size_t i = 0; i < N_TCP_STATES; i++)
		for (size_t k = 0; k < sizeof(bad); k++) {
			assert_state(tcp_state_next(tcp_states[i], bad[k], CLIENT), tcp_states[i]);
			assert_state(tcp_state_next(tcp_states[i], bad[k], BACKEND), tcp_states[i]);
		}
}

static void
udp_and_icmp_states_are_left_alone(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_UDP, RST, CLIENT), EL_CT_UDP);
	assert_state(tcp_state_next(EL_CT_ICMP, SYN, CLIENT), EL_CT_ICMP);
}

static void
ece_and_cwr_bits_do_not_change_a_transition(void **state)
{
	(void)state;
	assert_state(tcp_state_next(EL_CT_NONE, SYN | ECE | CWR, CLIENT), EL_CT_SYN_SENT);
	assert_state(tcp_state_next(EL_CT_SYN_SENT, SYN | ACK | ECE, BACKEND), EL_CT_SYN_RECV);
	assert_state(tcp_state_next(EL_CT_ESTABLISHED, FIN | ACK | CWR, CLIENT), EL_CT_FIN_WAIT);
}

/* ---- closing, side remembered (tcp_state_track_update) ---- */

static struct tcp_state_track
track_established(void)
{
	struct tcp_state_track t;

	tcp_state_track_init(&t);
	tcp_state_track_update(&t, SYN, CLIENT);
	tcp_state_track_update(&t, SYN | ACK, BACKEND);
	tcp_state_track_update(&t, ACK, CLIENT);
	assert_state(t.state, EL_CT_ESTABLISHED);
	return t;
}

static void
track_init_is_a_new_flow_with_no_fin(void **state)
{
	(void)state;
	struct tcp_state_track t;

	memset(&t, 0xa5, sizeof(t));
	tcp_state_track_init(&t);
	assert_state(t.state, EL_CT_NONE);
	assert_int_equal(t.fin_dir, TCP_STATE_FIN_NONE);
}

static void
track_follows_the_handshake(void **state)
{
	(void)state;
	struct tcp_state_track t;

	tcp_state_track_init(&t);
	assert_state(tcp_state_track_update(&t, SYN, CLIENT), EL_CT_SYN_SENT);
	assert_state(tcp_state_track_update(&t, SYN | ACK, BACKEND), EL_CT_SYN_RECV);
	assert_state(tcp_state_track_update(&t, ACK, CLIENT), EL_CT_ESTABLISHED);
	assert_state(t.state, EL_CT_ESTABLISHED);
}

static void
track_remembers_client_closed_first(void **state)
{
	(void)state;
	struct tcp_state_track t = track_established();

	assert_state(tcp_state_track_update(&t, FIN | ACK, CLIENT), EL_CT_FIN_WAIT);
	assert_int_equal(t.fin_dir, TCP_STATE_FIN_CLIENT);
}

static void
track_remembers_backend_closed_first(void **state)
{
	(void)state;
	struct tcp_state_track t = track_established();

	assert_state(tcp_state_track_update(&t, FIN | ACK, BACKEND), EL_CT_FIN_WAIT);
	assert_int_equal(t.fin_dir, TCP_STATE_FIN_BACKEND);
}

static void
track_ack_from_other_side_moves_fin_wait_to_close_wait(void **state)
{
	(void)state;
	struct tcp_state_track t = track_established();

	tcp_state_track_update(&t, FIN | ACK, CLIENT);
	assert_state(tcp_state_track_update(&t, ACK, BACKEND), EL_CT_CLOSE_WAIT);
}

static void
track_ack_from_client_after_backend_fin_gives_close_wait(void **state)
{
	(void)state;
	struct tcp_state_track t = track_established();

	tcp_state_track_update(&t, FIN | ACK, BACKEND);
	assert_state(tcp_state_track_update(&t, ACK, CLIENT), EL_CT_CLOSE_WAIT);
}

static void
track_fin_from_other_side_moves_fin_wait_to_time_wait(void **state)
{
	(void)state;
	struct tcp_state_track t = track_established();

	tcp_state_track_update(&t, FIN | ACK, CLIENT);
	assert_state(tcp_state_track_update(&t, FIN | ACK, BACKEND), EL_CT_TIME_WAIT);
}

static void
track_retransmitted_fin_keeps_fin_wait(void **state)
{
	(void)state;
	struct tcp_state_track t = track_established();

	tcp_state_track_update(&t, FIN | ACK, CLIENT);
	assert_state(tcp_state_track_update(&t, FIN | ACK, CLIENT), EL_CT_FIN_WAIT);
}

static void
track_fin_from_other_side_moves_close_wait_to_time_wait(void **state)
{
	(void)state;
	struct tcp_state_track t = track_established();

	tcp_state_track_update(&t, FIN | ACK, CLIENT);
	tcp_state_track_update(&t, ACK, BACKEND);
	assert_state(tcp_state_track_update(&t, FIN | ACK, BACKEND), EL_CT_TIME_WAIT);
}

static void
track_half_closed_flow_keeps_close_wait_while_data_flows(void **state)
{
	(void)state;
	struct tcp_state_track t = track_established();

	tcp_state_track_update(&t, FIN | ACK, CLIENT);
	tcp_state_track_update(&t, ACK, BACKEND);
	assert_state(tcp_state_track_update(&t, PSH | ACK, BACKEND), EL_CT_CLOSE_WAIT);
	assert_state(tcp_state_track_update(&t, ACK, CLIENT), EL_CT_CLOSE_WAIT);
	assert_state(tcp_state_track_update(&t, FIN | ACK, CLIENT), EL_CT_CLOSE_WAIT);
}

static void
track_reopened_flow_forgets_which_side_closed(void **state)
{
	(void)state;
	struct tcp_state_track t = track_established();

	tcp_state_track_update(&t, FIN | ACK, BACKEND);
	tcp_state_track_update(&t, FIN | ACK, CLIENT);
	assert_state(t.state, EL_CT_TIME_WAIT);
	assert_state(tcp_state_track_update(&t, SYN, CLIENT), EL_CT_SYN_SENT);
	assert_int_equal(t.fin_dir, TCP_STATE_FIN_NONE);
}

static void
track_rst_closes_a_half_closed_flow(void **state)
{
	(void)state;
	struct tcp_state_track t = track_established();

	tcp_state_track_update(&t, FIN | ACK, CLIENT);
	tcp_state_track_update(&t, ACK, BACKEND);
	assert_state(tcp_state_track_update(&t, RST, BACKEND), EL_CT_CLOSE);
}

static void
track_without_fin_side_uses_the_plain_rules(void **state)
{
	(void)state;
	struct tcp_state_track t = {.state = EL_CT_FIN_WAIT, .fin_dir = TCP_STATE_FIN_NONE};

	assert_state(tcp_state_track_update(&t, ACK, BACKEND), EL_CT_FIN_WAIT);
	assert_state(tcp_state_track_update(&t, FIN | ACK, CLIENT), EL_CT_TIME_WAIT);
}

/* ---- flag combinations ---- */

/* Every valid combination of SYN, FIN, RST and ACK, written out (RFC 9293
 * section 3.10.7: only SYN and RST may come without ACK; SYN, FIN and RST
 * never come together). PSH and URG may be added to any of them. */
static bool
valid_by_list(uint8_t flags)
{
	static const uint8_t valid[] = {SYN, SYN | ACK, RST, RST | ACK, ACK, FIN | ACK};
	uint8_t core = flags & (SYN | FIN | RST | ACK);

	for (size_t i = 0; i < sizeof(valid); i++)
		if (core == valid[i])
			return true;
	return false;
}

static void
invalid_flags_match_the_list_for_all_64_combinations(void **state)
{
	(void)state;
	for (unsigned f = 0; f < 64; f++)
		if (tcp_flags_invalid((uint8_t)f) != !valid_by_list((uint8_t)f))
			fail_msg("flags 0x%02x: tcp_flags_invalid = %d", f,
				 tcp_flags_invalid((uint8_t)f));
}

static void
named_invalid_combinations_are_invalid(void **state)
{
	(void)state;
	assert_true(tcp_flags_invalid(SYN | FIN));
	assert_true(tcp_flags_invalid(SYN | RST));
	assert_true(tcp_flags_invalid(FIN | RST));
	assert_true(tcp_flags_invalid(FIN | RST | ACK));
	assert_true(tcp_flags_invalid(0));
	assert_true(tcp_flags_invalid(FIN));
	assert_true(tcp_flags_invalid(FIN | PSH | URG));
	assert_false(tcp_flags_invalid(SYN));
	assert_false(tcp_flags_invalid(FIN | ACK));
}

static void
only_syn_without_ack_opens_for_all_64_combinations(void **state)
{
	(void)state;
	for (unsigned f = 0; f < 64; f++) {
		bool want = (f & (SYN | FIN | RST | ACK)) == SYN;
		if (tcp_flags_opens((uint8_t)f) != want)
			fail_msg("flags 0x%02x: tcp_flags_opens = %d", f,
				 tcp_flags_opens((uint8_t)f));
	}
}

static void
ece_and_cwr_bits_do_not_change_validity(void **state)
{
	(void)state;
	for (unsigned f = 0; f < 256; f++) {
		assert_int_equal(tcp_flags_invalid((uint8_t)f), tcp_flags_invalid(f & 0x3f));
		assert_int_equal(tcp_flags_opens((uint8_t)f), tcp_flags_opens(f & 0x3f));
	}
}

/* ---- names ---- */

static void
every_state_has_its_own_name(void **state)
{
	(void)state;
	assert_string_equal(ct_state_name(EL_CT_ESTABLISHED), "ESTABLISHED");
	assert_string_equal(ct_state_name(EL_CT_CLOSE_WAIT), "CLOSE_WAIT");
	for (int a = 0; a < EL_CT_NSTATES; a++) {
		assert_non_null(ct_state_name(a));
		assert_string_not_equal(ct_state_name(a), "UNKNOWN");
		for (int b = 0; b < a; b++)
			assert_string_not_equal(ct_state_name(a), ct_state_name(b));
	}
}

static void
out_of_range_state_is_unknown(void **state)
{
	(void)state;
	assert_string_equal(ct_state_name(EL_CT_NSTATES), "UNKNOWN");
	assert_string_equal(ct_state_name((enum el_ct_state)200), "UNKNOWN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(client_syn_opens_a_new_flow),
	    cmocka_unit_test(backend_syn_does_not_open_a_flow),
	    cmocka_unit_test(retransmitted_client_syn_keeps_syn_sent),
	    cmocka_unit_test(backend_syn_ack_moves_syn_sent_to_syn_recv),
	    cmocka_unit_test(syn_ack_from_client_keeps_syn_sent),
	    cmocka_unit_test(client_ack_moves_syn_recv_to_established),
	    cmocka_unit_test(client_data_moves_syn_recv_to_established),
	    cmocka_unit_test(client_ack_in_syn_sent_is_established_when_syn_ack_was_missed),
	    cmocka_unit_test(backend_ack_in_syn_sent_keeps_syn_sent),
	    cmocka_unit_test(backend_ack_in_syn_recv_keeps_syn_recv),
	    cmocka_unit_test(client_fin_ack_in_syn_recv_completes_handshake_and_closes),
	    cmocka_unit_test(retransmitted_syn_ack_keeps_syn_recv),
	    cmocka_unit_test(data_in_either_direction_keeps_established),
	    cmocka_unit_test(client_syn_in_established_keeps_established),
	    cmocka_unit_test(client_fin_moves_established_to_fin_wait),
	    cmocka_unit_test(backend_fin_moves_established_to_fin_wait),
	    cmocka_unit_test(fin_from_either_side_moves_fin_wait_to_time_wait),
	    cmocka_unit_test(ack_keeps_fin_wait_when_closing_side_is_unknown),
	    cmocka_unit_test(fin_moves_close_wait_to_time_wait),
	    cmocka_unit_test(data_keeps_close_wait),
	    cmocka_unit_test(last_ack_keeps_time_wait),
	    cmocka_unit_test(client_rst_closes_every_tcp_state),
	    cmocka_unit_test(backend_rst_closes_every_tcp_state),
	    cmocka_unit_test(client_syn_reopens_a_time_wait_flow),
	    cmocka_unit_test(client_syn_reopens_a_closed_flow),
	    cmocka_unit_test(backend_syn_does_not_reopen_a_closed_flow),
	    cmocka_unit_test(ack_keeps_a_closed_flow_closed),
	    cmocka_unit_test(invalid_flags_keep_every_state),
	    cmocka_unit_test(udp_and_icmp_states_are_left_alone),
	    cmocka_unit_test(ece_and_cwr_bits_do_not_change_a_transition),
	    cmocka_unit_test(track_init_is_a_new_flow_with_no_fin),
	    cmocka_unit_test(track_follows_the_handshake),
	    cmocka_unit_test(track_remembers_client_closed_first),
	    cmocka_unit_test(track_remembers_backend_closed_first),
	    cmocka_unit_test(track_ack_from_other_side_moves_fin_wait_to_close_wait),
	    cmocka_unit_test(track_ack_from_client_after_backend_fin_gives_close_wait),
	    cmocka_unit_test(track_fin_from_other_side_moves_fin_wait_to_time_wait),
	    cmocka_unit_test(track_retransmitted_fin_keeps_fin_wait),
	    cmocka_unit_test(track_fin_from_other_side_moves_close_wait_to_time_wait),
	    cmocka_unit_test(track_half_closed_flow_keeps_close_wait_while_data_flows),
	    cmocka_unit_test(track_reopened_flow_forgets_which_side_closed),
	    cmocka_unit_test(track_rst_closes_a_half_closed_flow),
	    cmocka_unit_test(track_without_fin_side_uses_the_plain_rules),
	    cmocka_unit_test(invalid_flags_match_the_list_for_all_64_combinations),
	    cmocka_unit_test(named_invalid_combinations_are_invalid),
	    cmocka_unit_test(only_syn_without_ack_opens_for_all_64_combinations),
	    cmocka_unit_test(ece_and_cwr_bits_do_not_change_validity),
	    cmocka_unit_test(every_state_has_its_own_name),
	    cmocka_unit_test(out_of_range_state_is_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
