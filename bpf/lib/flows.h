/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The flow table (wd_flows): one entry per flow, keyed from the device's side, counted in
 * both directions; the flows a device opens are counted on it and reported to the behaviour
 * engine.
 */
#ifndef WARDEN_BPF_FLOWS_H
#define WARDEN_BPF_FLOWS_H

#include "common.h"
#include "maps.h"
#include "parse.h"

/* Zero value to create entries from, kept off the 512-byte BPF stack. */
static const struct wd_flow_stats zero_flow_stats;

/* struct wd_flow_key, built from words (see union addr16). */
union flow_key {
	struct wd_flow_key key;
	struct {
		__u64 mac_proto; /* mac[6], proto, pad */
		__u64 saddr[2];
		__u64 daddr[2];
		__u32 ports;
	} w;
};

/* The frame's flow entry, created on its first frame (*created says so); direction
 * WD_FLOW_UP (from the device) or WD_FLOW_DOWN (to it) says which side is the device's.
 * NULL when the map refuses. */
static __always_inline struct wd_flow_stats *flow_entry(const struct pkt *p, __u64 mac, int dir,
							__u64 now, struct wd_prog_stats *st,
							int *created)
{
	union flow_key k;
	const union addr16 *device = dir == WD_FLOW_UP ? &p->saddr : &p->daddr;
	const union addr16 *peer = dir == WD_FLOW_UP ? &p->daddr : &p->saddr;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	k.w.mac_proto = mac | (__u64)p->l4 << 48;
#else
	k.w.mac_proto = mac | (__u64)p->l4 << 8;
#endif
	k.w.saddr[0] = device->d[0];
	k.w.saddr[1] = device->d[1];
	k.w.daddr[0] = peer->d[0];
	k.w.daddr[1] = peer->d[1];
	__u16 device_port = dir == WD_FLOW_UP ? p->sport : p->dport;
	__u16 peer_port = dir == WD_FLOW_UP ? p->dport : p->sport;
	if (!(p->flags & PKT_PORTS))
		device_port = peer_port = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	k.w.ports = device_port | (__u32)peer_port << 16;
#else
	k.w.ports = (__u32)device_port << 16 | peer_port;
#endif

	struct wd_flow_stats *f = bpf_map_lookup_elem(&wd_flows, &k.key);
	if (f)
		return f;
	int err = bpf_map_update_elem(&wd_flows, &k.key, &zero_flow_stats, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		st->map_full++;
		return 0;
	}
	if (err == 0)
		st->flows_added++;
	*created = err == 0;
	f = bpf_map_lookup_elem(&wd_flows, &k.key);
	if (f && f->first_seen_ns == 0)
		f->first_seen_ns = now;
	return f;
}

/* Whether the frame the device sent, the first of its flow, opened the flow (see abi.h). */
static __always_inline int frame_opens_flow(const struct pkt *p)
{
	return wd_device_opened_flow(p->l4, p->flags & PKT_PORTS, p->tcp_flags, p->icmp_type,
				     bpf_ntohs(p->sport), bpf_ntohs(p->dport));
}

/*
 * A device opened a flow: counted exactly, and reported with its peer for the behaviour
 * engine, up to cfg_flow_events_per_s a second on this CPU (a scan opens thousands; the
 * count tells how many, a bounded sample tells where to).
 */
static __always_inline void report_new_flow(struct wd_device_stats *ds, const struct pkt *p,
					    const __u8 *mac, int lateral, __u32 ifindex, __u64 now,
					    struct wd_prog_stats *st)
{
	ds->flows_new++;
	if (now - ds->flow_events_window_ns >= 1000000000ULL) {
		ds->flow_events_window_ns = now;
		ds->flow_events = 0;
	}
	if (ds->flow_events >= cfg_flow_events_per_s)
		return;
	struct wd_event_flow *ev = bpf_ringbuf_reserve(&wd_events, sizeof(*ev), 0);
	if (!ev) {
		st->events_lost++;
		return;
	}
	ds->flow_events++;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->hdr.ts_ns = now;
	ev->hdr.kind = WD_EV_NEW_FLOW;
	ev->hdr.ifindex = ifindex;
	mac_copy(ev->hdr.mac, mac);
	ev->hdr.direction = WD_DIR_FROM_DEVICE;
	ev->hdr.frame_len = p->len;
	__builtin_memcpy(ev->hdr.addr, &p->daddr, 16);
	ev->proto = p->l4;
	ev->lateral = lateral;
	ev->tcp_flags = p->l4 == IPPROTO_TCP ? p->tcp_flags : 0;
	if (p->flags & PKT_PORTS) {
		ev->sport = p->sport;
		ev->dport = p->dport;
	}
	bpf_ringbuf_submit(ev, 0);
}

/* Adds frames that passed to the flow, in one direction. */
static __always_inline void flow_count(struct wd_flow_stats *f, const struct pkt *p, int dir,
				       __u64 packets, __u64 bytes, __u64 now)
{
	if (f->last_seen_ns != now)
		f->last_seen_ns = now;
	/* Atomic: the two directions of a flow are counted on different CPUs. */
	__sync_fetch_and_add(&f->packets[dir & 1], packets);
	__sync_fetch_and_add(&f->bytes[dir & 1], bytes);
	__u32 flags = p->l4 == IPPROTO_TCP ? p->tcp_flags : 0;
	if ((f->tcp_flags[dir & 1] & flags) != flags)
		__sync_fetch_and_or(&f->tcp_flags[dir & 1], flags);
}

#endif
