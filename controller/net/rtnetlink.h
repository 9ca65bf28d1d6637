// Requests to the kernel's routing netlink (rtnetlink) that answer with a dump: the links of
// this namespace (net/interfaces.h), the tc filters on an interface (dataplane/inspect.h).
// One socket a request, closed when the answer is read.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

struct nlmsghdr;

namespace warden::net {

// Sends `request` (an nlmsghdr with NLM_F_REQUEST | NLM_F_DUMP and its payload, `length`
// bytes) and calls each(message) for every message of the answer until NLMSG_DONE. An
// NLMSG_ERROR answer throws std::system_error whose code is the kernel's errno and whose
// text starts with `what`.
void rtnl_dump(const void* request, size_t length, const std::string& what,
               const std::function<void(const nlmsghdr*)>& each);

// Walks the rtattr list that follows a fixed header of `header_len` bytes in msg: calls
// each(type, data, length) for every attribute, nested ones not expanded.
void for_each_attribute(const nlmsghdr* msg, size_t header_len,
                        const std::function<void(unsigned short type, const void* data, size_t length)>& each);

// The same for a nested attribute's payload.
void for_each_nested(const void* data, size_t length,
                     const std::function<void(unsigned short type, const void* data, size_t length)>& each);

}  // namespace warden::net
