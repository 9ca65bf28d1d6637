// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * wan_ingress: XDP on the WAN port. Drops frames whose source address is on the inbound
 * blocklist, counts WAN totals in its stats slot, and passes everything else untouched.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/counters.h"
#include "lib/events.h"
#include "lib/enforce.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

FRAME_PARSER(struct xdp_md)

SEC("xdp")
int wan_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct wd_prog_stats *st = prog_stats(WD_PROG_WAN_INGRESS);
	if (!st)
		return XDP_PASS;
	__u32 len = data_end - data;
	st->seen++;
	st->bytes += len;

	struct pkt p = {};
	parse_frame_of(ctx, &p);
	count_parsed(st, &p, 1);

	if ((p.flags & PKT_IP) && (blocklist_flags(&p.saddr) & WD_BLOCK_IN)) {
		/* The rate limit is per upstream MAC: one WAN blocklist event per second. */
		__u8 src[6] = {};
		struct ethhdr *eth = data;
		if ((void *)(eth + 1) <= data_end)
			mac_copy(src, eth->h_source);
		count_blocklist_drop(st, 0, src, WD_DIR_FROM_WAN, &p.saddr, len,
				     ctx->ingress_ifindex, now_ns());
		return XDP_DROP;
	}

	st->passed++;
	return XDP_PASS;
}
