/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Counters: each program's (wd_stats) and each device's (wd_devices). A device's entry is
 * made by its first frame, which is reported as a new device.
 */
#ifndef WARDEN_BPF_COUNTERS_H
#define WARDEN_BPF_COUNTERS_H

#include "common.h"
#include "maps.h"
#include "parse.h"
#include "events.h"

/* Zero values to create entries from, kept off the 512-byte BPF stack. */
static const struct wd_device_stats zero_device_stats;

static __always_inline struct wd_prog_stats *prog_stats(__u32 prog)
{
	return bpf_map_lookup_elem(&wd_stats, &prog);
}

/* Counts a parsed frame in its protocol bucket (and as unparsed when it is); returns the
 * bucket, bounded for the verifier. */
static __always_inline __u32 count_parsed(struct wd_prog_stats *st, const struct pkt *p, __u64 frames)
{
	__u32 bucket = p->bucket < WD_PROTO_MAX ? p->bucket : WD_PROTO_OTHER;
	st->proto_packets[bucket] += frames;
	if (p->flags & PKT_UNPARSED)
		st->unparsed++;
	return bucket;
}

/* A frame too short for an Ethernet header: passed, and counted as not understood. */
static __always_inline void count_runt(struct wd_prog_stats *st)
{
	st->unparsed++;
	st->proto_packets[WD_PROTO_OTHER]++;
	st->passed++;
}

/* The device's counters; creates them (and says so in an event) for a MAC never seen. */
static __always_inline struct wd_device_stats *device_stats(const union device_key *dev,
							    __u64 now, __u32 ifindex,
							    struct wd_prog_stats *st)
{
	struct wd_device_stats *ds = bpf_map_lookup_elem(&wd_devices, &dev->key);
	if (ds)
		return ds;

	int err = bpf_map_update_elem(&wd_devices, &dev->key, &zero_device_stats, BPF_NOEXIST);
	if (err == 0) {
		st->devices_added++;
		struct wd_event *ev = event_start(WD_EV_NEW_DEVICE, dev->key.mac, ifindex, now, st);
		if (ev)
			bpf_ringbuf_submit(ev, 0);
	} else if (err != -EEXIST) {
		st->map_full++;
		return 0;
	}
	return bpf_map_lookup_elem(&wd_devices, &dev->key);
}

/* Stamps change once per clock tick; writing only on change keeps the hot path to loads. */
static __always_inline void device_seen(struct wd_device_stats *ds, __u64 now)
{
	if (ds->first_seen_ns == 0)
		ds->first_seen_ns = now;
	if (ds->last_seen_ns != now)
		ds->last_seen_ns = now;
}

/* Keeps the device's latest source addresses. A link-local IPv6 address is kept only until
 * a routable one is seen: the routable one is what flows and findings will show. */
static __always_inline void device_note_address(struct wd_device_stats *ds, const struct pkt *p,
						__u64 now)
{
	/* Once per tick and family is plenty; per family, or a dual-stack device whose IPv4
	 * frames come first in each tick would never have its IPv6 address noted. */
	if (!(p->flags & PKT_V6)) {
		__u32 a = p->saddr.w[3];
		if (ds->ip4_seen_ns == now || a == 0)
			return;
		__builtin_memcpy(ds->last_ip4, &a, 4);
		ds->ip4_seen_ns = now;
		return;
	}
	if (ds->ip6_seen_ns == now || (p->saddr.d[0] | p->saddr.d[1]) == 0)
		return;
	if (is_link_local6(p->saddr.b) && ds->ip6_seen_ns && !is_link_local6(ds->last_ip6))
		return;
	__builtin_memcpy(ds->last_ip6, &p->saddr, 16);
	ds->ip6_seen_ns = now;
}

#endif
