/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Events to userspace through the wd_events ring: rate-limited reports (at most one of a
 * kind per device per interval), and the copies of the frames device identity reads (which
 * DHCP, DNS, mDNS and SSDP frames are copied). A full ring loses the event, counted.
 */
#ifndef WARDEN_BPF_EVENTS_H
#define WARDEN_BPF_EVENTS_H

#include "common.h"
#include "maps.h"
#include "parse.h"
#include "ports.h"

/*
 * At most one event of this kind for this device per cfg_event_interval_ns, across CPUs:
 * the CPU that swaps the stamp forward is the one that may emit.
 */
static __always_inline int event_allowed(const __u8 *mac, __u8 kind, __u64 now)
{
	struct wd_evlimit_key key = { .kind = kind };
	mac_copy(key.mac, mac);
	__u64 *last = bpf_map_lookup_elem(&wd_evlimit, &key);
	if (!last)
		return bpf_map_update_elem(&wd_evlimit, &key, &now, BPF_NOEXIST) == 0;
	__u64 seen = *last;
	if (now - seen < cfg_event_interval_ns)
		return 0;
	return __sync_val_compare_and_swap(last, seen, now) == seen;
}

static __always_inline struct wd_event *event_start(__u32 kind, const __u8 *mac, __u32 ifindex,
						    __u64 now, struct wd_prog_stats *st)
{
	struct wd_event *ev = bpf_ringbuf_reserve(&wd_events, sizeof(*ev), 0);
	if (!ev) {
		st->events_lost++;
		return 0;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ts_ns = now;
	ev->kind = kind;
	ev->ifindex = ifindex;
	mac_copy(ev->mac, mac);
	return ev;
}

/* A packet-copy event with its header filled in; the caller copies the frame, sets
 * hdr.cap_len and submits. NULL (counted as lost) when the ring is full. */
static __always_inline struct wd_event_packet *copy_event_start(__u8 copy_kind, const __u8 *mac,
								__u8 direction, __u32 frame_len,
								__u32 ifindex, __u64 now,
								struct wd_prog_stats *st)
{
	struct wd_event_packet *ev = bpf_ringbuf_reserve(&wd_events, sizeof(*ev), 0);
	if (!ev) {
		st->events_lost++;
		return 0;
	}
	__builtin_memset(&ev->hdr, 0, sizeof(ev->hdr));
	ev->hdr.ts_ns = now;
	ev->hdr.kind = WD_EV_PACKET_COPY;
	ev->hdr.ifindex = ifindex;
	mac_copy(ev->hdr.mac, mac);
	ev->hdr.direction = direction;
	ev->hdr.detail = copy_kind;
	ev->hdr.frame_len = frame_len;
	return ev;
}

static __always_inline void emit_limited(__u32 kind, const __u8 *mac, __u8 direction,
					 __u8 detail, const union addr16 *addr, __u32 frame_len,
					 __u32 ifindex, __u64 now, struct wd_prog_stats *st)
{
	if (!event_allowed(mac, kind, now))
		return;
	struct wd_event *ev = event_start(kind, mac, ifindex, now, st);
	if (!ev)
		return;
	ev->direction = direction;
	ev->detail = detail;
	ev->frame_len = frame_len;
	if (addr)
		__builtin_memcpy(ev->addr, addr, 16);
	bpf_ringbuf_submit(ev, 0);
}

/* Which DHCP/DNS frames get copied to userspace, seen from the device's side. */
static __always_inline __u8 copy_kind(const struct pkt *p, __be16 device_port, __be16 peer_port)
{
	if (p->l4 != IPPROTO_UDP || !(p->flags & PKT_PORTS))
		return 0;
	if (peer_port == bpf_htons(PORT_DHCP_SERVER) || device_port == bpf_htons(PORT_DHCP_SERVER))
		return WD_COPY_DHCP4;
	if (peer_port == bpf_htons(PORT_DHCP6_SERVER) || device_port == bpf_htons(PORT_DHCP6_SERVER))
		return WD_COPY_DHCP6;
	if (peer_port == bpf_htons(PORT_DNS))
		return WD_COPY_DNS;
	return 0;
}

/* mDNS and SSDP a device sends (announcements, answers): what it calls itself and offers.
 * They repeat, so one copy per device per interval is plenty. */
static __always_inline __u8 discovery_copy_kind(const struct pkt *p)
{
	if (p->l4 != IPPROTO_UDP || !(p->flags & PKT_PORTS))
		return 0;
	if (p->sport == bpf_htons(PORT_MDNS) || p->dport == bpf_htons(PORT_MDNS))
		return WD_COPY_MDNS;
	if (p->sport == bpf_htons(PORT_SSDP) || p->dport == bpf_htons(PORT_SSDP))
		return WD_COPY_SSDP;
	return 0;
}

#endif
