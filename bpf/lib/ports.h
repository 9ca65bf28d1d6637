/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The well-known ports the programs recognise: DNS and DHCP (what a restricted device may
 * still use, what is copied for device identity), mDNS and SSDP (copied too). */
#ifndef WARDEN_BPF_PORTS_H
#define WARDEN_BPF_PORTS_H

#define PORT_DNS 53
#define PORT_DHCP_SERVER 67
#define PORT_DHCP_CLIENT 68
#define PORT_DHCP6_CLIENT 546
#define PORT_DHCP6_SERVER 547
#define PORT_SSDP 1900
#define PORT_MDNS 5353

#endif
