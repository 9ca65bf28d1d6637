// What warden expects on a port against what the kernel has there (dataplane/inspect.h).
#include <doctest/doctest.h>

#include <vector>

#include "dataplane/attach.h"
#include "dataplane/inspect.h"

using namespace warden;

TEST_CASE("compare: missing, older and foreign programs in words") {
    std::vector<dataplane::ExpectedProgram> want = {{"xdp", "lan_ingress", 101}, {"tc egress", "lan_egress", 102}};
    dataplane::KernelHooks k;
    auto faults = dataplane::compare("lan2", want, k);
    REQUIRE(faults.size() == 2);
    CHECK(faults[0].text == "lan_ingress missing on lan2");
    CHECK(faults[1].text == "lan_egress missing on lan2");

    dataplane::HookProgram tc{"tc egress", 50, "lan_egress", "tc", dataplane::kTcHandle, dataplane::kTcPriority};
    dataplane::HookProgram elsewhere{"tc egress", 60, "shaper", "tc", 1, 1};  // someone else's filter: fine
    k.programs = {{"xdp", 101, "lan_ingress", "native"}, elsewhere, tc};
    faults = dataplane::compare("lan2", want, k);
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].kind == dataplane::Fault::Kind::stale);
    CHECK(faults[0].text == "an older lan_egress (id 50) on lan2");

    k.programs = {{"xdp", 7, "xdp_dummy", "generic"}};
    faults = dataplane::compare("lan2", std::span(want).first(1), k);
    REQUIRE(faults.size() == 1);
    CHECK(faults[0].kind == dataplane::Fault::Kind::foreign);
    CHECK(faults[0].text == "foreign XDP program xdp_dummy (id 7) on lan2 instead of lan_ingress");

    k.programs = {{"xdp", 101, "lan_ingress", "native"}, tc};
    k.programs[1].id = 102;
    CHECK(dataplane::compare("lan2", want, k).empty());
}
