#include "dataplane/dataplane.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "lan_egress.skel.h"
#include "lan_ingress.skel.h"
#include "wan_ingress.skel.h"

namespace warden::dataplane {

namespace {

bool libbpf_verbose = false;
thread_local bool libbpf_quiet = false;

int print_libbpf(enum libbpf_print_level level, const char* format, va_list args) {
    if (libbpf_quiet || (level == LIBBPF_DEBUG && !libbpf_verbose)) return 0;
    return std::vfprintf(stderr, format, args);
}

std::runtime_error failure(const std::string& what, int err) {
    std::string msg = what + ": " + std::strerror(err < 0 ? -err : err);
    if (err == -EPERM || err == EPERM)
        msg += " (warden needs root, or CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON)";
    return std::runtime_error(msg);
}

uint32_t round_up_pow2(uint32_t v) {
    uint32_t p = 4096;
    while (p < v) p <<= 1;
    return p;
}

// The kernel's LRU maps keep up to 128 free slots per CPU for that CPU's next inserts, so
// they start evicting that much before max_entries. The headroom makes the policy's number
// the number of entries really held, for the maps where 128 a CPU is a real share (devices:
// 1,024 by default). The flow table goes without: there it is a fraction of a percent, and
// the headroom would double its hash buckets (a power of two), which the controller walks
// every poll.
uint32_t with_lru_headroom(uint32_t wanted) {
    int cpus = libbpf_num_possible_cpus();
    return wanted + 128u * static_cast<uint32_t>(cpus > 0 ? cpus : 1);
}

uint32_t size_for(MapId id, const MapSizes& s) {
    switch (id) {
        case MapId::devices: return with_lru_headroom(s.devices);
        case MapId::flows: return s.flows;
        case MapId::quarantine: return s.quarantine;
        case MapId::block_v4: return s.blocklist_v4;
        case MapId::block_v6: return s.blocklist_v6;
        case MapId::evlimit: return with_lru_headroom(s.devices * 3);  // three rate-limited kinds per device
        case MapId::events: return round_up_pow2(s.events_bytes);
        default: return 0;  // keep the BPF-side default
    }
}

std::string pin_path(const std::string& dir, MapId id) {
    return dir + "/" + std::string(map_name(id));
}

}  // namespace

QuietLibbpf::QuietLibbpf() : was_(libbpf_quiet) {
    libbpf_set_print(print_libbpf);
    libbpf_quiet = true;
}

QuietLibbpf::~QuietLibbpf() { libbpf_quiet = was_; }

void set_libbpf_verbose(bool verbose) {
    libbpf_verbose = verbose;
    libbpf_set_print(print_libbpf);
}

Dataplane::Dataplane(const LoadOptions& options) : options_(options) {
    libbpf_set_print(print_libbpf);
    lan_ingress_ = lan_ingress_bpf::open();
    lan_egress_ = lan_egress_bpf::open();
    wan_ingress_ = wan_ingress_bpf::open();
    if (!lan_ingress_ || !lan_egress_ || !wan_ingress_) {
        int err = errno;
        destroy();
        throw failure("cannot open the embedded BPF objects", err);
    }
    for (auto* rodata : {&lan_ingress_->rodata->cfg_event_interval_ns,
                         &lan_egress_->rodata->cfg_event_interval_ns,
                         &wan_ingress_->rodata->cfg_event_interval_ns})
        *const_cast<__u64*>(rodata) = options.event_interval_ns;
    for (auto* rodata : {&lan_ingress_->rodata->cfg_flow_events_per_s,
                         &lan_egress_->rodata->cfg_flow_events_per_s,
                         &wan_ingress_->rodata->cfg_flow_events_per_s})
        *const_cast<__u32*>(rodata) = options.flow_events_per_s;

    bpf_object* objects[] = {lan_ingress_->obj, lan_egress_->obj, wan_ingress_->obj};
    try {
        // The first object creates the maps (or takes them over from pins); the others
        // reuse its fds, so the three programs count into the same maps.
        for (MapId id : kAllMaps) {
            std::string name(map_name(id));
            bpf_map* first = bpf_object__find_map_by_name(objects[0], name.c_str());
            if (!first) throw std::runtime_error("BPF object lacks map " + name);
            int fd = -1;
            if (!options.pin_dir.empty()) {
                std::string path = pin_path(options.pin_dir, id);
                if (std::filesystem::exists(path)) {
                    fd = bpf_obj_get(path.c_str());
                    if (fd < 0) throw failure("cannot open pinned map " + path, errno);
                    int err = bpf_map__reuse_fd(first, fd);
                    close(fd);
                    if (err) throw failure("pinned map " + path + " does not fit this warden", err);
                    ++reused_;
                    continue;
                }
            }
            if (uint32_t size = size_for(id, options.sizes)) {
                int err = bpf_map__set_max_entries(first, size);
                if (err) throw failure("cannot size map " + name, err);
            }
        }
        int err = lan_ingress_bpf::load(lan_ingress_);
        if (err) throw failure("cannot load lan_ingress into the kernel", err);
        for (int i = 1; i < 3; ++i) {
            for (MapId id : kAllMaps) {
                std::string name(map_name(id));
                bpf_map* mine = bpf_object__find_map_by_name(objects[i], name.c_str());
                bpf_map* first = bpf_object__find_map_by_name(objects[0], name.c_str());
                if (!mine) throw std::runtime_error("BPF object lacks map " + name);
                err = bpf_map__reuse_fd(mine, bpf_map__fd(first));
                if (err) throw failure("cannot share map " + name, err);
            }
        }
        err = lan_egress_bpf::load(lan_egress_);
        if (err) throw failure("cannot load lan_egress into the kernel", err);
        err = wan_ingress_bpf::load(wan_ingress_);
        if (err) throw failure("cannot load wan_ingress into the kernel", err);
    } catch (...) {
        destroy();
        throw;
    }
}

Dataplane::~Dataplane() { destroy(); }

void Dataplane::destroy() {
    if (lan_ingress_) lan_ingress_bpf::destroy(lan_ingress_);
    if (lan_egress_) lan_egress_bpf::destroy(lan_egress_);
    if (wan_ingress_) wan_ingress_bpf::destroy(wan_ingress_);
    lan_ingress_ = nullptr;
    lan_egress_ = nullptr;
    wan_ingress_ = nullptr;
}

int Dataplane::program_fd(Program p) const {
    switch (p) {
        case Program::lan_ingress: return bpf_program__fd(lan_ingress_->progs.lan_ingress);
        case Program::lan_egress: return bpf_program__fd(lan_egress_->progs.lan_egress);
        case Program::wan_ingress: return bpf_program__fd(wan_ingress_->progs.wan_ingress);
    }
    return -1;
}

uint32_t Dataplane::program_id(Program p) const {
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    return bpf_obj_get_info_by_fd(program_fd(p), &info, &len) == 0 ? info.id : 0;
}

int Dataplane::map_fd(MapId id) const {
    std::string name(map_name(id));
    return bpf_map__fd(bpf_object__find_map_by_name(lan_ingress_->obj, name.c_str()));
}

void Dataplane::pin_maps() {
    if (options_.pin_dir.empty()) throw std::runtime_error("no pin dir configured");
    std::error_code ec;
    std::filesystem::create_directories(options_.pin_dir, ec);
    if (ec)
        throw std::runtime_error("cannot create pin dir " + options_.pin_dir + ": " + ec.message() +
                                 " (is bpffs mounted at /sys/fs/bpf?)");
    for (MapId id : kAllMaps) {
        std::string path = pin_path(options_.pin_dir, id);
        if (std::filesystem::exists(path)) continue;
        if (bpf_obj_pin(map_fd(id), path.c_str()))
            throw failure("cannot pin map at " + path + " (is " + options_.pin_dir + " on bpffs?)",
                          errno);
    }
}

}  // namespace warden::dataplane
