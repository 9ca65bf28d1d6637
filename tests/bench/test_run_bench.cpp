#include "test_run_bench.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <vector>

#include "raw_programs.h"
#include "report.h"

namespace warden::bench {

namespace {

using dataplane::Program;
using testing::Bytes;
using testing::Packet;

struct Case {
    std::string id;
    std::string label;
    int prog_fd;
    Bytes frame;
    int expected_verdict;
    std::vector<double> ns_per_frame;
    std::vector<double> kernel_ns;  // the kernel's own figure, whole ns (it divides integers)
};

// The calling thread's CPU time: the test run executes in this thread, and unlike wall time
// this clock stops while other processes have the CPU (the machine is shared).
double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

const char* verdict_name(int v) {
    switch (v) {
        case XDP_ABORTED: return "XDP_ABORTED";
        case XDP_DROP: return "XDP_DROP";
        case XDP_PASS: return "XDP_PASS";
        case XDP_TX: return "XDP_TX";
        case XDP_REDIRECT: return "XDP_REDIRECT";
    }
    return "?";
}

// One BPF_PROG_TEST_RUN of `repeat` frames; returns the verdict and fills the timings.
int test_run(const Case& c, uint32_t repeat, double* cpu_ns_per_frame, uint32_t* kernel_ns) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = c.frame.data(),
                .data_size_in = static_cast<__u32>(c.frame.size()), .repeat = static_cast<int>(repeat));
    double t0 = thread_cpu_ns();
    int err = bpf_prog_test_run_opts(c.prog_fd, &opts);
    double t1 = thread_cpu_ns();
    if (err)
        throw std::runtime_error("BPF_PROG_TEST_RUN of case (" + c.id + ") failed: " +
                                 std::strerror(errno));
    if (cpu_ns_per_frame) *cpu_ns_per_frame = (t1 - t0) / repeat;
    if (kernel_ns) *kernel_ns = opts.duration;
    return static_cast<int>(opts.retval);
}

std::string ratio(double v, double base) { return fixed(v / base, 2) + "×"; }

}  // namespace

std::string run_test_run_bench(testing::Harness& warden, testing::Harness& no_blocklist,
                               const TestRunSetup& s) {
    auto v4_tcp = [&](const net::Mac& src) {
        return Packet().eth(src, s.gateway).ipv4("198.18.0.10", "198.19.10.1")
            .tcp(40000, 443, testing::tcp::ack).frame_size(64).build();
    };
    Bytes isolated_frame = v4_tcp(s.isolated);
    Bytes device_v4 = v4_tcp(s.device);
    Bytes device_v6 = Packet().eth(s.device, s.gateway).ipv6("fd00::10", "2001:db8::1")
        .hop_by_hop().udp(40000, 443).frame_size(80).build();

    ProgramFd floor = load_xdp_return(XDP_DROP, "wdb_drop");
    int lan_ingress = warden.dataplane().program_fd(Program::lan_ingress);
    int lan_ingress_bare = no_blocklist.dataplane().program_fd(Program::lan_ingress);

    std::vector<Case> cases = {
        {"a", "bare `return XDP_DROP` (floor)", floor.fd(), isolated_frame, XDP_DROP, {}, {}},
        {"b", "lan_ingress drop: isolated source MAC, TCP/IPv4 64 B", lan_ingress, isolated_frame,
         XDP_DROP, {}, {}},
        {"c", "lan_ingress pass: known device, TCP/IPv4 64 B", lan_ingress, device_v4, XDP_PASS, {}, {}},
        {"d", "lan_ingress pass: known device, UDP/IPv6 + hop-by-hop 80 B", lan_ingress, device_v6,
         XDP_PASS, {}, {}},
    };
    ProgramFd filter;
    if (s.xdp_filter_prog_id) {
        filter = program_by_id(*s.xdp_filter_prog_id);
        std::string name = program_name(filter.fd());
        cases.push_back({"e", "xdp-filter drop (" + name + "): same source MAC", filter.fd(),
                         isolated_frame, XDP_DROP, {}, {}});
        cases.push_back({"e'", "xdp-filter pass (" + name + "): MAC not listed (context)",
                         filter.fd(), device_v4, XDP_PASS, {}, {}});
    }
    cases.push_back({"c0", "as (c), empty blocklist (context)", lan_ingress_bare, device_v4,
                     XDP_PASS, {}, {}});
    cases.push_back({"d0", "as (d), empty blocklist (context)", lan_ingress_bare, device_v6,
                     XDP_PASS, {}, {}});

    // One frame each first: checks every verdict, and puts the device and its flows in the
    // maps, so the timed runs measure the steady state (entries exist, counters update).
    for (const auto& c : cases) {
        int v = test_run(c, 1, nullptr, nullptr);
        if (v != c.expected_verdict)
            throw std::runtime_error("case (" + c.id + ") " + c.label + ": verdict " +
                                     verdict_name(v) + ", expected " +
                                     verdict_name(c.expected_verdict) +
                                     " — the set-up is wrong, so its timing would mean nothing");
    }
    auto frames_up = [&](testing::Harness& h) {
        auto d = h.devices().read(s.device);
        if (!d) throw std::runtime_error("the known device has no counters after its first frames");
        return d->up.packets;
    };
    auto isolated_drops = [&] {
        auto q = warden.quarantine().get(s.isolated);
        if (!q) throw std::runtime_error("the isolated MAC has no quarantine entry");
        return q->dropped_from_device.packets;
    };
    uint64_t up_before = frames_up(warden), bare_up_before = frames_up(no_blocklist);
    uint64_t drops_before = isolated_drops();

    for (int run = 0; run < s.runs; ++run)
        for (auto& c : cases) {
            double cpu;
            uint32_t kernel;
            test_run(c, s.repeat, &cpu, &kernel);
            c.ns_per_frame.push_back(cpu);
            c.kernel_ns.push_back(kernel);
        }

    // The counters must show the work each case claims: every timed drop of (b) counted in
    // the quarantine entry, every timed pass of (c) and (d) (and c0, d0) on the device.
    uint64_t timed = uint64_t(s.runs) * s.repeat;
    auto expect = [](const std::string& what, uint64_t got, uint64_t want) {
        if (got != want)
            throw std::runtime_error(what + " " + std::to_string(got) + ", expected " +
                                     std::to_string(want) + ": the cases did not do what they claim");
    };
    expect("case (b): drops counted in the quarantine entry:", isolated_drops() - drops_before, timed);
    expect("cases (c)+(d): frames counted up on the device:", frames_up(warden) - up_before, 2 * timed);
    expect("cases (c0)+(d0): frames counted up on the device:",
           frames_up(no_blocklist) - bare_up_before, 2 * timed);

    auto median_of = [&](const std::string& id) -> std::optional<double> {
        for (const auto& c : cases)
            if (c.id == id) return summarize(c.ns_per_frame).median;
        return std::nullopt;
    };
    double a = *median_of("a");
    std::optional<double> e = median_of("e");

    Table t({"case", "median ns/frame", "min", "max", "× (a)", "× (e)", "kernel's ns", "target",
             "met?"});
    for (const auto& c : cases) {
        Summary x = summarize(c.ns_per_frame);
        double m = x.median;
        std::string target = "—", met = "—";
        if (c.id == "b") {
            target = "≤ (e); ≤ 2.0× (a)";
            met = (e ? (m <= *e ? "yes" : "NO") : std::string("not measured")) + "; " +
                  (m <= 2.0 * a ? "yes" : "NO");
        } else if (c.id == "c" || c.id == "d") {
            target = "≤ 5.0× (a)";
            met = m <= 5.0 * a ? "yes" : "NO";
        }
        t.add({"(" + c.id + ") " + c.label, fixed(m, 2), fixed(x.min, 2), fixed(x.max, 2),
               ratio(m, a), e ? ratio(m, *e) : "n/a", fixed(summarize(c.kernel_ns).median, 0),
               target, met});
    }

    std::string out;
    out += "BPF_PROG_TEST_RUN, repeat " + grouped(s.repeat) + " frames per measurement, " +
           std::to_string(s.runs) + " measurements per case, interleaved (" ;
    for (size_t i = 0; i < cases.size(); ++i) out += (i ? " " : "") + cases[i].id;
    out += ", then again). ns/frame = the bench thread's CPU time in the test-run call / "
           "repeat (sub-ns resolution, and blind to time the CPU spent on other processes); "
           "\"kernel's ns\" is the kernel's own median figure, which it truncates to whole ns. "
           "(c0) and (d0) run a second lan_ingress with its own maps and no blocklist, to show "
           "what the blocklist lookup costs.\n\n";
    out += t.markdown();
    if (!e) out += "\n(e) not measured: no xdp-filter program id given (--xdp-filter-prog).\n";
    return out;
}

}  // namespace warden::bench
