// The state directory's contract, as include/warden/abi.h is the kernel's: every file warden
// keeps in <state dir>, its format, who writes it and how. No file name of the state dir is
// spelled anywhere else; code asks StateDir::path_of(layout::X). docs/ARCHITECTURE.md lists the
// same table (a unit test keeps the two in step).
#pragma once

#include <array>
#include <string_view>

namespace warden::store::layout {

struct File {
    std::string_view name;     // relative to the state dir
    std::string_view format;   // what is in it
    std::string_view writer;   // who writes it, and how
};

// Durable state: written atomically (temp file, fsync, rename, fsync of the directory).
inline constexpr File quarantine{"quarantine.jsonl",
                                 "JSON lines: a header, then one quarantine record a line",
                                 "the control core, before the kernel map changes (atomic, durable)"};
inline constexpr File blocklist{"blocklist.txt", "the operator's blocked prefixes: \"PREFIX DIRECTION\" a line",
                                "the control core, before the kernel tries change (atomic, durable)"};
inline constexpr File inventory{"inventory.jsonl",
                                "JSON lines: a header, then one device a line (identity included)",
                                "warden run: new devices at once, the rest at most every minute (atomic, durable)"};
inline constexpr File engine{"engine.json", "what the behaviour engine learned (baselines, known peers)",
                             "warden run: every minute, at stop and after a correction (atomic, durable)"};
inline constexpr File events{"events.jsonl", "JSON lines: one event a line, rotated by size to events.jsonl.N",
                             "every writer appends whole lines (O_APPEND)"};
inline constexpr File admin_token{"admin-token", "64 hex digits: the status page's admin token (mode 0600)",
                                  "warden run, once, when the page is first enabled"};
inline constexpr File notify_queue{"notify-queue.jsonl",
                                   "JSON lines: messages a notification channel has not taken yet (bounded by "
                                   "notify.queue_size)",
                                   "warden run's notifier, when its queue changes (atomic, durable)"};
inline constexpr File pending{"requests",
                              "a directory: one JSON request a file, for the behaviour engine while warden is down",
                              "the control core when no controller runs; warden run applies and deletes them at start"};
inline constexpr File fleet_queue{"fleet-queue.jsonl",
                                  "JSON lines: a header, then one message for the operator's broker a line, oldest first",
                                  "warden run's fleet channel: at once for quarantines, releases and acks, else at most "
                                  "every 5 s (atomic, durable)"};
inline constexpr File fleet_commands{"fleet-commands.jsonl",
                                     "JSON lines: a header, then the outcome of each of the last 1,000 operator commands",
                                     "warden run's fleet channel: before and after each command (atomic, durable)"};
inline constexpr File detector_settings{"detectors.json",
                                        "the operator's adjustments of the detector settings, over the policy's",
                                        "the control core, before the engine takes them (atomic, durable)"};

// Caches: rewritten often, not fsynced; losing one costs nothing that matters.
inline constexpr File status{"status.json", "the latest poll: health, attachments, busy devices' rates",
                             "warden run, every poll (atomic, not durable)"};
inline constexpr File names{"names.json", "the names each device looked its peers up as",
                            "warden run, every 5 s (atomic, not durable)"};
inline constexpr File today{"today.json", "today's traffic per device, for the status page",
                            "warden run, every minute (atomic, not durable)"};

// Coordination.
inline constexpr File pid{"warden.pid",
                          "who owns the durable files now (\"PID controller\" or \"PID cli\"), held under flock",
                          "warden run for its life; a CLI command for its moment when no controller runs"};
inline constexpr File control_socket{"control.sock",
                                     "a Unix socket: the running controller's control core (root only)",
                                     "warden run, while it runs"};

inline constexpr std::array all = {quarantine,   blocklist,   inventory,      engine,            events,
                                   admin_token,  notify_queue, pending,       fleet_queue,       fleet_commands,
                                   detector_settings, status, names,          today,             pid,
                                   control_socket};

}  // namespace warden::store::layout
