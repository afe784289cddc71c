/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * TCP connection tracking for a middlebox that sees both directions: a small
 * state machine on the flags of each segment (RFC 9293 section 3.3.2 states,
 * reduced to what a NAT needs to choose an idle timeout, as netfilter's
 * conntrack does).
 *
 * Thread safety: pure functions.
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

/** True when the flag combination is never valid (SYN+FIN, SYN+RST, no
 *  flags at all, FIN without ACK): such segments are dropped. */
bool tcp_flags_invalid(uint8_t flags);

/** True when a segment with these flags may open a new flow (SYN without
 *  ACK). */
bool tcp_flags_opens(uint8_t flags);

/**
 * Next state of a tracked TCP flow.
 *
 * @param cur          current state (EL_CT_NONE for a new flow)
 * @param flags        the segment's flags
 * @param from_client  true for client -> backend, false for replies
 * @return the new state; RST from either side gives EL_CT_CLOSE
 */
enum el_ct_state tcp_state_next(enum el_ct_state cur, uint8_t flags, bool from_client);

/** Name of a state ("ESTABLISHED"), for listings. */
const char *ct_state_name(enum el_ct_state s);

#endif
