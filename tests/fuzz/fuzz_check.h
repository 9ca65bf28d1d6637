// What every fuzz target may assert beyond "no crash": a parser's promises (a refusal has
// a reason, text is safe to keep and to dump as JSON, a payload lies within the frame). A
// broken promise aborts, which libFuzzer reports as a crash with the input that broke it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "text/text.h"

#define FUZZ_CHECK(cond)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                   \
        }                                                                                   \
    } while (0)

namespace fuzz {

// Text a parser hands on must be safe to keep: valid UTF-8 without control characters
// (text::is_safe), which is also what a JSON dump needs not to throw. Checked both ways.
inline bool safe(const std::string& s) {
    if (!warden::text::is_safe(s)) return false;
    try {
        (void)nlohmann::json(s).dump();
    } catch (const nlohmann::json::exception&) {
        return false;
    }
    return true;
}

}  // namespace fuzz
