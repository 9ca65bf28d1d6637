#include "net/rtnetlink.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace warden::net {

namespace {

struct Socket {
    int fd;
    ~Socket() {
        if (fd >= 0) close(fd);
    }
};

[[noreturn]] void fail(const std::string& what, int err) {
    throw std::system_error(err, std::generic_category(), what);
}

}  // namespace

void rtnl_dump(const void* request, size_t length, const std::string& what,
               const std::function<void(const nlmsghdr*)>& each) {
    Socket sock{socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
    if (sock.fd < 0) fail(what + ": socket", errno);
    if (send(sock.fd, request, length, 0) < 0) fail(what + ": send", errno);
    std::vector<char> buf(1 << 16);
    for (;;) {
        ssize_t n = recv(sock.fd, buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(what + ": recv", errno);
        }
        if (n == 0) return;
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) return;
            if (h->nlmsg_type == NLMSG_ERROR) {
                int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
                if (err == 0) continue;  // an acknowledgement
                fail(what, err);
            }
            each(h);
        }
    }
}

void for_each_nested(const void* data, size_t length,
                     const std::function<void(unsigned short, const void*, size_t)>& each) {
    int len = static_cast<int>(length);
    for (auto* a = static_cast<const rtattr*>(data); RTA_OK(a, len); a = RTA_NEXT(a, len))
        each(a->rta_type & NLA_TYPE_MASK, RTA_DATA(a), RTA_PAYLOAD(a));
}

void for_each_attribute(const nlmsghdr* msg, size_t header_len,
                        const std::function<void(unsigned short, const void*, size_t)>& each) {
    size_t fixed = NLMSG_LENGTH(NLMSG_ALIGN(header_len));
    if (msg->nlmsg_len < fixed) return;
    auto* first = reinterpret_cast<const char*>(msg) + fixed;
    for_each_nested(first, msg->nlmsg_len - fixed, each);
}

}  // namespace warden::net
