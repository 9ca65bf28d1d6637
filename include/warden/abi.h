/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The contract between warden's kernel programs and its userspace: map keys and values,
 * enums, map names and program ids. This is the only header both sides include, so the two
 * can never disagree. C, fixed-width types, explicit padding; the C++ side static_asserts
 * every size and offset (controller/dataplane/abi_check.cpp).
 */
#ifndef WARDEN_ABI_H
#define WARDEN_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* ---- map names (each within the kernel's 15-character limit) and pins ---- */
#define WD_PIN_DIR_DEFAULT "/sys/fs/bpf/warden"

#define WD_MAP_DEVICES    "wd_devices"    /* device_key -> per-CPU wd_device_stats (LRU)   */
#define WD_MAP_FLOWS      "wd_flows"      /* wd_flow_key -> wd_flow_stats (LRU)             */
#define WD_MAP_QUARANTINE "wd_quarantine" /* device_key -> per-CPU wd_quarantine            */
#define WD_MAP_BLOCK_V4   "wd_block_v4"   /* wd_lpm_v4_key -> wd_block_value (LPM trie)     */
#define WD_MAP_BLOCK_V6   "wd_block_v6"   /* wd_lpm_v6_key -> wd_block_value (LPM trie)     */
#define WD_MAP_GATEWAY    "wd_gateway"    /* [0] -> wd_gateway: the gateway's MACs, addresses */
#define WD_MAP_BLOCK_GEN  "wd_block_gen"  /* [0] -> __u64: blocklist generation; 0 = never
					  * written (lan_ingress then skips the trie) */
#define WD_MAP_EVLIMIT    "wd_evlimit"    /* wd_evlimit_key -> __u64 last event (ns)        */
#define WD_MAP_EVENTS     "wd_events"     /* ring buffer of wd_event / wd_event_packet       */
#define WD_MAP_STATS      "wd_stats"      /* __u32 slot -> per-CPU wd_prog_stats: one slot
					  * per program, then WD_STATS_USERSPACE      */

/* Default map sizes for a home; the loader overrides them from the policy. */
#define WD_DEFAULT_DEVICES    1024
#define WD_DEFAULT_FLOWS      65536
#define WD_DEFAULT_BLOCKLIST  65536  /* prefixes per address family */
#define WD_DEFAULT_QUARANTINE 1024
#define WD_DEFAULT_EVENTS_BYTES (256 * 1024) /* ring buffer size, a power of two */

/* ---- programs ---- */
enum wd_prog_id {
	WD_PROG_LAN_INGRESS = 0, /* XDP, LAN ports: frames sent by devices            */
	WD_PROG_LAN_EGRESS = 1,  /* tc clsact egress, LAN ports: frames sent to them  */
	WD_PROG_WAN_INGRESS = 2, /* XDP, WAN port: frames from the internet           */
	WD_PROG_MAX = 3,
};

/* wd_stats' last slot, written by userspace only: the entries it removed from wd_devices and
 * wd_flows (devices_removed, flows_removed), so that they are not taken for evictions. */
#define WD_STATS_USERSPACE WD_PROG_MAX
#define WD_STATS_SLOTS (WD_PROG_MAX + 1)

/* ---- enums shared by both sides ---- */
enum wd_quarantine_level {
	WD_LEVEL_NONE = 0,
	WD_LEVEL_RESTRICTED = 1, /* only ARP, ND, DHCP/DHCPv6 and DNS to the gateway pass */
	WD_LEVEL_ISOLATE = 2,    /* nothing passes, in either direction                    */
};

/* Who or what put a device in quarantine (the free-text reason lives in the state dir). */
enum wd_quarantine_origin {
	WD_ORIGIN_UNSPEC = 0,
	WD_ORIGIN_OPERATOR = 1,
	WD_ORIGIN_DETECTOR = 2,
	WD_ORIGIN_POLICY = 3,
};

enum wd_drop_reason {
	WD_DROP_ISOLATED = 0,   /* source/destination device is isolated           */
	WD_DROP_RESTRICTED = 1, /* restricted device, frame not on the allowed list */
	WD_DROP_BLOCKLIST = 2,  /* address on the blocklist                          */
	WD_DROP_MAX = 3,
};

/* Protocol buckets for per-device and per-program counts. */
enum wd_proto {
	WD_PROTO_TCP = 0,
	WD_PROTO_UDP = 1,
	WD_PROTO_ICMP = 2,   /* ICMP and ICMPv6 */
	WD_PROTO_ARP = 3,
	WD_PROTO_OTHER = 4,  /* other IP protocols, fragments without ports, unknown EtherTypes */
	WD_PROTO_MAX = 5,
};

enum wd_event_kind {
	WD_EV_NEW_DEVICE = 1,      /* first frame from a MAC not in wd_devices                 */
	WD_EV_QUARANTINE_DROP = 2, /* a quarantined device's frame was dropped (rate-limited)  */
	WD_EV_BLOCKLIST_HIT = 3,   /* a frame to/from a blocklisted address (rate-limited)     */
	WD_EV_PACKET_COPY = 4,     /* first bytes of a DHCP/DHCPv6/DNS frame: wd_event_packet  */
	WD_EV_NEW_FLOW = 5,        /* a device opened a flow (wd_device_opened_flow):
				    * wd_event_flow; at most
				    * WD_FLOW_EVENTS_PER_S a device a second (per CPU), the rest
				    * only counted in wd_device_stats.flows_new */
};

/* wd_event.detail for WD_EV_PACKET_COPY: which kind of frame was copied. */
enum wd_copy_kind {
	WD_COPY_DHCP4 = 1,
	WD_COPY_DHCP6 = 2,
	WD_COPY_DNS = 3,
	WD_COPY_MDNS = 4, /* UDP 5353, sent by the device; at most one per device per interval */
	WD_COPY_SSDP = 5, /* UDP 1900, sent by the device; likewise */
};

/* wd_evlimit_key.kind for the rate limit of mDNS/SSDP copies (not an event kind). */
#define WD_LIMIT_DISCOVERY_COPY 16

/* wd_event.direction: which program saw the frame. */
enum wd_direction {
	WD_DIR_FROM_DEVICE = 0, /* lan_ingress */
	WD_DIR_TO_DEVICE = 1,   /* lan_egress  */
	WD_DIR_FROM_WAN = 2,    /* wan_ingress */
};

/* wd_block_value.flags */
#define WD_BLOCK_OUT 0x1u /* drop frames from the LAN to this destination (lan_ingress) */
#define WD_BLOCK_IN  0x2u /* drop frames from this source arriving on the WAN          */

#define WD_EVENT_COPY_MAX 512 /* bytes of a DHCP/DNS frame copied into an event */
#define WD_EVENT_INTERVAL_NS 1000000000ULL /* rate limit: one event per device and kind */

/* ---- keys and values ---- */
struct wd_device_key {
	__u8 mac[6];
	__u16 pad; /* always zero */
};

struct wd_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * Per-CPU per-device counters. "up" is unicast to one of the gateway's MACs (the internet or
 * the gateway itself), "lateral" unicast to another LAN MAC, "bcast" broadcast/multicast,
 * "down" what the gateway sent to the device. Userspace sums the CPUs; for the timestamps it
 * takes the min (first_seen) and max (last_seen, ip*_seen).
 */
struct wd_device_stats {
	struct wd_counter up;
	struct wd_counter lateral;
	struct wd_counter bcast;
	struct wd_counter down;
	__u64 proto_packets[WD_PROTO_MAX]; /* sent by the device, by protocol bucket */
	__u64 tcp_syn;                     /* TCP SYN without ACK sent by the device */
	__u64 blocklist_drops;             /* frames to blocklisted addresses dropped; quarantine
					    * drops are counted in the wd_quarantine entry */
	__u64 first_seen_ns;               /* CLOCK_MONOTONIC (coarse)               */
	__u64 last_seen_ns;
	__u64 ip4_seen_ns;
	__u64 ip6_seen_ns;
	__u8 last_ip4[4];   /* network byte order */
	__u8 pad[4];
	__u8 last_ip6[16];
	/* For the behaviour engine: exact per-device counts of what its features are made of. */
	__u64 flows_new;   /* flows the device opened: lan_ingress created the entry, and
			    * wd_device_opened_flow says the frame opened it */
	__u64 dns_queries; /* DNS queries sent (UDP to port 53, TCP SYNs to port 53) */
	__u64 tcp_synack;  /* TCP SYN+ACK received (lan_egress): attempts that were answered */
	/* This CPU's budget of WD_EV_NEW_FLOW events (cfg_flow_events_per_s a second). */
	__u64 flow_events_window_ns;
	__u32 flow_events;
	__u32 pad2;
};

/*
 * A flow as seen from the device: saddr/sport are the device's side, daddr/dport the peer's,
 * in both directions (lan_egress swaps before it looks up). IPv4 as v4-mapped IPv6.
 * ICMP echo: sport = dport = identifier; other ICMP: sport = dport = type << 8 | code.
 */
struct wd_flow_key {
	__u8 mac[6];
	__u8 proto; /* IPPROTO_* */
	__u8 pad;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; /* network byte order */
	__u16 dport;
};

/* Index into wd_flow_stats' per-direction arrays. */
#define WD_FLOW_UP 0   /* sent by the device */
#define WD_FLOW_DOWN 1 /* sent to the device */

struct wd_flow_stats {
	__u64 first_seen_ns;
	__u64 last_seen_ns;
	__u64 packets[2];
	__u64 bytes[2];
	__u32 tcp_flags[2]; /* OR of the TCP flag byte, per direction */
	/*
	 * The blocklist's answer for the peer, cached so the LPM trie is walked once per flow
	 * rather than once per frame: generation << 2 | WD_BLOCK_* flags of the match (0: not
	 * listed). Valid while the generation equals wd_block_gen[0], which userspace moves on
	 * after every blocklist change. One word, so no CPU sees a new generation with old flags.
	 */
	__u64 block_state;
};

#define WD_BLOCK_STATE(gen, flags) ((__u64)(gen) << 2 | ((flags) & 3))

/*
 * Per-CPU, so the drop path of a flooding device writes only its own CPU's cache lines and
 * counts its drops in the entry it already looked up. The controller writes the same policy
 * (level .. expires_ns) to every CPU; the programs write the rest, and userspace sums it.
 */
struct wd_quarantine {
	__u32 level;  /* enum wd_quarantine_level */
	__u32 origin; /* enum wd_quarantine_origin */
	__u64 since_ns;   /* CLOCK_MONOTONIC */
	__u64 expires_ns; /* CLOCK_MONOTONIC; 0 = until released */
	/* written by the programs */
	struct wd_counter dropped[2]; /* [WD_FLOW_UP] sent by the device, [WD_FLOW_DOWN] to it */
	__u64 last_drop_ns;
	__u64 last_event_ns; /* this CPU's last drop event: a cheap check before wd_evlimit */
};

struct wd_lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct wd_lpm_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct wd_block_value {
	__u32 list_id; /* which list the prefix came from (0 = operator) */
	__u32 flags;   /* WD_BLOCK_IN | WD_BLOCK_OUT */
};

struct wd_addr {
	__u8 addr[16]; /* IPv4 as v4-mapped IPv6 */
};

#define WD_GATEWAY_MACS_MAX 8
#define WD_GATEWAY_ADDRS_MAX 16

/*
 * The gateway's own identity, one array slot: frames to one of its MACs count as "up",
 * DNS to one of its addresses is allowed for a restricted device. A few entries compared
 * in a loop beat a hash lookup on every frame.
 */
struct wd_gateway {
	__u8 macs[WD_GATEWAY_MACS_MAX][8]; /* 6-byte MACs, last two bytes zero */
	struct wd_addr addrs[WD_GATEWAY_ADDRS_MAX];
	__u32 n_macs;
	__u32 n_addrs;
};

struct wd_evlimit_key {
	__u8 mac[6];
	__u8 kind; /* enum wd_event_kind */
	__u8 pad;
};

struct wd_event {
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u32 kind;  /* enum wd_event_kind */
	__u32 ifindex;
	__u8 mac[6];     /* the device concerned (for WAN events: the frame's source MAC) */
	__u8 direction;  /* enum wd_direction */
	__u8 detail;     /* drop reason, or wd_copy_kind for copies */
	__u32 frame_len; /* length of the frame on the wire */
	__u32 cap_len;   /* bytes in wd_event_packet.data */
	__u8 addr[16];   /* blocklist hit: the matched address (v4-mapped) */
};

struct wd_event_flow {
	struct wd_event hdr; /* mac: the device; addr: the peer; frame_len: its first frame */
	__u8 proto;          /* IPPROTO_* */
	__u8 lateral;        /* 1: to another LAN device (not to a gateway MAC) */
	__u8 tcp_flags;      /* of the first frame */
	__u8 pad;
	__be16 sport;        /* the device's port */
	__be16 dport;        /* the peer's port */
};

#define WD_FLOW_EVENTS_PER_S 256 /* default; a load-time setting */

/* TCP flag bits, as in wd_flow_stats.tcp_flags and wd_event_flow.tcp_flags. */
#define WD_TCP_FIN 0x01
#define WD_TCP_SYN 0x02
#define WD_TCP_RST 0x04
#define WD_TCP_ACK 0x10

/*
 * Which side opened a flow, judged from the first frame of it warden saw, when the device
 * sent that frame (a flow whose first frame went to the device was opened by the peer).
 * Only a flow the device opened counts as one (wd_device_stats.flows_new, WD_EV_NEW_FLOW);
 * a frame that answers is never the device's connection attempt, so a server answering
 * many clients whose own first frames warden did not see (right after it starts, or on a
 * path it does not watch) is not taken for a port scan. docs/DETECTION.md states the rule;
 * the kernel programs apply it, and the tests and the replay model use this same code.
 *
 * A port's rank says what kind of port it looks like: 0 a well-known service port
 * (below 1024), 1 a registered one, 2 one from the range systems pick client ports from
 * (from 32768: Linux's default start; the IANA range, from 49152, lies inside it).
 */
static inline int wd_port_rank(__u16 port)
{
	return port < 1024 ? 0 : port < 32768 ? 1 : 2;
}

/* ICMP messages that answer another's packet: echo and other replies, and errors. */
static inline int wd_icmp_answers(__u8 proto, __u8 type)
{
	if (proto == 58) /* ICMPv6: errors are types 0..127, echo reply 129 */
		return type < 128 || type == 129;
	/* ICMP: echo reply 0, unreachable 3, source quench 4, redirect 5, time exceeded 11,
	 * parameter problem 12, timestamp, information and address-mask replies 14, 16, 18 */
	return type == 0 || (type >= 3 && type <= 5) || type == 11 || type == 12 || type == 14 ||
	       type == 16 || type == 18;
}

/*
 * proto: IPPROTO_*; has_header: the transport header was read (ports, TCP flags, ICMP type
 * are valid); ports in host byte order.
 *   TCP: a SYN without ACK opens; a SYN+ACK or a RST never does. Any other segment is a
 *        connection already under way: the device's own when its port ranks above the
 *        peer's (a client port talking to a service port), the peer's when it ranks below
 *        (a server answering), unknown, and so not counted, when they rank the same.
 *   UDP: the device opened it unless its port ranks below the peer's (a server answering).
 *   ICMP, ICMPv6: opened unless the message answers (replies, errors).
 *   Anything else, and frames without a readable transport header (later fragments):
 *        opened, except TCP, whose flags are unseen.
 */
static inline int wd_device_opened_flow(__u8 proto, int has_header, __u8 tcp_flags, __u8 icmp_type,
					__u16 device_port, __u16 peer_port)
{
	if (proto == 6) { /* TCP */
		if (!has_header || (tcp_flags & WD_TCP_RST))
			return 0;
		if (tcp_flags & WD_TCP_SYN)
			return !(tcp_flags & WD_TCP_ACK);
		return wd_port_rank(device_port) > wd_port_rank(peer_port);
	}
	if (!has_header)
		return 1;
	if (proto == 17) /* UDP */
		return wd_port_rank(device_port) >= wd_port_rank(peer_port);
	if (proto == 1 || proto == 58) /* ICMP, ICMPv6 */
		return !wd_icmp_answers(proto, icmp_type);
	return 1;
}

struct wd_event_packet {
	struct wd_event hdr;
	__u8 data[WD_EVENT_COPY_MAX]; /* the frame from its Ethernet header on */
};

struct wd_prog_stats {
	__u64 seen;
	__u64 passed;
	__u64 bytes;
	__u64 unparsed;                    /* passed without understanding it all */
	__u64 dropped[WD_DROP_MAX];
	__u64 proto_packets[WD_PROTO_MAX];
	__u64 events_lost;                 /* ring buffer full */
	__u64 map_full;                    /* device/flow insert failed (an LRU map evicts
					    * instead: see devices_added, flows_added) */
	/*
	 * Entries this program added to the LRU maps. The kernel counts no evictions; what was
	 * added and is neither in the map nor removed by userspace (WD_STATS_USERSPACE) was
	 * evicted, and the controller derives that (controller/dataplane/evictions.h).
	 */
	__u64 devices_added;
	__u64 flows_added;
	__u64 devices_removed; /* WD_STATS_USERSPACE only */
	__u64 flows_removed;   /* WD_STATS_USERSPACE only */
};

#endif /* WARDEN_ABI_H */
