// The policy schema (policy/schema.h, the source of warden-policy(5)) against the loader
// (policy/policy.cpp), which is the one list of keys warden accepts: every key in the schema
// loads with its default or example value, and every mapping's list of keys, as the loader
// names them in its unknown-key error, is exactly the schema's keys under it.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <sstream>

#include "policy/policy.h"
#include "policy/schema.h"

using namespace warden::policy;

namespace {

const std::string minimal = "interfaces:\n  wan: eth0\n  lan: [eth1]\n";

std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> out;
    std::stringstream in(path);
    for (std::string part; std::getline(in, part, '.');) out.push_back(part);
    return out;
}

std::string value_of(const SchemaKey& k) { return k.default_value.empty() ? k.example : k.default_value; }

// The one list whose items come in kinds with keys of their own: a notification channel is
// either a webhook (headers, format) or an exec hook (args).
bool exec_only(const std::string& path) {
    return path == "notify.channels[].exec" || path == "notify.channels[].args";
}
bool webhook_only(const std::string& path) {
    return path == "notify.channels[].webhook" || path == "notify.channels[].headers" ||
           path == "notify.channels[].format";
}

// A valid item of the list `list` ("devices[]"): every key under it with its value (of a
// channel, the keys of the kind `for_key` belongs to).
YAML::Node full_item(const std::string& list, const std::string& for_key) {
    YAML::Node item(YAML::NodeType::Map);
    for (const auto* k : children(list)) {
        if (is_section(*k)) continue;
        if (exec_only(for_key) ? webhook_only(k->path) : exec_only(k->path)) continue;
        item[split(k->path).back()] = YAML::Load(value_of(*k));
    }
    return item;
}

// Sets `path` (segments "name" or "name[]") to value under root; a list gets one valid item.
void set(YAML::Node root, const std::string& path, const YAML::Node& value) {
    auto parts = split(path);
    YAML::Node node = root;
    std::string so_far;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        so_far += (so_far.empty() ? "" : ".") + parts[i];
        if (parts[i].ends_with("[]")) {
            std::string name = parts[i].substr(0, parts[i].size() - 2);
            if (!node[name].IsSequence() || node[name].size() == 0) {
                YAML::Node list(YAML::NodeType::Sequence);
                list.push_back(full_item(so_far, path));
                node[name] = list;
            }
            node.reset(node[name][0]);
        } else {
            if (!node[parts[i]].IsMap()) node[parts[i]] = YAML::Node(YAML::NodeType::Map);
            node.reset(node[parts[i]]);
        }
    }
    node[parts.back()] = value;
}

std::string errors_of(const LoadResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += e.str() + "\n";
    return out;
}

}  // namespace

TEST_CASE("every key of the schema loads with its default or example value") {
    for (const auto& k : schema()) {
        if (is_section(k)) continue;
        CAPTURE(k.path);
        std::string value = value_of(k);
        REQUIRE_MESSAGE(!value.empty(), "the schema gives no value to try for " << k.path);
        YAML::Node root = YAML::Load(minimal);
        set(root, k.path, YAML::Load(value));
        // The one key that is only valid beside another: a gateway id is the certificate's CN
        // unless the channel runs without certificates.
        if (k.path == "fleet.gateway_id") set(root, "fleet.insecure", YAML::Load("true"));
        std::string text = YAML::Dump(root);
        CAPTURE(text);
        auto r = load_text(text, "schema.yaml");
        CHECK_MESSAGE(r.errors.empty(), errors_of(r));
    }
}

TEST_CASE("every mapping accepts exactly the keys the schema lists under it") {
    std::set<std::string> parents = {""};
    for (const auto& k : schema()) {
        auto dot = k.path.rfind('.');
        if (dot != std::string::npos) parents.insert(k.path.substr(0, dot));
    }
    for (const auto& parent : parents) {
        CAPTURE(parent);
        YAML::Node root = YAML::Load(minimal);
        set(root, parent.empty() ? "zz_not_a_key" : parent + ".zz_not_a_key", YAML::Load("1"));
        auto r = load_text(YAML::Dump(root), "schema.yaml");
        std::string listed;
        for (const auto& e : r.errors) {
            auto at = e.message.find("expected one of: ");
            if (e.message.starts_with("unknown key") && at != std::string::npos)
                listed = e.message.substr(at + 17);
        }
        REQUIRE_MESSAGE(!listed.empty(), "no unknown-key error: " << errors_of(r));
        std::set<std::string> accepted;
        std::stringstream in(listed);
        for (std::string key; std::getline(in, key, ',');) accepted.insert(key.substr(key.find_first_not_of(' ')));
        std::set<std::string> documented;
        for (const auto* k : children(parent)) documented.insert(split(k->path).back());
        CHECK(accepted == documented);
    }
}
