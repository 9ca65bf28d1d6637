// The man pages, in roff, written from what warden already knows of itself: warden(8) from the
// command table (cli/command_table.h) and the state dir's contract (store/layout.h),
// warden-policy(5) from the policy schema (policy/schema.h). The build runs `warden man PAGE`
// and installs what it prints.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace warden::cli {

// The pages there are: "warden" (section 8), "warden-policy" (section 5).
const std::vector<std::string>& man_pages();

// Writes the page; false when there is no such page.
bool write_man_page(const std::string& page, std::ostream& out);

}  // namespace warden::cli
