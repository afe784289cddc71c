/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP connection tracking on segment flags, for a NAT that sees both
 * directions of a flow. The states are those of RFC 9293 section 3.3.2 folded
 * into what an idle timeout needs (as Linux netfilter's conntrack does):
 * handshake, established, closing, closed. Sequence numbers are not checked:
 * the backend and client TCP stacks do that; here a state only selects how
 * long an idle flow is kept.
 *
 * Flag validity follows RFC 9293 section 3.10.7: only SYN and RST segments
 * may lack ACK, and SYN, FIN and RST exclude one another.
 */
#include "edgelb/tcp_state.h"

/*
 * The one transition function behind both APIs. @p fin_dir is the side that
 * sent the first FIN; TCP_STATE_FIN_NONE means "not known", and then any FIN
 * after the first closes the flow and CLOSE_WAIT is never entered.
 */
static enum el_ct_state
tcp_state_step(enum el_ct_state cur, uint8_t *fin_dir, uint8_t flags, bool from_client)
{
	uint8_t side = from_client ? TCP_STATE_FIN_CLIENT : TCP_STATE_FIN_BACKEND;
	bool fin;

	if ((unsigned)cur >= EL_CT_UDP || tcp_flags_invalid(flags))
		return cur;
	flags &= EL_TCP_FLAG_MASK;
	fin = flags & EL_TCP_FIN;

	if (flags & EL_TCP_RST)
		return EL_CT_CLOSE;

	if (flags & EL_TCP_SYN) {
		if (!(flags & EL_TCP_ACK)) {
			if (from_client &&
			    (cur == EL_CT_NONE || cur == EL_CT_TIME_WAIT || cur == EL_CT_CLOSE)) {
				*fin_dir = TCP_STATE_FIN_NONE;
				return EL_CT_SYN_SENT;
			}
			return cur;
		}
		if (!from_client && cur == EL_CT_SYN_SENT)
			return EL_CT_SYN_RECV;
		return cur;
	}

	/* Valid and neither SYN nor RST: ACK is set. From the client it
	 * acknowledges the backend's SYN+ACK, seen or not. */
	if (from_client && (cur == EL_CT_SYN_SENT || cur == EL_CT_SYN_RECV))
		cur = EL_CT_ESTABLISHED;

	switch (cur) {
	case EL_CT_ESTABLISHED:
		if (!fin)
			return EL_CT_ESTABLISHED;
		*fin_dir = side;
		return EL_CT_FIN_WAIT;
	case EL_CT_FIN_WAIT:
		if (*fin_dir == TCP_STATE_FIN_NONE)
			return fin ? EL_CT_TIME_WAIT : EL_CT_FIN_WAIT;
		if (side == *fin_dir)
			return EL_CT_FIN_WAIT;
		return fin ? EL_CT_TIME_WAIT : EL_CT_CLOSE_WAIT;
	case EL_CT_CLOSE_WAIT:
		if (!fin || side == *fin_dir)
			return EL_CT_CLOSE_WAIT;
		return EL_CT_TIME_WAIT;
	default:
		return cur;
	}
}

enum el_ct_state
tcp_state_next(enum el_ct_state cur, uint8_t flags, bool from_client)
{
	uint8_t fin_dir = TCP_STATE_FIN_NONE;

	return tcp_state_step(cur, &fin_dir, flags, from_client);
}

enum el_ct_state
tcp_state_track_update(struct tcp_state_track *t, uint8_t flags, bool from_client)
{
	enum el_ct_state s =
	    tcp_state_step((enum el_ct_state)t->state, &t->fin_dir, flags, from_client);

	t->state = (uint8_t)s;
	return s;
}

static const char *const tcp_state_names[EL_CT_NSTATES] = {
    [EL_CT_NONE] = "NONE",
    [EL_CT_SYN_SENT] = "SYN_SENT",
    [EL_CT_SYN_RECV] = "SYN_RECV",
    [EL_CT_ESTABLISHED] = "ESTABLISHED",
    [EL_CT_FIN_WAIT] = "FIN_WAIT",
    [EL_CT_CLOSE_WAIT] = "CLOSE_WAIT",
    [EL_CT_TIME_WAIT] = "TIME_WAIT",
    [EL_CT_CLOSE] = "CLOSE",
    [EL_CT_UDP] = "UDP",
    [EL_CT_ICMP] = "ICMP",
};

const char *
ct_state_name(enum el_ct_state s)
{
	if ((unsigned)s >= EL_CT_NSTATES || tcp_state_names[s] == NULL)
		return "UNKNOWN";
	return tcp_state_names[s];
}
