#include "cli/completion.h"

#include <algorithm>
#include <ostream>

#include "cli/command_table.h"
#include "cli/help.h"

namespace po = boost::program_options;

namespace warden::cli {

namespace {

// ---- what every shell is told, read once from the command table ----

struct Option {
    std::string long_name;   // "--level"
    std::string short_name;  // "-c", or ""
    bool takes_value = false;
    ValueKind value;
    std::string value_name;  // "DURATION", "MAC": what to type, for shells that say so
    std::string help;
};

struct Word {
    std::string name;
    std::string summary;
};

std::vector<Option> options_of(const po::options_description& description) {
    std::vector<Option> out;
    for (const auto& o : description.options()) {
        Option opt;
        opt.long_name = "--" + o->long_name();
        std::string dash = o->canonical_display_name(po::command_line_style::allow_dash_for_short);
        if (dash.size() == 2 && dash[0] == '-' && dash[1] != '-') opt.short_name = dash;
        opt.takes_value = o->semantic()->max_tokens() > 0;
        opt.value = value_kind(*o);
        if (opt.takes_value) {
            std::string name = o->semantic()->name();
            opt.value_name = name.substr(0, name.find(' '));
        }
        opt.help = o->description();
        out.push_back(std::move(opt));
    }
    return out;
}

std::vector<Option> common() {
    po::options_description d;
    common_options(d);
    return options_of(d);
}

std::vector<Option> own_options(const Command& c) {
    po::options_description d;
    c.options(d);
    return options_of(d);
}

std::vector<const Command*> visible() {
    std::vector<const Command*> out;
    for (const auto& c : commands())
        if (!c.hidden) out.push_back(&c);
    return out;
}

// The words that may come first, with what they do (a group says what the group is for).
std::vector<Word> first_words_described() {
    std::vector<Word> out;
    for (const auto& name : first_words()) {
        if (const Group* g = find_group(name))
            out.push_back({name, g->summary});
        else if (const Command* c = find_command(name))
            out.push_back({name, c->summary});
    }
    return out;
}

std::vector<Word> subcommands(const Group& g) {
    std::vector<Word> out;
    for (const Command* c : members(g.name))
        if (!c->hidden) out.push_back({c->name.substr(g.name.size() + 1), c->summary});
    return out;
}

// Every option that takes a value, in any command: the word after it is its value.
std::vector<std::string> value_option_spellings() {
    std::vector<std::string> out;
    auto add = [&](const std::vector<Option>& options) {
        for (const auto& o : options) {
            if (!o.takes_value) continue;
            for (const auto& s : {o.long_name, o.short_name})
                if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
        }
    };
    add(common());
    for (const Command* c : visible()) add(own_options(*c));
    return out;
}

std::string joined(const std::vector<std::string>& words, const std::string& between) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : between) + w;
    return out;
}

std::string group_names(const std::string& between) {
    std::vector<std::string> names;
    for (const auto& g : groups()) names.push_back(g.name);
    return joined(names, between);
}

std::vector<std::string> names(const std::vector<Word>& words) {
    std::vector<std::string> out;
    for (const auto& w : words) out.push_back(w.name);
    return out;
}

std::vector<std::string> spellings(const std::vector<Option>& options) {
    std::vector<std::string> out;
    for (const auto& o : options) {
        out.push_back(o.long_name);
        if (!o.short_name.empty()) out.push_back(o.short_name);
    }
    return out;
}

// What a command's positional arguments complete to.
const Argument* first_argument(const Command& c) { return c.arguments.empty() ? nullptr : &c.arguments.front(); }

// ---- bash ----

void write_bash(std::ostream& out) {
    out << "# bash completion for warden, written by `warden completion bash` from its command table.\n"
           "_warden() {\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
           "    local command=\"\" word i\n"
           "    # The command's words so far: not options, nor the values of options that take one.\n"
           "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "        word=${COMP_WORDS[i]}\n"
           "        case $word in\n"
           "            --) break ;;\n"
           "            "
        << joined(value_option_spellings(), "|")
        << ") ((i++)); continue ;;\n"
           "            -*) continue ;;\n"
           "        esac\n"
           "        case $command in\n"
           "            \"\") command=$word ;;\n"
           "            "
        << group_names("|")
        << ") command=\"$command $word\" ;;\n"
           "            *) break ;;\n"
           "        esac\n"
           "    done\n"
           "    COMPREPLY=()\n";

    // The value of an option: its choices, file names, or nothing to offer.
    auto value_case = [&](const std::string& pattern_head, const Option& o) {
        std::string pattern = pattern_head + "|" + o.long_name + "\"";
        if (!o.short_name.empty()) pattern += "|" + pattern_head + "|" + o.short_name + "\"";
        out << "        " << pattern << ") ";
        if (!o.value.choices.empty())
            out << "COMPREPLY=($(compgen -W \"" << joined(o.value.choices, " ") << "\" -- \"$cur\"))";
        else if (o.value.file)
            out << "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\"))";
        else
            out << ":";
        out << "; return ;;\n";
    };
    out << "    case \"$command|$prev\" in\n";
    for (const Command* c : visible())
        for (const auto& o : own_options(*c))
            if (o.takes_value) value_case("\"" + c->name, o);
    for (const auto& o : common())
        if (o.takes_value) value_case("*\"", o);
    out << "    esac\n";

    out << "    if [[ $cur == -* ]]; then\n"
           "        case $command in\n";
    std::string common_words = joined(spellings(common()), " ");
    for (const Command* c : visible()) {
        auto own = own_options(*c);
        if (own.empty()) continue;
        out << "            \"" << c->name << "\") COMPREPLY=($(compgen -W \"" << joined(spellings(own), " ") << " "
            << common_words << "\" -- \"$cur\")) ;;\n";
    }
    out << "            *) COMPREPLY=($(compgen -W \"" << common_words << "\" -- \"$cur\")) ;;\n"
        << "        esac\n"
           "        return\n"
           "    fi\n"
           "    case $command in\n"
           "        \"\") COMPREPLY=($(compgen -W \""
        << joined(first_words(), " ") << "\" -- \"$cur\")) ;;\n";
    for (const auto& g : groups())
        out << "        " << g.name << ") COMPREPLY=($(compgen -W \"" << joined(names(subcommands(g)), " ")
            << "\" -- \"$cur\")) ;;\n";
    for (const Command* c : visible()) {
        const Argument* a = first_argument(*c);
        if (!a) continue;
        if (a->file) {
            out << "        \"" << c->name << "\") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n";
        } else if (!a->choices.empty()) {
            out << "        \"" << c->name << "\") COMPREPLY=($(compgen -W \"" << joined(a->choices, " ")
                << "\" -- \"$cur\")) ;;\n";
        } else if (a->command_word) {
            // After a group's name, its subcommands; else the first words.
            out << "        \"" << c->name << "\")\n"
                << "            case $prev in\n";
            for (const auto& g : groups())
                out << "                " << g.name << ") COMPREPLY=($(compgen -W \""
                    << joined(names(subcommands(g)), " ") << "\" -- \"$cur\")) ;;\n";
            out << "                *) COMPREPLY=($(compgen -W \"" << joined(first_words(), " ")
                << "\" -- \"$cur\")) ;;\n"
                << "            esac ;;\n";
        }
    }
    out << "    esac\n"
           "}\n"
           "complete -F _warden warden\n";
}

// ---- zsh ----

// Text inside single quotes.
std::string single_quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

void write_zsh(std::ostream& out) {
    auto described = [](const std::vector<Word>& words) {
        std::string s;
        for (const auto& w : words) s += (s.empty() ? "" : " ") + single_quoted(w.name + ":" + w.summary);
        return s;
    };
    auto option_words = [](const std::vector<Option>& options) {
        std::string s;
        for (const auto& o : options) {
            s += (s.empty() ? "" : " ") + single_quoted(o.long_name + ":" + o.help);
            if (!o.short_name.empty()) s += " " + single_quoted(o.short_name + ":" + o.help);
        }
        return s;
    };
    out << "#compdef warden\n"
           "# zsh completion for warden, written by `warden completion zsh` from its command table.\n"
           "\n"
           "_warden() {\n"
           "  local cur=${words[CURRENT]} prev=${words[CURRENT-1]}\n"
           "  local command=\"\" word\n"
           "  local -i i\n"
           "  local -a items\n"
           "  # The command's words so far: not options, nor the values of options that take one.\n"
           "  for (( i = 2; i < CURRENT; i++ )); do\n"
           "    word=${words[i]}\n"
           "    case $word in\n"
           "      (--) break ;;\n"
           "      ("
        << joined(value_option_spellings(), "|")
        << ") (( i++ )); continue ;;\n"
           "      (-*) continue ;;\n"
           "    esac\n"
           "    case $command in\n"
           "      (\"\") command=$word ;;\n"
           "      ("
        << group_names("|")
        << ") command=\"$command $word\" ;;\n"
           "      (*) break ;;\n"
           "    esac\n"
           "  done\n";

    auto value_case = [&](const std::string& pattern_head, const Option& o) {
        std::string pattern = pattern_head + "|" + o.long_name + "\"";
        if (!o.short_name.empty()) pattern += "|" + pattern_head + "|" + o.short_name + "\"";
        out << "    (" << pattern << ") ";
        if (!o.value.choices.empty())
            out << "compadd -- " << joined(o.value.choices, " ");
        else if (o.value.file)
            out << "_files";
        else
            out << "_message " << single_quoted(o.value_name);
        out << "; return ;;\n";
    };
    out << "  case \"$command|$prev\" in\n";
    for (const Command* c : visible())
        for (const auto& o : own_options(*c))
            if (o.takes_value) value_case("\"" + c->name, o);
    for (const auto& o : common())
        if (o.takes_value) value_case("*\"", o);
    out << "  esac\n";

    std::string common_words = option_words(common());
    out << "  if [[ $cur == -* ]]; then\n"
           "    case $command in\n";
    for (const Command* c : visible()) {
        auto own = own_options(*c);
        if (own.empty()) continue;
        out << "      (\"" << c->name << "\") items=(" << option_words(own) << " " << common_words << ") ;;\n";
    }
    out << "      (*) items=(" << common_words << ") ;;\n"
        << "    esac\n"
           "    _describe -t options 'option' items\n"
           "    return\n"
           "  fi\n"
           "  case $command in\n"
           "    (\"\") items=("
        << described(first_words_described()) << "); _describe -t commands 'warden command' items ;;\n";
    for (const auto& g : groups())
        out << "    (" << g.name << ") items=(" << described(subcommands(g)) << "); _describe -t commands "
            << single_quoted(g.name + " subcommand") << " items ;;\n";
    for (const Command* c : visible()) {
        const Argument* a = first_argument(*c);
        if (!a) continue;
        if (a->file) {
            out << "    (\"" << c->name << "\") _files ;;\n";
        } else if (!a->choices.empty()) {
            out << "    (\"" << c->name << "\") compadd -- " << joined(a->choices, " ") << " ;;\n";
        } else if (a->command_word) {
            out << "    (\"" << c->name << "\")\n"
                << "      case $prev in\n";
            for (const auto& g : groups())
                out << "        (" << g.name << ") items=(" << described(subcommands(g))
                    << "); _describe -t commands " << single_quoted(g.name + " subcommand") << " items ;;\n";
            out << "        (*) items=(" << described(first_words_described())
                << "); _describe -t commands 'warden command' items ;;\n"
                << "      esac ;;\n";
        } else {
            out << "    (\"" << c->name << "\") _message " << single_quoted(a->name) << " ;;\n";
        }
    }
    out << "  esac\n"
           "}\n"
           "\n"
           "_warden \"$@\"\n";
}

// ---- fish ----

// Text inside fish's single quotes: backslash and quote escaped.
std::string fish_quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\\' || c == '\'') out += '\\';
        out += c;
    }
    return out + "'";
}

void write_fish(std::ostream& out) {
    out << "# fish completion for warden, written by `warden completion fish` from its command table.\n"
           "\n"
           "# The command's words so far (\"quarantine add\"): not options, nor the values of options\n"
           "# that take one.\n"
           "function __warden_command\n"
           "    set -l tokens (commandline -opc)\n"
           "    set -l command\n"
           "    set -l skip 0\n"
           "    for token in $tokens[2..-1]\n"
           "        if test $skip -eq 1\n"
           "            set skip 0\n"
           "            continue\n"
           "        end\n"
           "        switch $token\n"
           "            case --\n"
           "                break\n"
           "            case "
        << joined(value_option_spellings(), " ")
        << "\n"
           "                set skip 1\n"
           "                continue\n"
           "            case '-*'\n"
           "                continue\n"
           "        end\n"
           "        if test (count $command) -eq 0\n"
           "            set command $token\n"
           "        else if test (count $command) -eq 1; and contains -- $command[1] "
        << group_names(" ")
        << "\n"
           "            set -a command $token\n"
           "        else\n"
           "            break\n"
           "        end\n"
           "    end\n"
           "    string join ' ' -- $command\n"
           "end\n"
           "\n"
           "function __warden_is\n"
           "    set -l command (__warden_command)\n"
           "    test \"$command\" = \"$argv[1]\"\n"
           "end\n"
           "\n"
           "function __warden_after\n"
           "    set -l tokens (commandline -opc)\n"
           "    test \"$tokens[-1]\" = \"$argv[1]\"\n"
           "end\n"
           "\n"
           "complete -c warden -f\n";

    auto option_line = [&](const std::string& condition, const Option& o) {
        out << "complete -c warden";
        if (!condition.empty()) out << " -n " << fish_quoted(condition);
        if (!o.short_name.empty()) out << " -s " << o.short_name.substr(1);
        out << " -l " << o.long_name.substr(2);
        if (o.takes_value) {
            if (!o.value.choices.empty())
                out << " -x -a " << fish_quoted(joined(o.value.choices, " "));
            else if (o.value.file)
                out << " -r -F";
            else
                out << " -x";
        }
        out << " -d " << fish_quoted(o.help) << "\n";
    };
    for (const auto& o : common()) option_line("", o);
    for (const auto& w : first_words_described())
        out << "complete -c warden -n '__warden_is \"\"' -a " << w.name << " -d " << fish_quoted(w.summary) << "\n";
    for (const auto& g : groups())
        for (const auto& w : subcommands(g))
            out << "complete -c warden -n " << fish_quoted("__warden_is " + g.name) << " -a " << w.name << " -d "
                << fish_quoted(w.summary) << "\n";
    for (const Command* c : visible()) {
        std::string condition = "__warden_is \"" + c->name + "\"";
        for (const auto& o : own_options(*c)) option_line(condition, o);
        const Argument* a = first_argument(*c);
        if (!a) continue;
        if (a->file) {
            out << "complete -c warden -n " << fish_quoted(condition) << " -F\n";
        } else if (!a->choices.empty()) {
            out << "complete -c warden -n " << fish_quoted(condition) << " -a " << fish_quoted(joined(a->choices, " "))
                << "\n";
        } else if (a->command_word) {
            for (const auto& g : groups())
                for (const auto& w : subcommands(g))
                    out << "complete -c warden -n "
                        << fish_quoted(condition + "; and __warden_after " + g.name) << " -a " << w.name << " -d "
                        << fish_quoted(w.summary) << "\n";
            for (const auto& w : first_words_described())
                out << "complete -c warden -n " << fish_quoted(condition + "; and not __warden_after " + group_names(" ; and not __warden_after ")) << " -a " << w.name << " -d "
                    << fish_quoted(w.summary) << "\n";
        }
    }
}

}  // namespace

bool write_completion(const std::string& shell, std::ostream& out) {
    if (shell == "bash") {
        write_bash(out);
        return true;
    }
    if (shell == "zsh") {
        write_zsh(out);
        return true;
    }
    if (shell == "fish") {
        write_fish(out);
        return true;
    }
    return false;
}

}  // namespace warden::cli
