/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The gateway's own MACs and addresses (wd_gateway): frames to one of its MACs go "up" to the
 * internet or the gateway; its addresses are where a restricted device may still ask DNS. */
#ifndef WARDEN_BPF_GATEWAY_H
#define WARDEN_BPF_GATEWAY_H

#include "common.h"
#include "maps.h"

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

#endif
