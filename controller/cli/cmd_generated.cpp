// warden completion SHELL, warden man PAGE: the shell completions and man pages, written from
// the command table and the policy schema. Hidden: the build runs them (CMakeLists.txt) and
// installs what they write.
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/manpage.h"

namespace warden::cli {

namespace {

// To -o FILE (whole, or not at all), else to stdout.
int emit(Context& ctx, const std::string& text) {
    if (!ctx.vm.count("output")) {
        std::cout << text;
        return 0;
    }
    std::string file = ctx.vm["output"].as<std::string>();
    std::ofstream out(file, std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + file);
    return 0;
}

}  // namespace

int cmd_completion(Context& ctx) {
    std::ostringstream text;
    if (!write_completion(ctx.positional[0], text))
        throw UsageError("no completion for \"" + ctx.positional[0] + "\" (bash, zsh or fish)");
    return emit(ctx, text.str());
}

int cmd_man(Context& ctx) {
    std::ostringstream text;
    if (!write_man_page(ctx.positional[0], text)) {
        std::string pages;
        for (const auto& p : man_pages()) pages += (pages.empty() ? "" : ", ") + p;
        throw UsageError("no man page \"" + ctx.positional[0] + "\" (" + pages + ")");
    }
    return emit(ctx, text.str());
}

}  // namespace warden::cli
