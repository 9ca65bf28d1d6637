// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lan_egress: tc clsact egress on every LAN port, so it sees every frame sent to a device.
 * Downstream counters by destination MAC, the reverse direction of the device's flows (the
 * same entries lan_ingress fills), copies of DHCP/DNS answers, and the quarantine drop
 * towards the device, so nothing can reach a quarantined device either.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/counters.h"
#include "lib/events.h"
#include "lib/enforce.h"
#include "lib/restricted.h"
#include "lib/flows.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Headers we want in the linear part of the skb for direct access. */
#define PULL_LEN 256

static __always_inline void emit_copy(struct __sk_buff *skb, const struct pkt *p, const __u8 *mac,
				      __u8 kind, __u64 now, struct wd_prog_stats *st)
{
	struct wd_event_packet *ev = copy_event_start(kind, mac, WD_DIR_TO_DEVICE, skb->len,
						      skb->ifindex, now, st);
	if (!ev)
		return;
	__u32 cap = skb->len < WD_EVENT_COPY_MAX ? skb->len : WD_EVENT_COPY_MAX;
	if (cap == 0 || bpf_skb_load_bytes(skb, 0, ev->data, cap) < 0)
		cap = 0;
	ev->hdr.cap_len = cap;
	bpf_ringbuf_submit(ev, 0);
}

FRAME_PARSER(struct __sk_buff)

SEC("tc")
int lan_egress(struct __sk_buff *skb)
{
	struct wd_prog_stats *st = prog_stats(WD_PROG_LAN_EGRESS);
	if (!st)
		return TC_ACT_OK;

	/* Large (GSO) skbs may keep headers outside the linear part. */
	__u32 want = skb->len < PULL_LEN ? skb->len : PULL_LEN;
	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	/* One GSO skb is several frames on the wire; count them as the device will see them. */
	__u32 segs = skb->gso_segs > 1 ? skb->gso_segs : 1;
	__u64 len = skb->len;
	st->seen += segs;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end) {
		st->bytes += len;
		count_runt(st);
		return TC_ACT_OK;
	}

	union device_key dev;
	dev.word = mac_word(eth->h_dest);
	int unicast = !MAC_IS_MULTICAST(eth->h_dest);
	__u64 now = now_ns();
	struct wd_quarantine *q = 0;
	int restricted = 0;
	if (unicast)
		q = bpf_map_lookup_elem(&wd_quarantine, &dev.key);
	if (q && quarantine_active(q, now)) {
		if (q->level == WD_LEVEL_ISOLATE) {
			st->bytes += len;
			count_quarantine_drop(st, q, dev.key.mac, WD_DROP_ISOLATED, WD_FLOW_DOWN, len,
					      skb->ifindex, now);
			return TC_ACT_SHOT;
		}
		restricted = q->level == WD_LEVEL_RESTRICTED;
	}

	struct pkt p = {};
	parse_frame_of(skb, &p);
	p.len = len;
	if (segs > 1 && p.payload_off)
		len += (__u64)(segs - 1) * p.payload_off;
	st->bytes += len;
	count_parsed(st, &p, segs);

	if (restricted && q && !restricted_allows_to_device(&p)) {
		count_quarantine_drop(st, q, dev.key.mac, WD_DROP_RESTRICTED, WD_FLOW_DOWN, len,
				      skb->ifindex, now);
		return TC_ACT_SHOT;
	}

	if (unicast) {
		/* Only MACs seen sending are devices; others are not counted as one. */
		struct wd_device_stats *ds = bpf_map_lookup_elem(&wd_devices, &dev.key);
		if (ds) {
			ds->down.packets += segs;
			ds->down.bytes += len;
			if (p.l4 == IPPROTO_TCP && (p.flags & PKT_PORTS) &&
			    (p.tcp_flags & (WD_TCP_SYN | WD_TCP_ACK)) == (WD_TCP_SYN | WD_TCP_ACK))
				ds->tcp_synack++;
		}
		if (p.flags & PKT_IP) {
			int created = 0;
			struct wd_flow_stats *f = flow_entry(&p, dev.word, WD_FLOW_DOWN, now, st, &created);
			if (f)
				flow_count(f, &p, WD_FLOW_DOWN, segs, len, now);
		}
	}
	if (p.flags & PKT_IP) {
		__u8 kind = copy_kind(&p, p.dport, p.sport);
		if (kind)
			emit_copy(skb, &p, dev.key.mac, kind, now, st);
	}

	st->passed += segs;
	return TC_ACT_OK;
}
