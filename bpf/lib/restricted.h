/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The restricted quarantine level (WD_LEVEL_RESTRICTED): what a device in it may still send
 * and receive. This is that level's security policy, all of it:
 *
 *   - ARP, both ways;
 *   - IPv6 neighbour discovery (ICMPv6 133..137) to link-scope multicast, link-local
 *     addresses or the gateway, and from link-local addresses or the gateway;
 *   - DHCP (client 68 to server 67) to the IPv4 broadcast or the gateway, and its answers
 *     from the gateway; DHCPv6 (546 to 547) to link-scope multicast or the gateway, and its
 *     answers from link-local addresses or the gateway;
 *   - DNS (UDP or TCP, port 53) to the gateway's own addresses, and its answers from them.
 *
 * So a restricted device keeps its address and can still resolve names through the gateway,
 * and nothing it may send can carry its traffic to the internet or to another device's
 * services. Every other frame is dropped, in both directions: lan_ingress for what the device
 * sends, lan_egress for what it is sent.
 */
#ifndef WARDEN_BPF_RESTRICTED_H
#define WARDEN_BPF_RESTRICTED_H

#include "common.h"
#include "parse.h"
#include "ports.h"
#include "gateway.h"

static __always_inline int is_neighbour_discovery(const struct pkt *p)
{
	/* router/neighbour solicitation and advertisement, redirect: 133..137. Only in IPv6:
	 * an ICMPv6 header in an IPv4 packet (protocol 58) is no neighbour discovery. */
	return p->l4 == IPPROTO_ICMPV6 && (p->flags & PKT_V6) && (p->flags & PKT_PORTS) &&
	       p->icmp_type >= 133 && p->icmp_type <= 137;
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
		return is_link_multicast(to) || is_link_local6(to->b) || to_gateway;
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
		return is_link_local6(from->b) || from_gateway;
	if (udp_ports(p, PORT_DHCP_SERVER, PORT_DHCP_CLIENT))
		return from_gateway;
	if (udp_ports(p, PORT_DHCP6_SERVER, PORT_DHCP6_CLIENT))
		return is_link_local6(from->b) || from_gateway;
	return is_dns(p, p->sport) && from_gateway;
}

#endif
