#!/bin/sh
# dhclient's hook for the testbed devices (scripts/testbed.sh copies it into the state dir and
# passes it with -sf). dhclient calls it with $reason and new_*/old_* variables. It only sets
# the leased address and the default route on $interface: unlike Debian's dhclient-script it
# never writes /etc/resolv.conf or the hostname, which belong to the host, not to a device
# namespace (the testbed gives each device its own /etc/netns/<ns>/resolv.conf instead).
# shellcheck disable=SC2154 # reason, interface, new_* and old_* come from dhclient
PATH=/usr/sbin:/usr/bin:/sbin:/bin

prefix_length() { # dotted netmask -> prefix length
  bits=0
  for octet in $(echo "$1" | tr . ' '); do
    case $octet in
      255) bits=$((bits + 8)) ;; 254) bits=$((bits + 7)) ;; 252) bits=$((bits + 6)) ;;
      248) bits=$((bits + 5)) ;; 240) bits=$((bits + 4)) ;; 224) bits=$((bits + 3)) ;;
      192) bits=$((bits + 2)) ;; 128) bits=$((bits + 1)) ;;
    esac
  done
  echo "$bits"
}

case "$reason" in
  PREINIT)
    ip link set dev "$interface" up
    ;;
  BOUND|RENEW|REBIND|REBOOT)
    new_plen=$(prefix_length "${new_subnet_mask:-255.255.255.0}")
    if [ -n "${old_ip_address:-}" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
      ip -4 addr del "$old_ip_address/$(prefix_length "${old_subnet_mask:-255.255.255.0}")" \
        dev "$interface" 2>/dev/null
    fi
    lifetime=${new_dhcp_lease_time:-forever}
    ip -4 addr replace "$new_ip_address/$new_plen" dev "$interface" \
      valid_lft "$lifetime" preferred_lft "$lifetime" || exit 1
    for router in ${new_routers:-}; do
      ip -4 route replace default via "$router" dev "$interface" || exit 1
      break
    done
    ;;
  EXPIRE|FAIL|RELEASE|STOP)
    if [ -n "${old_ip_address:-}" ]; then
      ip -4 addr del "$old_ip_address/$(prefix_length "${old_subnet_mask:-255.255.255.0}")" \
        dev "$interface" 2>/dev/null
    fi
    ;;
  TIMEOUT)
    # No server answered; a stale lease from the lease file is not trusted: keep trying.
    exit 1
    ;;
esac
exit 0
