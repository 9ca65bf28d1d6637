/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Counting and the decisions every program shares: per-program stats, per-device counters,
 * the flow table, quarantine and blocklist checks, and rate-limited events.
 */
#ifndef WARDEN_BPF_ACCOUNT_H
#define WARDEN_BPF_ACCOUNT_H

#include "common.h"
#include "maps.h"
#include "parse.h"

#define PORT_DNS 53
#define PORT_DHCP_SERVER 67
#define PORT_DHCP_CLIENT 68
#define PORT_DHCP6_CLIENT 546
#define PORT_DHCP6_SERVER 547

/* Zero values to create entries from, kept off the 512-byte BPF stack. */
static const struct wd_device_stats zero_device_stats;
static const struct wd_flow_stats zero_flow_stats;

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

static __always_inline int quarantine_active(const struct wd_quarantine *q, __u64 now)
{
	return q->expires_ns == 0 || q->expires_ns > now;
}

/* ---- events ---- */

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

/* ---- devices ---- */

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

static __always_inline int is_link_local6(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
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

/* ---- gateway ---- */

static __always_inline const struct wd_gateway *gateway(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&wd_gateway, &zero);
}

static __always_inline int is_gateway_mac(const __u8 *mac)
{
	const struct wd_gateway *gw = gateway();
	if (!gw)
		return 0;
	__u64 m = mac_word(mac);
	/* Unrolled: a verifier loop here multiplies the states of every path that reaches it. */
#pragma unroll
	for (__u32 i = 0; i < WD_GATEWAY_MACS_MAX; i++) {
		if (i >= gw->n_macs)
			break;
		if (*(const __u64 *)gw->macs[i] == m)
			return 1;
	}
	return 0;
}

static __always_inline int is_gateway_addr(const union addr16 *a)
{
	const struct wd_gateway *gw = gateway();
	if (!gw)
		return 0;
#pragma unroll
	for (__u32 i = 0; i < WD_GATEWAY_ADDRS_MAX; i++) {
		if (i >= gw->n_addrs)
			break;
		const __u64 *g = (const __u64 *)gw->addrs[i].addr;
		if (g[0] == a->d[0] && g[1] == a->d[1])
			return 1;
	}
	return 0;
}

/* ---- quarantine and blocklist ---- */

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

/* ---- what a restricted device may still do ---- */

static __always_inline int is_neighbour_discovery(const struct pkt *p)
{
	/* router/neighbour solicitation and advertisement, redirect: 133..137. Only in IPv6:
	 * an ICMPv6 header in an IPv4 packet (protocol 58) is no neighbour discovery. */
	return p->l4 == IPPROTO_ICMPV6 && (p->flags & PKT_V6) && (p->flags & PKT_PORTS) &&
	       p->icmp_type >= 133 && p->icmp_type <= 137;
}

/* fe80::/10: never routed, so such a peer is on this link, not on the internet. */
static __always_inline int is_link_local(const union addr16 *a)
{
	return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}

/* ff02::/16-style link-scope multicast (all-routers, solicited-node, DHCPv6 agents...). */
static __always_inline int is_link_multicast(const union addr16 *a)
{
	return a->b[0] == 0xff && (a->b[1] & 0x0f) == 0x02;
}

static __always_inline int is_v4_broadcast(const union addr16 *a)
{
	return addr_is_v4(a) && a->w[3] == 0xffffffff;
}

static __always_inline int udp_ports(const struct pkt *p, __u16 sport, __u16 dport)
{
	return p->l4 == IPPROTO_UDP && (p->flags & PKT_PORTS) && p->sport == bpf_htons(sport) &&
	       p->dport == bpf_htons(dport);
}

static __always_inline int is_dns(const struct pkt *p, __be16 server_port)
{
	return (p->l4 == IPPROTO_UDP || p->l4 == IPPROTO_TCP) && (p->flags & PKT_PORTS) &&
	       server_port == bpf_htons(PORT_DNS);
}

/*
 * From the device: ARP, and ND, DHCP/DHCPv6 and DNS only towards this link or the gateway,
 * so none of them can carry a restricted device's traffic to the internet.
 */
static __always_inline int restricted_allows_from_device(const struct pkt *p)
{
	if (p->l3 == ETH_P_ARP)
		return 1;
	const union addr16 *to = &p->daddr;
	int to_gateway = is_gateway_addr(to); /* once: each copy of its loop costs the verifier */
	if (is_neighbour_discovery(p))
		return is_link_multicast(to) || is_link_local(to) || to_gateway;
	if (udp_ports(p, PORT_DHCP_CLIENT, PORT_DHCP_SERVER))
		return is_v4_broadcast(to) || to_gateway;
	if (udp_ports(p, PORT_DHCP6_CLIENT, PORT_DHCP6_SERVER))
		return is_link_multicast(to) || to_gateway;
	return is_dns(p, p->dport) && to_gateway;
}

/* To the device: ARP, and ND, DHCP/DHCPv6 and DNS answers only from this link's gateway. */
static __always_inline int restricted_allows_to_device(const struct pkt *p)
{
	if (p->l3 == ETH_P_ARP)
		return 1;
	const union addr16 *from = &p->saddr;
	int from_gateway = is_gateway_addr(from);
	if (is_neighbour_discovery(p))
		return is_link_local(from) || from_gateway;
	if (udp_ports(p, PORT_DHCP_SERVER, PORT_DHCP_CLIENT))
		return from_gateway;
	if (udp_ports(p, PORT_DHCP6_SERVER, PORT_DHCP6_CLIENT))
		return is_link_local(from) || from_gateway;
	return is_dns(p, p->sport) && from_gateway;
}

#define PORT_SSDP 1900
#define PORT_MDNS 5353

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

/* ---- flows ---- */

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
