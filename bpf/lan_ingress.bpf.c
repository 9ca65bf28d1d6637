// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lan_ingress: XDP on every LAN port, so it sees every frame a device sends. The quarantine
 * check comes first, right after the Ethernet header, so an isolated device costs one hash
 * lookup; then the full parse, per-device counters, the destination blocklist, the flow
 * table, and copies of DHCP/DNS frames for device identity.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/ports.h"
#include "lib/counters.h"
#include "lib/events.h"
#include "lib/gateway.h"
#include "lib/enforce.h"
#include "lib/restricted.h"
#include "lib/flows.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Copies the frame's first bytes into a packet event. XDP has no load-bytes helper before
 * 5.18, so this walks the frame in 8-byte words, then the tail byte by byte. */
static __always_inline __u32 copy_frame(__u8 *dst, void *data, void *data_end)
{
	__u32 off = 0;
	for (int i = 0; i < WD_EVENT_COPY_MAX / 8; i++) {
		if (data + off + 8 > data_end)
			break;
		*(__u64 *)(dst + off) = *(__u64 *)(data + off);
		off += 8;
	}
	for (int i = 0; i < 7; i++) {
		if (off >= WD_EVENT_COPY_MAX || data + off + 1 > data_end)
			break;
		dst[off & (WD_EVENT_COPY_MAX - 1)] = *(__u8 *)(data + off);
		off++;
	}
	return off;
}

static __always_inline void emit_copy(struct xdp_md *ctx, const struct pkt *p, const __u8 *mac,
				      __u8 kind, __u64 now, struct wd_prog_stats *st)
{
	struct wd_event_packet *ev = copy_event_start(kind, mac, WD_DIR_FROM_DEVICE, p->len,
						      ctx->ingress_ifindex, now, st);
	if (!ev)
		return;
	ev->hdr.cap_len = copy_frame(ev->data, (void *)(long)ctx->data, (void *)(long)ctx->data_end);
	bpf_ringbuf_submit(ev, 0);
}

FRAME_PARSER(struct xdp_md)

SEC("xdp")
int lan_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct wd_prog_stats *st = prog_stats(WD_PROG_LAN_INGRESS);
	if (!st)
		return XDP_PASS;
	__u32 len = data_end - data;
	st->seen++;
	st->bytes += len;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end) {
		count_runt(st);
		return XDP_PASS;
	}

	/* Step 1: is the sender quarantined? Nothing else is read before this. */
	union device_key dev;
	dev.word = mac_word(eth->h_source);
	__u64 now = now_ns();
	__u32 ifindex = ctx->ingress_ifindex;
	struct wd_quarantine *q = bpf_map_lookup_elem(&wd_quarantine, &dev.key);
	int restricted = 0;
	if (q && quarantine_active(q, now)) {
		if (q->level == WD_LEVEL_ISOLATE) {
			count_quarantine_drop(st, q, dev.key.mac, WD_DROP_ISOLATED, WD_FLOW_UP, len,
					      ifindex, now);
			return XDP_DROP;
		}
		restricted = q->level == WD_LEVEL_RESTRICTED;
	}

	struct pkt p = {};
	parse_frame_of(ctx, &p);
	__u32 bucket = count_parsed(st, &p, 1);

	if (restricted && q && !restricted_allows_from_device(&p)) {
		count_quarantine_drop(st, q, dev.key.mac, WD_DROP_RESTRICTED, WD_FLOW_UP, len, ifindex,
				      now);
		return XDP_DROP;
	}

	struct wd_device_stats *ds = device_stats(&dev, now, ifindex, st);
	if (ds)
		device_seen(ds, now);

	/* Where the frame goes: everyone (broadcast/multicast), the gateway, or another device. */
	int multicast = MAC_IS_MULTICAST(eth->h_dest);
	int to_gateway = !multicast && is_gateway_mac(eth->h_dest);

	/* The flow entry first: it caches the blocklist's answer for its peer. */
	struct wd_flow_stats *f = 0;
	if (p.flags & PKT_IP) {
		int created = 0;
		f = flow_entry(&p, dev.word, WD_FLOW_UP, now, st, &created);
		/* An answer (a server's SYN+ACK, a reply) makes the entry but is no flow the
		 * device opened: it is neither counted nor reported. */
		if (created && ds && frame_opens_flow(&p))
			report_new_flow(ds, &p, dev.key.mac, !multicast && !to_gateway, ifindex, now,
					st);
		if (peer_block_flags(f, &p.daddr) & WD_BLOCK_OUT) {
			count_blocklist_drop(st, ds, dev.key.mac, WD_DIR_FROM_DEVICE, &p.daddr, len,
					     ifindex, now);
			return XDP_DROP;
		}
	}

	if (ds) {
		struct wd_counter *c = multicast ? &ds->bcast : to_gateway ? &ds->up : &ds->lateral;
		c->packets++;
		c->bytes += len;
		ds->proto_packets[bucket]++;
		int syn = p.l4 == IPPROTO_TCP && (p.flags & PKT_PORTS) &&
			  (p.tcp_flags & (WD_TCP_SYN | WD_TCP_ACK)) == WD_TCP_SYN;
		if (syn)
			ds->tcp_syn++;
		if ((p.flags & PKT_PORTS) && p.dport == bpf_htons(PORT_DNS) &&
		    (p.l4 == IPPROTO_UDP || syn))
			ds->dns_queries++;
		if (p.flags & PKT_IP)
			device_note_address(ds, &p, now);
	}

	if (f)
		flow_count(f, &p, WD_FLOW_UP, 1, len, now);
	if (p.flags & PKT_IP) {
		__u8 kind = copy_kind(&p, p.sport, p.dport);
		if (!kind && (kind = discovery_copy_kind(&p)) &&
		    !event_allowed(dev.key.mac, WD_LIMIT_DISCOVERY_COPY, now))
			kind = 0;
		if (kind)
			emit_copy(ctx, &p, dev.key.mac, kind, now, st);
	}

	st->passed++;
	return XDP_PASS;
}
