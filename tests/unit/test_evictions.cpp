// Evictions from the LRU maps, derived from what was added, what is present and what
// userspace removed (controller/dataplane/evictions.h). The packet tests fill real maps.
#include <doctest/doctest.h>

#include <stdexcept>

#include "dataplane/evictions.h"

using namespace warden::dataplane;

TEST_CASE("evictions: what was added and is neither present nor removed was evicted") {
    CHECK(evicted_at_least({100, 0}, 100, {100, 0}) == 0);  // nothing lost
    CHECK(evicted_at_least({1'000, 0}, 16, {1'000, 0}) == 984);
    CHECK(evicted_at_least({1'000, 30}, 16, {1'000, 30}) == 954);  // removals are no evictions
}

TEST_CASE("evictions: a map that changed during the walk never shows more evictions than there were") {
    // 100 entries before the walk; 50 more added while it ran, and the walk saw 120 of the
    // 150: nothing proves an eviction (the 30 not seen may simply have come after it passed).
    CHECK(evicted_at_least({100, 0}, 120, {150, 0}) == 0);
    // Entries removed during the walk are not seen, and are not evictions either.
    CHECK(evicted_at_least({100, 0}, 90, {100, 10}) == 0);
    // A walk that sees more than was added before it began (additions it met): zero, not a wrap.
    CHECK(evicted_at_least({10, 0}, 25, {40, 0}) == 0);
    // What is proven: of 1,000 added before the walk, 16 seen and 4 removed, 980 were evicted
    // whatever was added meanwhile.
    CHECK(evicted_at_least({1'000, 0}, 16, {1'300, 4}) == 980);
}

TEST_CASE("evictions: the counters of each map come from its own fields") {
    wd_prog_stats total{};
    total.devices_added = 7;
    total.devices_removed = 1;
    total.flows_added = 70;
    total.flows_removed = 10;
    CHECK(churn(total, MapId::devices).added == 7);
    CHECK(churn(total, MapId::devices).removed == 1);
    CHECK(churn(total, MapId::flows).added == 70);
    CHECK(churn(total, MapId::flows).removed == 10);
    CHECK_THROWS_AS(churn(total, MapId::quarantine), std::invalid_argument);
}
