// The kernel programs and this controller share include/warden/abi.h; these asserts make
// any accidental change of size or layout a compile error rather than garbage in a map.
#include <cstddef>

#include "warden/abi.h"

#define WD_LAYOUT(type, size) static_assert(sizeof(struct type) == (size), #type " size changed")
#define WD_AT(type, field, off) \
    static_assert(offsetof(struct type, field) == (off), #type "." #field " moved")

WD_LAYOUT(wd_device_key, 8);
WD_AT(wd_device_key, pad, 6);

WD_LAYOUT(wd_counter, 16);
WD_LAYOUT(wd_device_stats, 216);
WD_AT(wd_device_stats, up, 0);
WD_AT(wd_device_stats, lateral, 16);
WD_AT(wd_device_stats, bcast, 32);
WD_AT(wd_device_stats, down, 48);
WD_AT(wd_device_stats, proto_packets, 64);
WD_AT(wd_device_stats, tcp_syn, 104);
WD_AT(wd_device_stats, blocklist_drops, 112);
WD_AT(wd_device_stats, first_seen_ns, 120);
WD_AT(wd_device_stats, last_seen_ns, 128);
WD_AT(wd_device_stats, ip4_seen_ns, 136);
WD_AT(wd_device_stats, ip6_seen_ns, 144);
WD_AT(wd_device_stats, last_ip4, 152);
WD_AT(wd_device_stats, last_ip6, 160);
WD_AT(wd_device_stats, flows_new, 176);
WD_AT(wd_device_stats, dns_queries, 184);
WD_AT(wd_device_stats, tcp_synack, 192);
WD_AT(wd_device_stats, flow_events_window_ns, 200);
WD_AT(wd_device_stats, flow_events, 208);

WD_LAYOUT(wd_flow_key, 44);
WD_AT(wd_flow_key, proto, 6);
WD_AT(wd_flow_key, saddr, 8);
WD_AT(wd_flow_key, daddr, 24);
WD_AT(wd_flow_key, sport, 40);
WD_AT(wd_flow_key, dport, 42);

WD_LAYOUT(wd_flow_stats, 64);
WD_AT(wd_flow_stats, packets, 16);
WD_AT(wd_flow_stats, bytes, 32);
WD_AT(wd_flow_stats, tcp_flags, 48);
WD_AT(wd_flow_stats, block_state, 56);

WD_LAYOUT(wd_quarantine, 72);
WD_AT(wd_quarantine, since_ns, 8);
WD_AT(wd_quarantine, expires_ns, 16);
WD_AT(wd_quarantine, dropped, 24);
WD_AT(wd_quarantine, last_drop_ns, 56);
WD_AT(wd_quarantine, last_event_ns, 64);
static_assert((WD_BLOCK_IN | WD_BLOCK_OUT) <= 3, "block flags must fit WD_BLOCK_STATE's two bits");

WD_LAYOUT(wd_lpm_v4_key, 8);
WD_LAYOUT(wd_lpm_v6_key, 20);
WD_LAYOUT(wd_block_value, 8);
WD_LAYOUT(wd_addr, 16);
WD_LAYOUT(wd_gateway, 8 * WD_GATEWAY_MACS_MAX + 16 * WD_GATEWAY_ADDRS_MAX + 8);
WD_AT(wd_gateway, addrs, 8 * WD_GATEWAY_MACS_MAX);
WD_LAYOUT(wd_evlimit_key, 8);

WD_LAYOUT(wd_event, 48);
WD_AT(wd_event, kind, 8);
WD_AT(wd_event, ifindex, 12);
WD_AT(wd_event, mac, 16);
WD_AT(wd_event, direction, 22);
WD_AT(wd_event, detail, 23);
WD_AT(wd_event, frame_len, 24);
WD_AT(wd_event, cap_len, 28);
WD_AT(wd_event, addr, 32);
WD_LAYOUT(wd_event_packet, 48 + WD_EVENT_COPY_MAX);
WD_LAYOUT(wd_event_flow, 56);
WD_AT(wd_event_flow, proto, 48);
WD_AT(wd_event_flow, sport, 52);
WD_AT(wd_event_flow, dport, 54);

WD_LAYOUT(wd_prog_stats, 8 * (4 + WD_DROP_MAX + WD_PROTO_MAX + 2 + 4));
