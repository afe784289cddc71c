/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * TCP connection tracking for a middlebox that sees both directions: a small
 * state machine on the flags of each segment (RFC 9293 section 3.3.2 states,
 * reduced to what a NAT needs to choose an idle timeout, as netfilter's
 * conntrack does).
 *
 * Thread safety: pure functions; tcp_state_track_update() writes only its
 * argument (the worker owning the flow calls it).
 */
#ifndef EDGELB_TCP_STATE_H
#define EDGELB_TCP_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "edgelb/config.h"

/* TCP flag bits as in the header's flags byte. */
#define EL_TCP_FIN 0x01
#define EL_TCP_SYN 0x02
#define EL_TCP_RST 0x04
#define EL_TCP_PSH 0x08
#define EL_TCP_ACK 0x10
#define EL_TCP_URG 0x20

/** Which of the six flag bits above a segment may carry; ECE and CWR (0x40,
 *  0x80) are ignored by every function here. */
#define EL_TCP_FLAG_MASK 0x3f

/**
 * True when the flag combination is never valid: SYN+FIN, SYN+RST, FIN+RST,
 * or none of SYN, RST and ACK (which covers "no flags at all" and "FIN without
 * ACK": RFC 9293 section 3.10.7 drops every segment that is not a SYN or RST
 * and lacks ACK). Such segments are dropped.
 */
static inline bool
tcp_flags_invalid(uint8_t flags)
{
	flags &= EL_TCP_FLAG_MASK;
	if ((flags & EL_TCP_SYN) && (flags & (EL_TCP_FIN | EL_TCP_RST)))
		return true;
	if ((flags & EL_TCP_FIN) && (flags & EL_TCP_RST))
		return true;
	return (flags & (EL_TCP_SYN | EL_TCP_RST | EL_TCP_ACK)) == 0;
}

/** True when a segment with these flags may open a new flow (SYN without
 *  ACK, and not invalid). */
static inline bool
tcp_flags_opens(uint8_t flags)
{
	return (flags & (EL_TCP_SYN | EL_TCP_ACK)) == EL_TCP_SYN && !tcp_flags_invalid(flags);
}

/**
 * Next state of a tracked TCP flow.
 *
 * Transitions (anything not listed keeps the state):
 * - NONE, TIME_WAIT or CLOSE + SYN from the client -> SYN_SENT (a new flow,
 *   or a client reusing the port)
 * - SYN_SENT + SYN+ACK from the backend -> SYN_RECV
 * - SYN_SENT or SYN_RECV + ACK from the client -> ESTABLISHED (liberal: the
 *   SYN+ACK may have been missed); with FIN as well it goes on to FIN_WAIT
 * - ESTABLISHED + FIN from either side -> FIN_WAIT
 * - FIN_WAIT or CLOSE_WAIT + FIN from either side -> TIME_WAIT
 * - RST from either side, in any TCP state -> CLOSE
 * Invalid flags (tcp_flags_invalid()) and the non-TCP states (UDP, ICMP,
 * out of range) leave the state as it is.
 *
 * This function does not know which side sent the first FIN, so it never
 * gives CLOSE_WAIT; struct tcp_state_track does.
 *
 * @param cur          current state (EL_CT_NONE for a new flow)
 * @param flags        the segment's flags
 * @param from_client  true for client -> backend, false for replies
 * @return the new state; RST from either side gives EL_CT_CLOSE
 */
enum el_ct_state tcp_state_next(enum el_ct_state cur, uint8_t flags, bool from_client);

/** Values of tcp_state_track.fin_dir: which side sent the first FIN. */
#define TCP_STATE_FIN_NONE    0
#define TCP_STATE_FIN_CLIENT  1
#define TCP_STATE_FIN_BACKEND 2

/**
 * A flow's TCP state plus the side that closed first (two bytes, to keep in a
 * connection entry). Knowing the side lets a half-closed flow reach
 * CLOSE_WAIT (and its long timeout) instead of staying in FIN_WAIT.
 */
struct tcp_state_track {
	uint8_t state;	 /**< enum el_ct_state */
	uint8_t fin_dir; /**< TCP_STATE_FIN_* */
};

/** Start tracking a new flow: state NONE, no FIN seen. */
static inline void
tcp_state_track_init(struct tcp_state_track *t)
{
	t->state = EL_CT_NONE;
	t->fin_dir = TCP_STATE_FIN_NONE;
}

/**
 * Advance @p t by one segment. Same transitions as tcp_state_next(), except
 * after the first FIN, whose side is remembered:
 * - FIN_WAIT + FIN from the other side -> TIME_WAIT
 * - FIN_WAIT + ACK without FIN from the other side -> CLOSE_WAIT
 * - CLOSE_WAIT + FIN from the other side -> TIME_WAIT
 * - segments from the side that closed first (data, retransmitted FIN) keep
 *   FIN_WAIT / CLOSE_WAIT
 * A flow reopened by a client SYN forgets the FIN side. If fin_dir is
 * TCP_STATE_FIN_NONE in FIN_WAIT or CLOSE_WAIT (state set by hand), the
 * rules of tcp_state_next() apply.
 *
 * @param t            the flow's tracking bytes; updated in place
 * @param flags        the segment's flags
 * @param from_client  true for client -> backend, false for replies
 * @return the new state (also stored in t->state)
 */
enum el_ct_state tcp_state_track_update(struct tcp_state_track *t, uint8_t flags, bool from_client);

/** Name of a state ("ESTABLISHED"), for listings; "UNKNOWN" when out of
 *  range. Never NULL. */
const char *ct_state_name(enum el_ct_state s);

#endif
