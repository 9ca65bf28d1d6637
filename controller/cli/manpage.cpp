#include "cli/manpage.h"

#include <cctype>
#include <ostream>

#include "cli/command_table.h"
#include "policy/schema.h"
#include "store/layout.h"
#include "version/version.h"

namespace po = boost::program_options;

namespace warden::cli {

namespace {

// Text as roff reads it: backslashes and minus signs escaped (a '-' left alone may print as
// a hyphen that cannot be pasted into a shell), `code` in bold.
std::string roff(const std::string& text) {
    std::string out;
    bool code = false;
    for (char c : text) {
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else if (c == '`') {
            out += code ? "\\fR" : "\\fB";
            code = !code;
        } else
            out += c;
    }
    if (code) out += "\\fR";
    return out;
}

// A line of running text: a leading '.' or '\'' would be read as a request.
std::string line(const std::string& text) {
    std::string r = roff(text);
    if (!r.empty() && (r[0] == '.' || r[0] == '\'')) r = "\\&" + r;
    return r + "\n";
}

// Text hard-wrapped for a terminal (as the command table's details are), joined back into
// paragraphs: a blank line separates them.
std::vector<std::string> paragraphs(const std::string& text) {
    std::vector<std::string> out;
    std::string current;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string l = text.substr(start, end - start);
        if (l.empty()) {
            if (!current.empty()) out.push_back(current);
            current.clear();
        } else {
            current += (current.empty() ? "" : " ") + l;
        }
        start = end + 1;
    }
    if (!current.empty()) out.push_back(current);
    return out;
}

std::string sentence(std::string s) {
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s + ".";
}

void header(std::ostream& out, const std::string& title, int section, const std::string& manual) {
    out << ".\\\" Written by `warden man` from warden's own tables; do not edit.\n"
        << ".TH " << title << " " << section << " \"\" \"warden " << version::release() << "\" \"" << manual << "\"\n";
}

// ".TP" entries for options: "-c, --config FILE" and what it does (and its default).
void options(std::ostream& out, const po::options_description& description) {
    for (const auto& o : description.options()) {
        out << ".TP\n";
        std::string dash = o->canonical_display_name(po::command_line_style::allow_dash_for_short);
        bool has_short = dash.size() == 2 && dash[0] == '-' && dash[1] != '-';
        if (has_short) out << "\\fB" << roff(dash) << "\\fR, ";
        out << "\\fB" << roff("--" + o->long_name()) << "\\fR";
        std::string help = o->description();
        if (o->semantic()->max_tokens() > 0) {
            std::string name = o->semantic()->name();  // "in|out|both (=both)"
            std::string value = name.substr(0, name.find(' '));
            out << " \\fI" << roff(value) << "\\fR";
            auto at = name.find("(=");
            if (at != std::string::npos) {
                std::string fallback = name.substr(at + 2, name.size() - at - 3);
                help += fallback.empty() ? "" : " (default: " + fallback + ")";
            }
        }
        out << "\n" << line(sentence(help));
    }
}

void warden_page(std::ostream& out) {
    header(out, "WARDEN", 8, "System Administration");
    out << ".SH NAME\nwarden \\- network\\-layer security for the home, on the gateway\n"
        << ".SH SYNOPSIS\n.B warden\n.RI [ options ]\n.I COMMAND\n.RI [ args ]\n"
        << ".SH DESCRIPTION\n"
        << line("warden guards a home network from its gateway. Programs in the kernel (XDP and tc) count every "
                "device's traffic and flows and drop the frames of quarantined devices and blocked addresses; "
                "the controller (`warden run`) watches what each device does, tells who it is, quarantines a "
                "device that behaves like an infected one, and serves metrics and a status page.")
        << ".PP\n"
        << line("The other commands look at and change what warden knows and enforces. They reach a running "
                "controller through its control socket, and work without one too: quarantines and blocks are "
                "kept in the state dir and enforced by the kernel programs, which stay attached when the "
                "controller stops.")
        << ".SH COMMANDS\n";
    for (const auto& c : commands()) {
        if (c.hidden) continue;
        out << ".SS \"warden " << roff(c.name) << "\"\n"
            << ".B warden " << roff(c.name) << "\n";
        if (!c.args.empty()) out << line(c.args);
        out << ".PP\n" << line(sentence(c.summary));
        for (const auto& p : paragraphs(c.details)) out << ".PP\n" << line(p);
        po::options_description own;
        c.options(own);
        if (!own.options().empty()) {
            out << ".PP\nOptions:\n";
            options(out, own);
        }
    }
    out << ".SH OPTIONS\nEvery command takes these:\n";
    po::options_description common;
    common_options(common);
    options(out, common);
    out << ".TP\n\\fB\\-\\-version\\fR\n" << line("Print the version, the commit and the libbpf version.");
    out << ".SH EXIT STATUS\n"
        << ".TP\n0\nSuccess.\n.TP\n1\n" << line("A runtime error: warden is not running, a file cannot be read, the "
                                                "controller refused the change.")
        << ".TP\n2\n" << line("A usage error: an unknown command or option, a bad argument.")
        << ".SH FILES\n"
        << ".TP\n/etc/warden/policy.yaml\n" << line("The policy (see `warden-policy`(5)).")
        << ".TP\n/sys/fs/bpf/warden\n" << line("The pinned maps and links (paths.pin_dir).")
        << ".TP\n/var/lib/warden\n" << line("The state dir (paths.state_dir). In it:");
    out << ".RS\n";
    for (const auto& f : store::layout::all)
        out << ".TP\n" << roff(std::string(f.name)) << "\n"
            << line(sentence(std::string(f.format)) + " Written by " + std::string(f.writer) + ".");
    out << ".RE\n"
        << ".SH SEE ALSO\n"
        << ".BR warden\\-policy (5),\n.BR systemctl (1),\n.BR bpftool (8)\n";
}

void key_entry(std::ostream& out, const policy::SchemaKey& k) {
    out << ".TP\n.B " << roff(k.path) << "\n" << "\\fI" << roff(k.type) << "\\fR.\n" << line(k.meaning);
    if (!k.default_value.empty()) out << "Default: \\fB" << roff(k.default_value) << "\\fR.\n";
}

// A key, then everything under it (sections of sections, such as detectors.port_scan).
void key_tree(std::ostream& out, const policy::SchemaKey& k) {
    key_entry(out, k);
    for (const std::string& under : {k.path, k.path + "[]"})
        for (const auto* child : policy::children(under)) key_tree(out, *child);
}

void policy_page(std::ostream& out) {
    header(out, "WARDEN\\-POLICY", 5, "File Formats");
    out << ".SH NAME\nwarden\\-policy \\- what warden guards and how (/etc/warden/policy.yaml)\n"
        << ".SH SYNOPSIS\n/etc/warden/policy.yaml\n"
        << ".SH DESCRIPTION\n"
        << line("The policy is a YAML file read by `warden run` at start and when it is told to reload it "
                "(`warden policy reload`, or SIGHUP). Only interfaces is required; every other key has a "
                "default.")
        << ".PP\n"
        << line("Checking is strict: an unknown or misspelt key (with the key it was probably meant to be), a "
                "value of the wrong type or out of range is an error naming the line, the column and the key. "
                "An invalid file is rejected whole and the running policy stays in force. `warden policy check "
                "FILE` prints every problem.")
        << ".SH VALUES\n"
        << ".TP\nduration\n"
        << line("A number with a unit, largest unit first: 100ms, 90s, 15m, 1h, 7d, 1h30m. Units: d, h, m, s, "
                "ms. No bare numbers, fractions or spaces.")
        << ".TP\nsize\n"
        << line("Bytes, or a whole number with a unit: 4096, 512kB, 10MB, 1GB. The units are binary (1 kB is "
                "1,024 bytes); KiB, MiB and GiB are the same units.")
        << ".TP\nboolean\n" << line("true or false (yes, no, on and off are refused: YAML versions disagree on them).")
        << ".TP\nMAC\n" << line("aa:bb:cc:dd:ee:ff (or with '-'), a unicast address.")
        << ".TP\nprefix\n" << line("198.18.0.0/15, fd00::/8, or one address; no host bits set.")
        << ".PP\n" << line("An empty value for a list or a section means an empty list or section.")
        << ".SH KEYS\n.SS \"Top level\"\n";
    for (const auto* k : policy::children(""))
        if (!policy::is_section(*k)) key_entry(out, *k);
    for (const auto* k : policy::children("")) {
        if (!policy::is_section(*k)) continue;
        out << ".SS " << roff(k->path) << "\n" << "\\fI" << roff(k->type) << "\\fR.\n" << line(k->meaning);
        for (const std::string& under : {k->path, k->path + "[]"})
            for (const auto* child : policy::children(under)) key_tree(out, *child);
    }
    out << ".SH EXAMPLE\nThe smallest policy names the ports:\n.PP\n.nf\n.RS\n"
        << "interfaces:\n  wan: eth0\n  lan: [eth1, wlan0]\n.RE\n.fi\n"
        << ".PP\n"
        << line("warden's documentation directory holds policy.yaml, with every key, its default and why it is "
                "there.")
        << ".SH SEE ALSO\n.BR warden (8)\n";
}

}  // namespace

const std::vector<std::string>& man_pages() {
    static const std::vector<std::string> pages = {"warden", "warden-policy"};
    return pages;
}

bool write_man_page(const std::string& page, std::ostream& out) {
    if (page == "warden") {
        warden_page(out);
        return true;
    }
    if (page == "warden-policy") {
        policy_page(out);
        return true;
    }
    return false;
}

}  // namespace warden::cli
