// bench_dataplane: measures warden's data plane against a floor and against the tools a
// router user has today. Driven by scripts/bench-dataplane.sh, which makes the namespaces,
// loads xdp-filter and passes their names here; prints Markdown to stdout.
//   part 1: ns/frame under BPF_PROG_TEST_RUN (always)
//   part 2: frames/s through a veth pair (when --gen-netns/--dut-netns are given, and the
//           kernel allows BPF_F_TEST_XDP_LIVE_FRAMES: else it says why, exit code 3)
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

#include "dataplane/tables.h"
#include "live_bench.h"
#include "support/harness.h"
#include "synthetic_blocklist.h"
#include "test_run_bench.h"

using namespace warden;

namespace {

const char* kUsage = R"(usage: bench_dataplane --device-mac MAC --isolated-mac MAC [options]
  --device-mac MAC        a known device: its frames take the pass path
  --isolated-mac MAC      quarantined (isolate): its frames take the drop path
  --gateway-mac MAC       the gateway MAC the test-run frames go to (default 02:00:00:00:00:fe)
  --repeat N              part 1: frames per measurement (default 1000000, at least 1000000)
  --runs N                part 1: measurements per case (default 7, at least 5)
  --xdp-filter-prog ID    part 1: xdp-filter's program id, for rows (e) and (e')
  --blocklist-v4 N        IPv4 prefixes in the synthetic blocklist (default 10000)
  --blocklist-v6 N        IPv6 prefixes in the synthetic blocklist (default 1000)
  --cpu N                 pin the bench to this CPU (default: the last one; -1: do not pin)
  --gen-netns NAME --gen-dev DEV --gen-ip ADDR   part 2: the generator's side
  --dut-netns NAME --dut-dev DEV --dut-ip ADDR   part 2: the receiving side
  --live-frames N         part 2: frames per measurement (default 1000000)
  --live-runs N           part 2: measurements per case (default 5, at least 5)
  --live-time-limit S     part 2: seconds before a measurement is cut short (default 5)
Needs root. Exit code 77 when BPF is unavailable here; 3 when part 2 cannot run on this
kernel (it refuses BPF_F_TEST_XDP_LIVE_FRAMES): part 1 is measured and printed, and part 2's
heading is followed by a line that says it was not measured, and why.
)";

struct Args {
    std::map<std::string, std::string> values;

    std::string get(const std::string& key, const std::string& fallback = "") const {
        auto it = values.find(key);
        return it == values.end() ? fallback : it->second;
    }
    bool has(const std::string& key) const { return values.count(key) > 0; }
    long number(const std::string& key, long fallback, long at_least) const {
        if (!has(key)) return fallback;
        char* end = nullptr;
        long v = std::strtol(get(key).c_str(), &end, 10);
        if (!end || *end || v < at_least)
            throw std::invalid_argument("--" + key + " " + get(key) + ": expected a whole number >= " +
                                        std::to_string(at_least));
        return v;
    }
    net::Mac mac(const std::string& key, const std::string& fallback = "") const {
        std::string text = get(key, fallback);
        if (text.empty()) throw std::invalid_argument("--" + key + " is required\n" + kUsage);
        auto m = net::Mac::parse(text);
        if (!m) throw std::invalid_argument("--" + key + " " + text + ": expected aa:bb:cc:dd:ee:ff");
        return *m;
    }
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        if (arg.rfind("--", 0) != 0 || i + 1 >= argc)
            throw std::invalid_argument("unexpected argument " + arg + "\n" + kUsage);
        a.values[arg.substr(2)] = argv[++i];
    }
    return a;
}

void pin_to_cpu(long cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set))
        throw std::runtime_error("cannot pin the bench to CPU " + std::to_string(cpu));
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Args args = parse(argc, argv);
        std::string why = testing::why_no_bpf();
        if (!why.empty()) {
            std::fprintf(stderr, "bench_dataplane: skipped: %s\n", why.c_str());
            return 77;
        }
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        long cpu = args.number("cpu", cpus - 1, -1);
        pin_to_cpu(cpu);

        bench::TestRunSetup part1;
        part1.device = args.mac("device-mac");
        part1.isolated = args.mac("isolated-mac");
        part1.gateway = args.mac("gateway-mac", "02:00:00:00:00:fe");
        part1.repeat = args.number("repeat", 1000000, 1000000);
        part1.runs = args.number("runs", 7, 5);
        if (args.has("xdp-filter-prog")) part1.xdp_filter_prog_id = args.number("xdp-filter-prog", 0, 1);

        bool live = args.has("gen-netns") || args.has("dut-netns");
        bench::LiveSetup part2;
        if (live) {
            for (const char* key : {"gen-netns", "gen-dev", "gen-ip", "dut-netns", "dut-dev", "dut-ip"})
                if (!args.has(key))
                    throw std::invalid_argument(std::string("part 2 needs --") + key + "\n" + kUsage);
            part2.gen_netns = args.get("gen-netns");
            part2.gen_dev = args.get("gen-dev");
            part2.gen_ip = args.get("gen-ip");
            part2.dut_netns = args.get("dut-netns");
            part2.dut_dev = args.get("dut-dev");
            part2.dut_ip = args.get("dut-ip");
            part2.device = part1.device;
            part2.isolated = part1.isolated;
            part2.frames = args.number("live-frames", 1000000, 1000);
            part2.runs = args.number("live-runs", 5, 5);
            part2.time_limit_s = args.number("live-time-limit", 5, 1);
            part2.cpu = static_cast<int>(cpu);
        }

        // warden as a gateway would run it: its MACs, one isolated device, and a blocklist
        // the pass path must look up and miss. A second instance, the same but with an empty
        // blocklist, gives context rows that show what the blocklist lookup costs.
        std::vector<net::Mac> gateway_macs = {part1.gateway};
        if (live) gateway_macs.push_back(bench::dut_mac(part2));
        testing::Harness warden, no_blocklist;
        for (testing::Harness* h : {&warden, &no_blocklist}) {
            h->gateway().set(gateway_macs, {});
            h->quarantine().put(part1.isolated, WD_LEVEL_ISOLATE, WD_ORIGIN_OPERATOR,
                                testing::monotonic_ns(), 0);
        }
        // Asked before part 1, so the reason comes at once, not after a minute of part 1.
        std::string no_part2 = live ? bench::why_no_live_frames(part2) : "";
        if (!no_part2.empty())
            std::fprintf(stderr, "bench_dataplane: part 2 cannot run here (%s); part 1 runs\n", no_part2.c_str());

        bench::BlocklistShape shape;
        shape.v4_prefixes = args.number("blocklist-v4", 10000, 0);
        shape.v6_prefixes = args.number("blocklist-v6", 1000, 0);
        for (const char* clear : {"198.18.0.0/15", "2001:db8::/32"})
            shape.keep_clear.push_back(*net::Prefix::parse(clear));
        auto blocklist = warden.blocklist();
        std::string loaded = bench::load_synthetic_blocklist(blocklist, shape);

        std::string cpu_note = cpu < 0 ? "not pinned" : "pinned to CPU " + std::to_string(cpu);
        std::printf("#### ns per frame under BPF_PROG_TEST_RUN\n\n");
        std::printf("Blocklist in warden's maps for (b)-(d), (g) and (h): %s. Bench process %s.\n\n",
                    loaded.c_str(), cpu_note.c_str());
        std::fflush(stdout);
        std::printf("%s\n", bench::run_test_run_bench(warden, no_blocklist, part1).c_str());
        std::fflush(stdout);
        if (live) {
            std::printf("\n#### frames per second through a veth pair\n\n");
            if (!no_part2.empty()) {
                std::printf("**Not measured in this run**: %s.\n", no_part2.c_str());
                std::fprintf(stderr, "bench_dataplane: PART 2 NOT MEASURED: %s\n", no_part2.c_str());
                return 3;
            }
            std::printf("%s", bench::run_live_bench(warden, no_blocklist, part2).c_str());
        } else {
            std::printf("(part 2 not run: no --gen-netns/--dut-netns given)\n");
        }
        return 0;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "bench_dataplane: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_dataplane: %s\n", e.what());
        return 1;
    }
}
