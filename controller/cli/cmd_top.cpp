// warden top: every device on one screen, refreshed every interval (ncurses), like htop for
// the home network. When stdout is not a terminal, or with --once or --json, it prints one
// snapshot of the same rows and exits, so scripts and pipes get text, not escape codes.
#include <curses.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <clocale>
#include <csignal>
#include <ctime>
#include <functional>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/device_view.h"
#include "cli/event_text.h"
#include "cli/format.h"
#include "store/state.h"

namespace warden::cli {

using nlohmann::json;

namespace {

// ---- what is shown: rows, columns, totals (the screen and the snapshot share all of it) ----

enum class SortKey { up, down, name, flows, state };

struct SortChoice {
    SortKey key;
    char letter;
    const char* word;
};
constexpr SortChoice kSorts[] = {
    {SortKey::up, 'u', "up"}, {SortKey::down, 'd', "down"}, {SortKey::name, 'n', "name"},
    {SortKey::flows, 'f', "flows"}, {SortKey::state, 's', "state"},
};

const char* sort_word(SortKey k) {
    for (const auto& s : kSorts)
        if (s.key == k) return s.word;
    return "?";
}

double up_rate(const DeviceView& d) { return d.rates ? d.rates->up_bps : -1; }
double down_rate(const DeviceView& d) { return d.rates ? d.rates->down_bps : -1; }
int64_t active_flows(const DeviceView& d) { return d.rates ? int64_t(d.rates->active_flows) : -1; }

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Busiest (or worst) first; names alphabetically, unnamed last; the MAC breaks ties so rows
// do not swap places between refreshes.
void sort_devices(std::vector<DeviceView>& devices, SortKey key) {
    std::stable_sort(devices.begin(), devices.end(), [key](const DeviceView& a, const DeviceView& b) {
        switch (key) {
            case SortKey::up:
                if (up_rate(a) != up_rate(b)) return up_rate(a) > up_rate(b);
                break;
            case SortKey::down:
                if (down_rate(a) != down_rate(b)) return down_rate(a) > down_rate(b);
                break;
            case SortKey::flows:
                if (active_flows(a) != active_flows(b)) return active_flows(a) > active_flows(b);
                break;
            case SortKey::state: {
                int sa = state_severity(a.state), sb = state_severity(b.state);
                if (sa != sb) return sa > sb;
                if (up_rate(a) != up_rate(b)) return up_rate(a) > up_rate(b);
                break;
            }
            case SortKey::name:
                if (a.name.empty() != b.name.empty()) return b.name.empty();
                if (lower(a.name) != lower(b.name)) return lower(a.name) < lower(b.name);
                break;
        }
        return a.mac < b.mac;
    });
}

// A rate without its "/s" (the column header says per second), so it fits 7 characters.
std::string rate_cell(double bps) { return bps < 0 ? "-" : human_bytes(static_cast<uint64_t>(bps)); }

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

struct Column {
    const char* header;
    size_t width;     // the name column's least width; it takes what the others leave
    bool numeric;     // right-aligned
    int drop_rank;    // dropped first when narrow: highest rank; 0 never
    std::optional<SortKey> sorted_by;  // the key that sorts on this column
    bool state;       // coloured by the device's state
    std::function<std::string(const DeviceView&)> cell;
};

const std::vector<Column>& columns() {
    static const std::vector<Column> all = {
        {"NAME", 10, false, 5, SortKey::name, false, [](const DeviceView& d) { return or_dash(d.name); }},
        {"MAC", 17, false, 0, {}, false, [](const DeviceView& d) { return d.mac.str(); }},
        {"VENDOR", 14, false, 9, {}, false, [](const DeviceView& d) { return or_dash(d.vendor); }},
        // "unknown" is what identity says when no rule matched: a dash, like any unknown.
        {"TYPE", 10, false, 8, {}, false,
         [](const DeviceView& d) { return or_dash(d.type == "unknown" ? std::string() : d.type); }},
        {"STATE", 10, false, 0, SortKey::state, true,
         [](const DeviceView& d) { return d.state == "ok (expiring)" ? std::string("expiring") : d.state; }},
        {"UP/s", 7, true, 4, SortKey::up, false, [](const DeviceView& d) { return rate_cell(up_rate(d)); }},
        {"DOWN/s", 7, true, 3, SortKey::down, false, [](const DeviceView& d) { return rate_cell(down_rate(d)); }},
        {"FLOWS", 5, true, 6, SortKey::flows, false,
         [](const DeviceView& d) { return d.rates ? std::to_string(d.rates->active_flows) : "-"; }},
        {"DROPS", 5, true, 7, {}, false, [](const DeviceView& d) { return human_count(d.drops()); }},
    };
    return all;
}
constexpr size_t kNameColumn = 0;
constexpr size_t kNameMaxWidth = 24;

struct Totals {
    size_t devices = 0, isolated = 0, restricted = 0, alerting = 0;
    double up_bps = 0, down_bps = 0;
    uint64_t flows = 0, drops = 0;
};

Totals totals_of(const NetworkView& v) {
    Totals t;
    t.devices = v.devices.size();
    for (const auto& d : v.devices) {
        t.isolated += d.state == "isolated";
        t.restricted += d.state == "restricted";
        t.alerting += d.state == "alerting";
        t.drops += d.drops();
        if (d.rates) {
            t.up_bps += d.rates->up_bps;
            t.down_bps += d.rates->down_bps;
            t.flows += d.rates->active_flows;
        }
    }
    return t;
}

std::string controller_text(const NetworkView& v) {
    if (v.controller) {
        std::string s = "warden running (pid " + std::to_string(*v.controller);
        if (v.controller_started_ms) s += ", up " + human_age(store::now_unix_ms() - v.controller_started_ms);
        return s + ")";
    }
    if (v.maps_pinned) return "warden controller NOT running (programs still enforce)";
    return "warden NOT running (nothing pinned under " + v.pin_dir + ")";
}

std::string header_text(const NetworkView& v, const Totals& t) {
    std::string s = controller_text(v) + " | " + std::to_string(t.devices) + " device" + (t.devices == 1 ? "" : "s");
    if (v.rates_fresh) s += " | up " + human_rate(t.up_bps) + " down " + human_rate(t.down_bps);
    return s;
}

std::string totals_text(const NetworkView& v, const Totals& t) {
    std::string s = "total: ";
    s += v.rates_fresh ? std::to_string(t.flows) + " flows, " : std::string("no rates, ");
    s += human_count(t.drops) + " drops | " + std::to_string(t.isolated) + " isolated, " +
         std::to_string(t.restricted) + " restricted, " + std::to_string(t.alerting) + " alerting";
    return s;
}

std::string clock_text(int64_t unix_ms) {
    std::time_t secs = unix_ms / 1000;
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}

// An event's line in the footer: its time and sentence, with the device's name for its MAC
// where the view knows one (people read "Kitchen plug", not 68:ff:7b:10:20:05).
std::string event_text(const json& e, const std::vector<DeviceView>& devices) {
    std::string sentence = event_sentence(e);
    auto mac_field = e.find("mac");
    if (mac_field != e.end() && mac_field->is_string()) {
        const std::string& mac = mac_field->get_ref<const std::string&>();
        auto named = std::find_if(devices.begin(), devices.end(),
                                  [&](const DeviceView& d) { return !d.name.empty() && d.mac.str() == mac; });
        if (auto at = sentence.find(mac); named != devices.end() && at != std::string::npos)
            sentence.replace(at, mac.size(), named->name);
    }
    return clock_text(event_time_ms(e)) + " " + sentence;
}

// ---- the snapshot: plain text or JSON ----

int print_snapshot(Context& ctx, SortKey sort) {
    RecentEvents events(store::StateDir(ctx.state_dir()).events_file());
    events.update();
    NetworkView view = look(ctx, &events, /*require_pins=*/true);
    sort_devices(view.devices, sort);
    Totals t = totals_of(view);
    if (ctx.json) {
        json devices = json::array();
        for (const auto& d : view.devices) devices.push_back(to_json(d));
        json latest = json::array();
        for (const auto& e : events.events()) latest.push_back(e);
        json out{{"controller", view.controller ? json{{"running", true}, {"pid", *view.controller}} : json{{"running", false}}},
                 {"maps_pinned", view.maps_pinned},
                 {"rates_fresh", view.rates_fresh},
                 {"sort", sort_word(sort)},
                 {"totals", {{"devices", t.devices}, {"isolated", t.isolated}, {"restricted", t.restricted},
                             {"alerting", t.alerting}, {"drops", t.drops},
                             {"up_bps", view.rates_fresh ? json(t.up_bps) : json(nullptr)},
                             {"down_bps", view.rates_fresh ? json(t.down_bps) : json(nullptr)},
                             {"active_flows", view.rates_fresh ? json(t.flows) : json(nullptr)}}},
                 {"devices", devices},
                 {"events", latest}};
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    std::cout << header_text(view, t) << "\n\n";
    std::vector<std::string> headers;
    std::vector<bool> numeric;
    for (const auto& c : columns()) {
        headers.push_back(c.header);
        numeric.push_back(c.numeric);
    }
    Table table(headers, numeric);
    for (const auto& d : view.devices) {
        std::vector<std::string> row;
        for (const auto& c : columns()) row.push_back(c.cell(d));
        table.add(std::move(row));
    }
    if (table.empty())
        std::cout << "no devices seen yet\n";
    else
        table.print(std::cout);
    std::cout << "\n" << totals_text(view, t) << "\n";
    const auto& latest = events.events();
    if (latest.empty()) {
        std::cout << "no findings, quarantines or blocklist hits yet\n";
    } else {
        std::cout << "latest:\n";
        size_t from = latest.size() > 5 ? latest.size() - 5 : 0;
        for (size_t i = latest.size(); i-- > from;) std::cout << "  " << event_text(latest[i], view.devices) << "\n";
    }
    return 0;
}

// ---- the live screen ----

volatile std::sig_atomic_t stop_signal = 0;

void on_stop_signal(int sig) { stop_signal = sig; }

// A string cut to `width` columns (one per UTF-8 character), '~' marking the cut.
std::string fit(const std::string& s, size_t width) {
    std::vector<size_t> starts;  // where each character begins
    for (size_t i = 0; i < s.size(); ++i)
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
    if (starts.size() <= width) return s;
    if (width == 0) return "";
    return s.substr(0, starts[width - 1]) + "~";
}

size_t text_width(const std::string& s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

std::string pad(const std::string& s, size_t width, bool right) {
    std::string cut = fit(s, width);
    size_t w = text_width(cut);
    std::string fill(width > w ? width - w : 0, ' ');
    return right ? fill + cut : cut + fill;
}

// The columns that fit `width`, with their widths: the least important go first, then the
// name column takes what is left (up to kNameMaxWidth).
std::vector<std::pair<size_t, size_t>> layout(size_t width) {
    const auto& all = columns();
    std::vector<size_t> shown;
    for (size_t i = 0; i < all.size(); ++i) shown.push_back(i);
    auto needed = [&] {
        size_t n = 0;
        for (size_t i : shown) n += all[i].width;
        return n + (shown.empty() ? 0 : shown.size() - 1);
    };
    while (needed() > width) {
        auto worst = std::max_element(shown.begin(), shown.end(),
                                      [&](size_t a, size_t b) { return all[a].drop_rank < all[b].drop_rank; });
        if (worst == shown.end() || all[*worst].drop_rank == 0) break;  // the rest is clipped at the edge
        shown.erase(worst);
    }
    size_t spare = width > needed() ? width - needed() : 0;
    std::vector<std::pair<size_t, size_t>> out;
    for (size_t i : shown) {
        size_t w = all[i].width;
        if (i == kNameColumn) w = std::min(kNameMaxWidth, w + spare);
        out.emplace_back(i, w);
    }
    return out;
}

enum Colour : short { kHeader = 1, kOk, kAlerting, kRestricted, kIsolated, kDim };

short state_colour(const std::string& state) {
    if (state == "isolated") return kIsolated;
    if (state == "restricted") return kRestricted;
    if (state == "alerting") return kAlerting;
    if (state == "ok" || state == "ok (expiring)") return kOk;
    return kDim;
}

short event_colour(const json& e) {
    std::string kind = event_kind(e);
    if (kind == "finding") return kAlerting;
    if (kind == "quarantine") return kIsolated;
    if (kind == "release") return kOk;
    return kRestricted;  // blocklist hits
}

// ncurses for the lifetime of the view; the terminal is given back however the view ends.
class Screen {
public:
    Screen() {
        std::setlocale(LC_ALL, "");  // UTF-8 names draw as characters, not bytes
        if (!initscr()) throw std::runtime_error("cannot start the terminal screen (is TERM set?)");
        cbreak();  // keys arrive one by one; Ctrl-C still raises SIGINT
        noecho();
        keypad(stdscr, TRUE);
        curs_set(0);
        set_escdelay(25);
        colours_ = has_colors();
        if (colours_) {
            start_color();
            use_default_colors();
            init_pair(kHeader, COLOR_BLACK, COLOR_CYAN);
            init_pair(kOk, COLOR_GREEN, -1);
            init_pair(kAlerting, COLOR_YELLOW, -1);
            init_pair(kRestricted, COLOR_MAGENTA, -1);
            init_pair(kIsolated, COLOR_RED, -1);
            init_pair(kDim, COLOR_BLUE, -1);
        }
    }
    ~Screen() { endwin(); }
    Screen(const Screen&) = delete;
    Screen& operator=(const Screen&) = delete;

    attr_t colour(short pair) const { return colours_ ? COLOR_PAIR(pair) : A_NORMAL; }
    bool has_colour() const { return colours_; }

private:
    bool colours_ = false;
};

struct ViewState {
    SortKey sort = SortKey::up;
    size_t scroll = 0;  // first device row shown
};

void put(int y, int x, const std::string& s, attr_t attr, int width) {
    if (width <= 0) return;
    attron(attr);
    mvaddnstr(y, x, fit(s, static_cast<size_t>(width)).c_str(), -1);
    attroff(attr);
}

void draw(const Screen& screen, const NetworkView& view, const RecentEvents& events, const std::string& error,
          ViewState& vs) {
    erase();
    int height = LINES, width = COLS;
    if (height < 6 || width < 20) {
        put(0, 0, "warden top: the terminal is too small", A_BOLD, width);
        refresh();
        return;
    }
    Totals t = totals_of(view);

    // Header: the controller, the device count, total rates, the time.
    attr_t header_attr = screen.colour(kHeader) | (screen.has_colour() ? A_NORMAL : A_REVERSE);
    attron(header_attr);
    mvhline(0, 0, ' ', width);
    attroff(header_attr);
    std::string head = error.empty() ? header_text(view, t) : "warden top: " + error;
    std::string now = clock_text(store::now_unix_ms());
    bool clock_fits = text_width(head) + now.size() + 2 <= size_t(width);
    put(0, 0, head, header_attr, width);
    if (clock_fits) put(0, width - int(now.size()), now, header_attr, int(now.size()));

    // Footer: totals and keys, then the latest findings and events (newest first).
    int event_lines = std::clamp(height - 9, 1, 3);
    int footer_top = height - 1 - event_lines;
    std::string total = totals_text(view, t);
    std::string keys = std::string("sort: ") + sort_word(vs.sort);
    if (text_width(total) + keys.size() + 30 <= size_t(width)) keys += " | keys: u d n f s, q quits";
    put(footer_top, 0, total, A_BOLD, width);
    put(footer_top, std::max(0, width - int(keys.size())), keys, A_NORMAL, int(keys.size()));
    const auto& latest = events.events();
    if (latest.empty()) {
        put(footer_top + 1, 0, "no findings, quarantines or blocklist hits yet", screen.colour(kDim), width);
    } else {
        int y = footer_top + 1;
        for (size_t i = latest.size(); i-- > 0 && y < height;)
            put(y++, 0, event_text(latest[i], view.devices), screen.colour(event_colour(latest[i])), width);
    }

    // The devices between them, under a line of column headers.
    auto cols = layout(size_t(width));
    auto draw_row = [&](int y, const std::function<std::string(const Column&)>& text,
                        const std::function<attr_t(const Column&)>& attr) {
        int x = 0;
        for (auto [i, w] : cols) {
            const Column& c = columns()[i];
            if (x < width) put(y, x, pad(text(c), w, c.numeric), attr(c), width - x);
            x += int(w) + 1;
        }
    };
    draw_row(
        1, [](const Column& c) { return std::string(c.header); },
        [&](const Column& c) { return A_BOLD | (c.sorted_by == vs.sort ? A_REVERSE : A_UNDERLINE); });
    int rows = footer_top - 2;
    size_t n = view.devices.size();
    if (n == 0) {
        put(2, 0, view.maps_pinned ? "no devices seen yet" : "start warden (`warden run`, or systemctl start warden)",
            screen.colour(kDim), width);
    } else {
        size_t visible = size_t(rows);
        size_t last_top = n > visible ? n - visible + 1 : 0;  // room for the "more" line
        vs.scroll = std::min(vs.scroll, last_top);
        size_t shown = n - vs.scroll > visible ? visible - 1 : n - vs.scroll;
        for (size_t k = 0; k < shown; ++k) {
            const DeviceView& d = view.devices[vs.scroll + k];
            draw_row(
                2 + int(k), [&](const Column& c) { return c.cell(d); },
                [&](const Column& c) { return c.state ? screen.colour(state_colour(d.state)) | A_BOLD : A_NORMAL; });
        }
        if (vs.scroll + shown < n || vs.scroll > 0) {
            std::string more = std::to_string(vs.scroll) + " above, " + std::to_string(n - vs.scroll - shown) +
                               " below (arrows, PgUp/PgDn scroll)";
            put(2 + int(shown), 0, more, screen.colour(kDim), width);
        }
    }
    refresh();
}

int run_screen(Context& ctx, SortKey sort, std::chrono::milliseconds interval) {
    // Our handlers before initscr: ncurses leaves a handler it did not install alone, and the
    // loop below then leaves through ~Screen, which gives the terminal back.
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a signal wakes the key wait at once
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);

    RecentEvents events(store::StateDir(ctx.state_dir()).events_file());
    NetworkView view;
    std::string error;
    ViewState vs;
    vs.sort = sort;
    auto reload = [&] {
        try {
            events.update();
            view = look(ctx, &events, /*require_pins=*/false);
            sort_devices(view.devices, vs.sort);
            error.clear();
        } catch (const std::exception& e) {
            error = e.what();
        }
    };

    Screen screen;
    using clock = std::chrono::steady_clock;
    reload();
    auto next = clock::now() + interval;
    draw(screen, view, events, error, vs);
    while (!stop_signal) {
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock::now()).count();
        timeout(int(std::max<int64_t>(wait, 0)));
        int key = getch();
        if (stop_signal) break;
        if (key == ERR) {
            if (clock::now() >= next) {
                reload();
                next = clock::now() + interval;
            }
        } else if (key == 'q' || key == 'Q') {
            break;
        } else if (key == 'r' || key == ' ') {
            reload();
            next = clock::now() + interval;
        } else if (key == KEY_UP) {
            vs.scroll = vs.scroll ? vs.scroll - 1 : 0;
        } else if (key == KEY_DOWN) {
            ++vs.scroll;
        } else if (key == KEY_PPAGE) {
            vs.scroll -= std::min(vs.scroll, size_t(std::max(LINES - 8, 1)));
        } else if (key == KEY_NPAGE) {
            vs.scroll += size_t(std::max(LINES - 8, 1));
        } else if (key == KEY_HOME) {
            vs.scroll = 0;
        } else {
            for (const auto& s : kSorts)
                if (key == s.letter || key == std::toupper(s.letter)) {
                    vs.sort = s.key;
                    sort_devices(view.devices, vs.sort);
                }
        }
        draw(screen, view, events, error, vs);  // KEY_RESIZE lands here too: LINES and COLS are new
    }
    return 0;
}

}  // namespace

int cmd_top(Context& ctx) {
    double seconds = ctx.vm["interval"].as<double>();
    if (!(seconds >= 0.1 && seconds <= 3600)) throw UsageError("--interval must be from 0.1 to 3600 (seconds)");
    std::string word = ctx.vm["sort"].as<std::string>();
    const SortChoice* sort = nullptr;
    for (const auto& s : kSorts)
        if (word == s.word) sort = &s;
    if (!sort) throw UsageError("--sort must be up, down, name, flows or state");

    bool plain = ctx.json || ctx.vm.count("once") || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO);
    if (plain) return print_snapshot(ctx, sort->key);
    return run_screen(ctx, sort->key, std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
}

}  // namespace warden::cli
