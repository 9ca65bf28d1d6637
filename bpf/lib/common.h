/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every warden BPF program includes: kernel UAPI types, libbpf helpers, the ABI. */
#ifndef WARDEN_BPF_COMMON_H
#define WARDEN_BPF_COMMON_H

/*
 * UAPI headers rather than a vmlinux.h: these programs touch only UAPI structures (packet
 * headers, xdp_md, __sk_buff) and need no CO-RE, so the objects build on any machine for any
 * target kernel >= 5.15 without that kernel's BTF at hand (CPE are usually cross-built).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "warden/abi.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

#define MAC_IS_MULTICAST(mac) ((mac)[0] & 0x01)

/* Load-time settings, written through the skeleton's rodata between open and load. */
const volatile __u64 cfg_event_interval_ns = WD_EVENT_INTERVAL_NS;
const volatile __u32 cfg_flow_events_per_s = WD_FLOW_EVENTS_PER_S;

static __always_inline void mac_copy(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 6);
}

/*
 * Keys are built from 8-byte words, never byte by byte: the kernel hashes keys in 4-byte
 * loads, and a load that straddles several narrow stores stalls the CPU (store-forwarding).
 * Measured here, byte-built keys cost more than the lookups themselves.
 */
union addr16 {
	__u8 b[16];
	__u32 w[4];
	__u64 d[2];
};

/* struct wd_device_key as one word: the MAC's bytes in memory order, then two zero bytes. */
union device_key {
	struct wd_device_key key;
	__u64 word;
};

static __always_inline __u64 mac_word(const __u8 *mac)
{
	__u64 lo = *(const __u32 *)mac;
	__u64 hi = *(const __u16 *)(mac + 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return lo | hi << 32;
#else
	return lo << 32 | hi << 16;
#endif
}

/* The clock for stamps and expiry: CLOCK_MONOTONIC at tick resolution, much cheaper here
 * than bpf_ktime_get_ns (DESIGN.md, machine notes). */
static __always_inline __u64 now_ns(void)
{
	return bpf_ktime_get_coarse_ns();
}

#endif
