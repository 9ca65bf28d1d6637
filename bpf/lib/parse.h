/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Frame parsing for every program: Ethernet, up to two VLAN tags, ARP, IPv4 (options,
 * fragments), IPv6 (a bounded walk over extension headers), TCP, UDP, ICMP, ICMPv6.
 * Each step checks its bounds against data_end before it reads. A frame that cannot be
 * understood is never an error: the parse stops, marks it PKT_UNPARSED, and the program
 * passes it.
 */
#ifndef WARDEN_BPF_PARSE_H
#define WARDEN_BPF_PARSE_H

#include "common.h"

#define PKT_IP 0x01       /* saddr/daddr are valid */
#define PKT_PORTS 0x02    /* sport/dport are valid (TCP, UDP, ICMP echo/others) */
#define PKT_UNPARSED 0x04 /* truncated, malformed or of an unknown EtherType */
#define PKT_V6 0x08
#define PKT_LATER_FRAG 0x10 /* a non-first fragment: no transport header */

#define IPV6_EXT_MAX 8 /* extension headers walked before giving up */

struct vlan_tag {
	__be16 tci;
	__be16 inner_proto;
};

struct ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3 | flags */
	__be32 identification;
};

/* ICMP and ICMPv6 share this layout (linux/icmp.h drags in libc headers, so not used). */
struct icmp_hdr {
	__u8 type;
	__u8 code;
	__be16 checksum;
	__be16 id;  /* echo only */
	__be16 seq; /* echo only */
};

#define ICMP4_ECHO_REPLY 0
#define ICMP4_ECHO_REQUEST 8
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129

struct pkt {
	__u32 len;   /* whole frame */
	__u16 l3;    /* EtherType after VLAN tags, host order */
	__u8 l4;     /* IPPROTO_*, 0 when there is no IP header */
	__u8 flags;  /* PKT_* */
	union addr16 saddr; /* IPv4 as v4-mapped IPv6 */
	union addr16 daddr;
	__be16 sport;
	__be16 dport;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 bucket; /* enum wd_proto */
	__u8 vlans;
	__u16 payload_off; /* where the transport payload starts; 0 when unknown */
};

struct cursor {
	void *start;
	void *pos;
	void *end;
};

/* ::ffff:a.b.c.d, written as two words. */
static __always_inline void v4_mapped(union addr16 *dst, __be32 addr)
{
	dst->d[0] = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	dst->d[1] = (__u64)addr << 32 | 0xffff0000ULL;
#else
	dst->d[1] = 0x0000ffffULL << 32 | addr;
#endif
}

static __always_inline int addr_is_v4(const union addr16 *a)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return a->d[0] == 0 && (__u32)a->d[1] == 0xffff0000U;
#else
	return a->d[0] == 0 && (a->d[1] >> 32) == 0x0000ffffU;
#endif
}

/* fe80::/10: never routed, so such an address is on this link, not on the internet. */
static __always_inline int is_link_local6(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* Returns the EtherType after the Ethernet header and VLAN tags, or -1 when truncated. */
static __always_inline int parse_eth(struct cursor *c, struct pkt *p)
{
	struct ethhdr *eth = c->pos;
	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	__u16 proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		struct vlan_tag *tag = c->pos;
		if ((void *)(tag + 1) > c->end)
			return -1;
		c->pos = tag + 1;
		proto = bpf_ntohs(tag->inner_proto);
		p->vlans++;
	}
	return proto;
}

/* Returns the transport protocol, or -1 when the header is truncated or malformed. */
static __always_inline int parse_ipv4(struct cursor *c, struct pkt *p)
{
	struct iphdr *ip = c->pos;
	if ((void *)(ip + 1) > c->end)
		return -1;
	__u32 hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip) || ip->version != 4)
		return -1;
	if (c->pos + hlen > c->end)
		return -1;
	c->pos += hlen;
	v4_mapped(&p->saddr, ip->saddr);
	v4_mapped(&p->daddr, ip->daddr);
	p->flags |= PKT_IP;
	if (ip->frag_off & bpf_htons(0x1fff))
		p->flags |= PKT_LATER_FRAG;
	return ip->protocol;
}

static __always_inline int parse_ipv6(struct cursor *c, struct pkt *p)
{
	struct ipv6hdr *ip6 = c->pos;
	if ((void *)(ip6 + 1) > c->end)
		return -1;
	if (ip6->version != 6)
		return -1;
	c->pos = ip6 + 1;
	__builtin_memcpy(&p->saddr, &ip6->saddr, 16);
	__builtin_memcpy(&p->daddr, &ip6->daddr, 16);
	p->flags |= PKT_IP | PKT_V6;

	__u8 next = ip6->nexthdr;
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
			struct ipv6_ext *ext = c->pos;
			if ((void *)(ext + 1) > c->end)
				return -1;
			next = ext->nexthdr;
			c->pos += (ext->hdrlen + 1) * 8;
		} else if (next == IPPROTO_FRAGMENT) {
			struct ipv6_frag *frag = c->pos;
			if ((void *)(frag + 1) > c->end)
				return -1;
			next = frag->nexthdr;
			if (frag->frag_off & bpf_htons(0xfff8))
				p->flags |= PKT_LATER_FRAG;
			c->pos = frag + 1;
		} else {
			return next;
		}
	}
	/* IPV6_EXT_MAX headers walked: what follows is the transport, unless the chain goes
	 * on, and then it is too long and the transport header stays unknown. */
	if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
	    next == IPPROTO_FRAGMENT)
		return -1;
	return next;
}

static __always_inline int parse_l4(struct cursor *c, struct pkt *p)
{
	switch (p->l4) {
	case IPPROTO_TCP: {
		struct tcphdr *tcp = c->pos;
		if ((void *)(tcp + 1) > c->end)
			return -1;
		p->sport = tcp->source;
		p->dport = tcp->dest;
		p->tcp_flags = ((__u8 *)tcp)[13];
		p->bucket = WD_PROTO_TCP;
		p->payload_off = (c->pos - c->start) + tcp->doff * 4;
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *udp = c->pos;
		if ((void *)(udp + 1) > c->end)
			return -1;
		p->sport = udp->source;
		p->dport = udp->dest;
		p->bucket = WD_PROTO_UDP;
		p->payload_off = (c->pos - c->start) + sizeof(*udp);
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		/* type, code, checksum, then id and sequence for echo: both families alike */
		struct icmp_hdr *icmp = c->pos;
		if ((void *)(icmp + 1) > c->end)
			return -1;
		__u8 type = icmp->type;
		int echo = p->l4 == IPPROTO_ICMP
				   ? (type == ICMP4_ECHO_REQUEST || type == ICMP4_ECHO_REPLY)
				   : (type == ICMP6_ECHO_REQUEST || type == ICMP6_ECHO_REPLY);
		__be16 id = echo ? icmp->id : bpf_htons((__u16)type << 8 | icmp->code);
		p->sport = id;
		p->dport = id;
		p->icmp_type = type;
		p->bucket = WD_PROTO_ICMP;
		break;
	}
	default:
		return 0;
	}
	p->flags |= PKT_PORTS;
	return 0;
}

/* Fills p from the frame; never fails, PKT_UNPARSED says it stopped early. */
static __always_inline void parse_frame(void *data, void *data_end, struct pkt *p)
{
	struct cursor c = { .start = data, .pos = data, .end = data_end };
	p->len = data_end - data;
	p->bucket = WD_PROTO_OTHER;

	int proto = parse_eth(&c, p);
	if (proto < 0)
		goto unparsed;
	p->l3 = proto;

	int l4;
	if (proto == ETH_P_IP) {
		l4 = parse_ipv4(&c, p);
	} else if (proto == ETH_P_IPV6) {
		l4 = parse_ipv6(&c, p);
	} else if (proto == ETH_P_ARP) {
		p->bucket = WD_PROTO_ARP;
		return;
	} else {
		goto unparsed;
	}
	if (l4 < 0)
		goto unparsed;
	p->l4 = l4;
	if (p->flags & PKT_LATER_FRAG)
		return;
	if (parse_l4(&c, p) < 0)
		goto unparsed;
	return;
unparsed:
	p->flags |= PKT_UNPARSED;
}

/*
 * FRAME_PARSER(ctx_type) defines parse_frame_of(ctx, p): parse_frame as a global function
 * for the program's context, struct xdp_md or struct __sk_buff (both have data and
 * data_end). A global (not inlined) function is verified once on its own, and its caller
 * continues with one state whatever path the parse took: inlined, the verifier walks the
 * rest of the program once per way through the IPv6 extension-header loop (300k
 * instructions, not 23k). A global function cannot take packet pointers, hence the context;
 * and the context's type differs between XDP and tc, hence the macro. One per program.
 */
#define FRAME_PARSER(ctx_type)                                                          \
	__noinline int parse_frame_of(ctx_type *ctx, struct pkt *p)                     \
	{                                                                               \
		if (!p)                                                                 \
			return 0;                                                       \
		parse_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end, p);  \
		return 0;                                                               \
	}

#endif
