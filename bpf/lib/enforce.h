/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What is dropped: whether a quarantine is in force, the blocklist's answer for an address
 * (cached per flow), and the drops counted and reported. What a restricted device may still
 * send and receive is its own policy: restricted.h.
 */
#ifndef WARDEN_BPF_ENFORCE_H
#define WARDEN_BPF_ENFORCE_H

#include "common.h"
#include "maps.h"
#include "parse.h"
#include "events.h"

static __always_inline int quarantine_active(const struct wd_quarantine *q, __u64 now)
{
	return q->expires_ns == 0 || q->expires_ns > now;
}

/*
 * A quarantined device's frame is dropped: counted on the program and in the device's
 * per-CPU quarantine entry (already looked up, so no other map is touched on this path),
 * and reported at most once per interval: this CPU's stamp first, then the shared limit.
 */
static __always_inline void count_quarantine_drop(struct wd_prog_stats *st, struct wd_quarantine *q,
						  const __u8 *mac, __u32 reason, int dir,
						  __u32 len, __u32 ifindex, __u64 now)
{
	st->dropped[reason == WD_DROP_ISOLATED ? WD_DROP_ISOLATED : WD_DROP_RESTRICTED]++;
	struct wd_counter *c = &q->dropped[dir & 1];
	c->packets++;
	c->bytes += len;
	if (q->last_drop_ns != now)
		q->last_drop_ns = now;
	if (now - q->last_event_ns < cfg_event_interval_ns)
		return;
	q->last_event_ns = now;
	emit_limited(WD_EV_QUARANTINE_DROP, mac,
		     dir == WD_FLOW_UP ? WD_DIR_FROM_DEVICE : WD_DIR_TO_DEVICE, reason, 0, len,
		     ifindex, now, st);
}

/* A frame to or from a blocklisted address is dropped: counted on the program and, when the
 * device is known, on the device; reported at most once per interval per device. */
static __always_inline void count_blocklist_drop(struct wd_prog_stats *st, struct wd_device_stats *ds,
						 const __u8 *mac, __u8 direction, const union addr16 *addr,
						 __u32 len, __u32 ifindex, __u64 now)
{
	st->dropped[WD_DROP_BLOCKLIST]++;
	if (ds)
		ds->blocklist_drops++;
	emit_limited(WD_EV_BLOCKLIST_HIT, mac, direction, WD_DROP_BLOCKLIST, addr, len, ifindex,
		     now, st);
}

/* Returns the matching entry's flags, or 0 when the address is not on the blocklist. */
static __always_inline __u32 blocklist_flags(const union addr16 *a)
{
	struct wd_block_value *v;
	if (addr_is_v4(a)) {
		union {
			struct wd_lpm_v4_key key;
			__u64 word;
		} k4;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		k4.word = (__u64)a->w[3] << 32 | 32;
#else
		k4.word = 32ULL << 32 | a->w[3];
#endif
		v = bpf_map_lookup_elem(&wd_block_v4, &k4.key);
	} else {
		struct wd_lpm_v6_key k6 = { .prefixlen = 128 };
		__builtin_memcpy(k6.addr, a, 16);
		v = bpf_map_lookup_elem(&wd_block_v6, &k6);
	}
	return v ? v->flags : 0;
}

static __always_inline __u64 block_generation(void)
{
	__u32 zero = 0;
	__u64 *gen = bpf_map_lookup_elem(&wd_block_gen, &zero);
	return gen ? *gen : 0;
}

/*
 * The blocklist flags for the flow's peer: from the flow's cache while the blocklist has not
 * changed since, from the LPM trie (and then cached) otherwise. Generation 0 means nothing
 * was ever written to the blocklist (every write moves it on, and warden run moves it at
 * start), so there is nothing to look up.
 */
static __always_inline __u32 peer_block_flags(struct wd_flow_stats *f, const union addr16 *peer)
{
	__u64 gen = block_generation();
	if (!gen)
		return 0;
	if (f && f->block_state >> 2 == gen)
		return f->block_state & 3;
	__u32 flags = blocklist_flags(peer);
	if (f)
		f->block_state = WD_BLOCK_STATE(gen, flags);
	return flags;
}

#endif
