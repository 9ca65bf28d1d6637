#include "live_bench.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "netns.h"
#include "raw_programs.h"
#include "report.h"

namespace warden::bench {

namespace {

using dataplane::Program;
using testing::Bytes;
using testing::Packet;

double seconds(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// CPU time the ksoftirqd thread of one CPU has used (first field of its schedstat): the
// DUT's receive work runs there when the kernel defers softirqs instead of running them at
// the end of the generator's batch, in the bench thread.
class SoftirqThread {
public:
    explicit SoftirqThread(int cpu) {
        std::string want = "ksoftirqd/" + std::to_string(cpu);
        for (const auto& e : std::filesystem::directory_iterator("/proc")) {
            std::ifstream comm(e.path() / "comm");
            std::string name;
            if (comm >> name && name == want) {
                schedstat_ = e.path() / "schedstat";
                return;
            }
        }
        throw std::runtime_error("no " + want + " thread in /proc");
    }
    double cpu_seconds() const {
        std::ifstream in(schedstat_);
        uint64_t ns = 0;
        if (!(in >> ns)) throw std::runtime_error("cannot read " + schedstat_.string());
        return ns * 1e-9;
    }

private:
    std::filesystem::path schedstat_;
};

struct Sample {
    double frames_per_s = 0;       // per CPU second spent on it (bench thread + ksoftirqd)
    double wall_frames_per_s = 0;  // per second of wall time
    uint64_t received = 0;         // frames the DUT veth handled (rx_packets)
    uint64_t lost = 0;             // frames refused at the DUT veth's ring (rx_dropped)
    uint64_t reached_stack = 0;    // IPv4 packets the DUT's IP stack received
    bool interrupted = false;      // the time limit stopped the generator
};

void on_alarm(int) {}  // only there so SIGALRM interrupts the test-run syscall

// Arms SIGALRM for one measurement; the kernel's test-run loop stops with EINTR when it fires.
class TimeLimit {
public:
    explicit TimeLimit(double seconds) {
        struct sigaction sa {};
        sa.sa_handler = on_alarm;  // no SA_RESTART: the syscall must come back
        sigaction(SIGALRM, &sa, nullptr);
        itimerval t{};
        t.it_value.tv_sec = static_cast<time_t>(seconds);
        t.it_value.tv_usec = static_cast<suseconds_t>((seconds - t.it_value.tv_sec) * 1e6);
        setitimer(ITIMER_REAL, &t, nullptr);
    }
    ~TimeLimit() {
        itimerval off{};
        setitimer(ITIMER_REAL, &off, nullptr);
    }
};

struct Case {
    std::string id, label;
    int dut_prog_fd;
    testing::Harness* warden;   // whose lan_ingress runs on the DUT, or null
    Bytes frame;
    bool nft_drop;              // add the nftables rule for this case
    bool dropped_before_stack;  // what the counters must show
    std::vector<Sample> samples;
};

// The generator, the two namespaces and the clocks of one live measurement.
class Bench {
public:
    explicit Bench(const LiveSetup& s)
        : s_(s), gen_(Netns::named(s.gen_netns)), dut_(Netns::named(s.dut_netns)) {
        if (s.cpu >= 0) softirq_.emplace(s.cpu);
        InNetns in(gen_);
        generator_ = load_xdp_redirect(ifindex_of(s.gen_dev));
    }

    // Sends s.frames frames of the case from the generator and counts what the DUT got.
    Sample measure(const Case& c) {
        LinkCounters before;
        uint64_t stack_before;
        {
            InNetns in(dut_);
            before = link_counters(s_.dut_dev);
            stack_before = ip_in_receives();
        }
        Sample out;
        double t0, t1, cpu0, cpu1, soft0 = 0, soft1 = 0;
        {
            InNetns in(gen_);
            LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = c.frame.data(),
                        .data_size_in = static_cast<__u32>(c.frame.size()),
                        .repeat = static_cast<int>(s_.frames),
                        .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
            TimeLimit limit(s_.time_limit_s);
            if (softirq_) soft0 = softirq_->cpu_seconds();
            cpu0 = seconds(CLOCK_THREAD_CPUTIME_ID);
            t0 = seconds(CLOCK_MONOTONIC);
            int err = bpf_prog_test_run_opts(generator_.fd(), &opts);
            t1 = seconds(CLOCK_MONOTONIC);
            cpu1 = seconds(CLOCK_THREAD_CPUTIME_ID);
            if (softirq_) soft1 = softirq_->cpu_seconds();
            if (err && errno == EINTR)
                out.interrupted = true;
            else if (err)
                throw std::runtime_error(std::string("the generator's live-frames test run failed: ") +
                                         std::strerror(errno));
        }
        InNetns in(dut_);
        // The DUT's NAPI may still hold a ring's worth of frames: wait until the count settles.
        LinkCounters after = link_counters(s_.dut_dev);
        for (int i = 0; i < 100; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            LinkCounters again = link_counters(s_.dut_dev);
            if (again.rx_packets == after.rx_packets) break;
            after = again;
        }
        out.received = after.rx_packets - before.rx_packets;
        out.lost = after.rx_dropped - before.rx_dropped;
        out.reached_stack = ip_in_receives() - stack_before;
        out.wall_frames_per_s = out.received / (t1 - t0);
        // Pinned: the generator and the DUT's receive path share one CPU, so the CPU time of
        // the bench thread and that CPU's ksoftirqd is the time the frames cost, whatever
        // else the machine ran meanwhile. Not pinned: wall time is all there is.
        out.frames_per_s = softirq_ ? out.received / ((cpu1 - cpu0) + (soft1 - soft0))
                                    : out.wall_frames_per_s;
        return out;
    }

    // Throws when the counters contradict the case: nothing arrived, or frames the case
    // drops reached the IP stack (or frames it passes did not).
    void check(const Case& c, const Sample& x) const {
        if (x.received == 0)
            throw std::runtime_error("case (" + c.id + "): the DUT veth received nothing — is an "
                                     "XDP program attached there, and are both ends up?");
        bool dropped = x.reached_stack * 100 < x.received;       // < 1% got through
        bool passed = x.reached_stack * 100 >= x.received * 99;  // >= 99% got through
        if (c.dropped_before_stack ? !dropped : !passed)
            throw std::runtime_error("case (" + c.id + ") " + c.label + ": " +
                                     std::to_string(x.reached_stack) + " of " +
                                     std::to_string(x.received) +
                                     " frames reached the IP stack, which contradicts the case");
    }

private:
    const LiveSetup& s_;
    Netns gen_, dut_;
    ProgramFd generator_;
    std::optional<SoftirqThread> softirq_;
};

}  // namespace

net::Mac dut_mac(const LiveSetup& setup) {
    InNetns in(Netns::named(setup.dut_netns));
    return link_mac(setup.dut_dev);
}

std::string why_no_live_frames(const LiveSetup& s) {
    Bytes frame = Packet().eth(s.device, dut_mac(s)).ipv4(s.gen_ip, s.dut_ip).udp(40000, 9).frame_size(64).build();
    InNetns in(Netns::named(s.gen_netns));
    ProgramFd generator = load_xdp_redirect(ifindex_of(s.gen_dev));
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                .repeat = 1, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
    if (bpf_prog_test_run_opts(generator.fd(), &opts) == 0) return "";
    int err = errno;
    return std::string("the kernel refused BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, which the "
                       "generator needs to send frames (errno ") + std::to_string(err) + ", " + std::strerror(err) + ")";
}

std::string run_live_bench(testing::Harness& warden, testing::Harness& no_blocklist,
                           const LiveSetup& s) {
    Bench bench(s);
    net::Mac to = dut_mac(s);
    auto udp_from = [&](const net::Mac& src) {
        return Packet().eth(src, to).ipv4(s.gen_ip, s.dut_ip).udp(40000, 9).frame_size(64).build();
    };
    ProgramFd pass = load_xdp_return(XDP_PASS, "wdb_pass");
    int lan_ingress = warden.dataplane().program_fd(Program::lan_ingress);
    int lan_ingress_bare = no_blocklist.dataplane().program_fd(Program::lan_ingress);

    std::vector<Case> cases = {
        {"f", "baseline: bare XDP_PASS on the DUT veth", pass.fd(), nullptr, udp_from(s.device),
         false, false, {}},
        {"g", "lan_ingress pass: known device", lan_ingress, &warden, udp_from(s.device), false,
         false, {}},
        {"h", "lan_ingress drop: isolated source MAC", lan_ingress, &warden, udp_from(s.isolated),
         false, true, {}},
        {"i", "nftables netdev ingress `ether saddr` drop (+ bare XDP_PASS)", pass.fd(), nullptr,
         udp_from(s.isolated), true, true, {}},
        {"g0", "as (g), empty blocklist (context)", lan_ingress_bare, &no_blocklist,
         udp_from(s.device), false, false, {}},
    };

    XdpAttachment dut_xdp(Netns::named(s.dut_netns), s.dut_dev);
    for (int run = 0; run < s.runs; ++run)
        for (auto& c : cases) {
            dut_xdp.replace(c.dut_prog_fd);
            std::unique_ptr<NftMacDrop> rule;
            if (c.nft_drop)
                rule = std::make_unique<NftMacDrop>(Netns::named(s.dut_netns), s.dut_dev, s.isolated);
            wd_prog_stats before{}, after{};
            if (c.warden) before = c.warden->stats().read(WD_PROG_LAN_INGRESS);
            Sample x = bench.measure(c);
            if (c.warden) after = c.warden->stats().read(WD_PROG_LAN_INGRESS);
            bench.check(c, x);
            // lan_ingress's own counters must agree with the interface's.
            uint64_t counted = c.dropped_before_stack
                                   ? after.dropped[WD_DROP_ISOLATED] - before.dropped[WD_DROP_ISOLATED]
                                   : after.passed - before.passed;
            if (c.warden && counted != x.received)
                throw std::runtime_error("case (" + c.id + "): lan_ingress counted " +
                                         std::to_string(counted) + " frames " +
                                         (c.dropped_before_stack ? "dropped" : "passed") +
                                         ", the DUT veth received " + std::to_string(x.received));
            c.samples.push_back(x);
        }

    auto summary_of = [](const Case& c, double Sample::*field) {
        std::vector<double> v;
        for (const auto& x : c.samples) v.push_back(x.*field);
        return summarize(v);
    };
    auto median_count = [](const Case& c, uint64_t Sample::*field) {
        std::vector<double> v;
        for (const auto& x : c.samples) v.push_back(double(x.*field));
        return summarize(v).median;
    };
    double f = summary_of(cases[0], &Sample::frames_per_s).median;
    double nft = summary_of(cases[3], &Sample::frames_per_s).median;
    Table t({"case", "median frames/s", "min", "max", "× (f)", "wall-clock frames/s",
             "reached IP stack", "lost at ring", "target", "met?"});
    int interrupted = 0;
    for (const auto& c : cases) {
        Summary x = summary_of(c, &Sample::frames_per_s);
        for (const auto& smp : c.samples) interrupted += smp.interrupted;
        std::string target = "—", met = "—";
        if (c.id == "g") {
            double cost = 1 - x.median / f;
            target = "costs < 15% of (f)";
            met = std::string(cost < 0.15 ? "yes" : "NO") + " (costs " + fixed(cost * 100, 1) + "%)";
        } else if (c.id == "h") {
            target = "≥ 2.0× (i)";
            met = std::string(x.median >= 2 * nft ? "yes" : "NO") + " (" +
                  fixed(x.median / nft, 2) + "×)";
        }
        t.add({"(" + c.id + ") " + c.label, grouped(x.median), grouped(x.min), grouped(x.max),
               fixed(x.median / f, 2) + "×", grouped(summary_of(c, &Sample::wall_frames_per_s).median),
               grouped(median_count(c, &Sample::reached_stack)),
               grouped(median_count(c, &Sample::lost)), target, met});
    }

    std::string per = s.cpu >= 0
        ? "CPU time of the bench thread plus ksoftirqd/" + std::to_string(s.cpu) +
              " (the bench is pinned to CPU " + std::to_string(s.cpu) +
              ", so the generator and the DUT's receive path both run there, and time the CPU "
              "gave other processes does not count)"
        : std::string("wall time of the generator's run (the bench is not pinned)");
    std::string out =
        "Generator: XDP `bpf_redirect` out of " + s.gen_dev + " (namespace " + s.gen_netns +
        ") run with BPF_F_TEST_XDP_LIVE_FRAMES, " + grouped(s.frames) +
        " UDP/IPv4 frames of 64 B per measurement (" + s.gen_ip + " → " + s.dut_ip +
        " port 9, no listener). DUT: " + s.dut_dev + " (namespace " + s.dut_netns +
        "); every case has an XDP program attached there in native mode, without which veth "
        "would drop the redirected frames. " + std::to_string(s.runs) +
        " measurements per case, interleaved (f g h i g0, then again); (g0) runs a second "
        "lan_ingress with its own maps and no blocklist, to show what the blocklist lookup "
        "costs. frames/s = frames the DUT veth handled (its rx_packets, XDP drops included) "
        "per second of " + per + ". \"wall-clock frames/s\" divides by elapsed time instead "
        "(it falls when other processes share the CPU). \"reached IP stack\" (Ip InReceives) "
        "and \"lost at ring\" (rx_dropped) are medians per measurement.\n\n";
    out += t.markdown();
    if (interrupted)
        out += "\n" + std::to_string(interrupted) + " measurement(s) hit the " +
               fixed(s.time_limit_s, 1) + " s time limit; their frames/s cover the frames sent until then.\n";
    return out;
}

}  // namespace warden::bench
