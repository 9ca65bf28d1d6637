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

/* Per-CPU zero values to create entries from, kept off the 512-byte BPF stack. */
static const struct wd_device_stats zero_device_stats;
static const struct wd_flow_stats zero_flow_stats;

static __always_inline struct wd_prog_stats *prog_stats(__u32 prog)
{
	return bpf_map_lookup_elem(&wd_stats, &prog);
}

static __always_inline int quarantine_active(const struct wd_quarantine *q, __u64 now)
{
	return q->expires_ns == 0 || q->expires_ns > now;
}

/* The device's counters; creates them (and says so in an event) for a MAC never seen. */
static __always_inline struct wd_device_stats *device_stats(const struct wd_device_key *dev,
							    __u64 now, __u32 ifindex,
							    struct wd_prog_stats *st)
{
	struct wd_device_stats *ds = bpf_map_lookup_elem(&wd_devices, dev);
	if (ds)
		return ds;

	int err = bpf_map_update_elem(&wd_devices, dev, &zero_device_stats, BPF_NOEXIST);
	if (err == 0) {
		struct wd_event *ev = bpf_ringbuf_reserve(&wd_events, sizeof(*ev), 0);
		if (ev) {
			__builtin_memset(ev, 0, sizeof(*ev));
			ev->ts_ns = now;
			ev->kind = WD_EV_NEW_DEVICE;
			ev->ifindex = ifindex;
			mac_copy(ev->mac, dev->mac);
			bpf_ringbuf_submit(ev, 0);
		} else {
			st->events_lost++;
		}
	} else if (err != -EEXIST) {
		st->map_full++;
		return 0;
	}
	return bpf_map_lookup_elem(&wd_devices, dev);
}

static __always_inline void device_seen(struct wd_device_stats *ds, __u64 now)
{
	if (ds->first_seen_ns == 0)
		ds->first_seen_ns = now;
	ds->last_seen_ns = now;
}

#define WD_TCP_FIN 0x01
#define WD_TCP_SYN 0x02
#define WD_TCP_RST 0x04
#define WD_TCP_ACK 0x10

/* Keeps the device's latest source addresses. A link-local IPv6 address is kept only until
 * a routable one is seen: the routable one is what flows and findings will show. */
static __always_inline void device_note_address(struct wd_device_stats *ds, const struct pkt *p,
						__u64 now)
{
	if (!(p->flags & PKT_V6)) {
		__u32 a;
		__builtin_memcpy(&a, p->saddr + 12, 4);
		if (a == 0)
			return;
		__builtin_memcpy(ds->last_ip4, &a, 4);
		ds->ip4_seen_ns = now;
		return;
	}
	const __u8 *s = p->saddr;
	int unspecified = 1;
#pragma unroll
	for (int i = 0; i < 16; i++)
		if (s[i])
			unspecified = 0;
	if (unspecified)
		return;
	int link_local = s[0] == 0xfe && (s[1] & 0xc0) == 0x80;
	int have_routable = ds->ip6_seen_ns && !(ds->last_ip6[0] == 0xfe && (ds->last_ip6[1] & 0xc0) == 0x80);
	if (link_local && have_routable)
		return;
	__builtin_memcpy(ds->last_ip6, s, 16);
	ds->ip6_seen_ns = now;
}

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

static __always_inline void emit_limited(__u32 kind, const __u8 *mac, __u8 direction,
					 __u8 detail, const __u8 *addr, __u32 frame_len,
					 __u32 ifindex, __u64 now, struct wd_prog_stats *st)
{
	if (!event_allowed(mac, kind, now))
		return;
	struct wd_event *ev = bpf_ringbuf_reserve(&wd_events, sizeof(*ev), 0);
	if (!ev) {
		st->events_lost++;
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ts_ns = now;
	ev->kind = kind;
	ev->ifindex = ifindex;
	mac_copy(ev->mac, mac);
	ev->direction = direction;
	ev->detail = detail;
	ev->frame_len = frame_len;
	if (addr)
		__builtin_memcpy(ev->addr, addr, 16);
	bpf_ringbuf_submit(ev, 0);
}

/* Counts a dropped frame on the program and the device, and reports it (rate-limited). */
static __always_inline void count_drop(struct wd_prog_stats *st, const struct wd_device_key *dev,
				       __u32 reason, __u8 direction, const __u8 *addr,
				       __u32 len, __u32 ifindex, __u64 now, int create)
{
	if (reason >= WD_DROP_MAX)
		return;
	st->dropped[reason]++;
	struct wd_device_stats *ds =
		create ? device_stats(dev, now, ifindex, st) : bpf_map_lookup_elem(&wd_devices, dev);
	if (ds) {
		ds->drops[reason]++;
		if (create)
			device_seen(ds, now);
	}
	__u32 kind = reason == WD_DROP_BLOCKLIST ? WD_EV_BLOCKLIST_HIT : WD_EV_QUARANTINE_DROP;
	emit_limited(kind, dev->mac, direction, reason, addr, len, ifindex, now, st);
}

static __always_inline int is_gateway_addr(const __u8 *addr)
{
	return bpf_map_lookup_elem(&wd_gw_addrs, addr) != 0;
}

/* Returns the matching entry's flags, or 0 when the address is not on the blocklist. */
static __always_inline __u32 blocklist_flags(const __u8 *addr)
{
	struct wd_block_value *v;
	if (addr_is_v4(addr)) {
		struct wd_lpm_v4_key k4 = { .prefixlen = 32 };
		__builtin_memcpy(k4.addr, addr + 12, 4);
		v = bpf_map_lookup_elem(&wd_block_v4, &k4);
	} else {
		struct wd_lpm_v6_key k6 = { .prefixlen = 128 };
		__builtin_memcpy(k6.addr, addr, 16);
		v = bpf_map_lookup_elem(&wd_block_v6, &k6);
	}
	return v ? v->flags : 0;
}

#define PORT_DNS 53
#define PORT_DHCP_SERVER 67
#define PORT_DHCP_CLIENT 68
#define PORT_DHCP6_CLIENT 546
#define PORT_DHCP6_SERVER 547

static __always_inline int is_neighbour_discovery(const struct pkt *p)
{
	/* router/neighbour solicitation and advertisement, redirect: 133..137 */
	return p->l4 == IPPROTO_ICMPV6 && (p->flags & PKT_PORTS) && p->icmp_type >= 133 &&
	       p->icmp_type <= 137;
}

static __always_inline int udp_ports(const struct pkt *p, __u16 sport, __u16 dport)
{
	return p->l4 == IPPROTO_UDP && (p->flags & PKT_PORTS) && p->sport == bpf_htons(sport) &&
	       p->dport == bpf_htons(dport);
}

/* What a restricted device may still send: ARP, ND, DHCP/DHCPv6, DNS to the gateway. */
static __always_inline int restricted_allows_from_device(const struct pkt *p)
{
	if (p->l3 == ETH_P_ARP || is_neighbour_discovery(p))
		return 1;
	if (udp_ports(p, PORT_DHCP_CLIENT, PORT_DHCP_SERVER) ||
	    udp_ports(p, PORT_DHCP6_CLIENT, PORT_DHCP6_SERVER))
		return 1;
	return (p->l4 == IPPROTO_UDP || p->l4 == IPPROTO_TCP) && (p->flags & PKT_PORTS) &&
	       p->dport == bpf_htons(PORT_DNS) && is_gateway_addr(p->daddr);
}

/* What a restricted device may still receive: ARP, ND, and DHCP/DNS answers from the gateway. */
static __always_inline int restricted_allows_to_device(const struct pkt *p)
{
	if (p->l3 == ETH_P_ARP || is_neighbour_discovery(p))
		return 1;
	if (udp_ports(p, PORT_DHCP_SERVER, PORT_DHCP_CLIENT) ||
	    udp_ports(p, PORT_DHCP6_SERVER, PORT_DHCP6_CLIENT))
		return 1;
	return (p->l4 == IPPROTO_UDP || p->l4 == IPPROTO_TCP) && (p->flags & PKT_PORTS) &&
	       p->sport == bpf_htons(PORT_DNS) && is_gateway_addr(p->saddr);
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

/* Adds packets/bytes to the frame's flow entry, direction WD_FLOW_UP (from the device) or
 * WD_FLOW_DOWN (to it). */
static __always_inline void flow_account(const struct pkt *p, const __u8 *mac, int dir,
					 __u64 packets, __u64 bytes, __u64 now,
					 struct wd_prog_stats *st)
{
	struct wd_flow_key key = { .proto = p->l4 };
	mac_copy(key.mac, mac);
	if (dir == WD_FLOW_UP) {
		__builtin_memcpy(key.saddr, p->saddr, 16);
		__builtin_memcpy(key.daddr, p->daddr, 16);
		key.sport = p->sport;
		key.dport = p->dport;
	} else {
		__builtin_memcpy(key.saddr, p->daddr, 16);
		__builtin_memcpy(key.daddr, p->saddr, 16);
		key.sport = p->dport;
		key.dport = p->sport;
	}
	if (!(p->flags & PKT_PORTS)) {
		key.sport = 0;
		key.dport = 0;
	}

	struct wd_flow_stats *f = bpf_map_lookup_elem(&wd_flows, &key);
	if (!f) {
		int err = bpf_map_update_elem(&wd_flows, &key, &zero_flow_stats, BPF_NOEXIST);
		if (err && err != -EEXIST) {
			st->map_full++;
			return;
		}
		f = bpf_map_lookup_elem(&wd_flows, &key);
		if (!f)
			return;
		if (f->first_seen_ns == 0)
			f->first_seen_ns = now;
	}
	if (f->last_seen_ns != now)
		f->last_seen_ns = now;
	__sync_fetch_and_add(&f->packets[dir & 1], packets);
	__sync_fetch_and_add(&f->bytes[dir & 1], bytes);
	__u32 flags = p->l4 == IPPROTO_TCP ? p->tcp_flags : 0;
	if ((f->tcp_flags[dir & 1] & flags) != flags)
		__sync_fetch_and_or(&f->tcp_flags[dir & 1], flags);
}

#endif
