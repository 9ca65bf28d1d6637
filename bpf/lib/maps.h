/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every map warden's programs share. Each object declares all of them; the loader creates
 * them once (or opens the pins) and hands the same fds to every object, so the three
 * programs and the CLI see one set of maps. max_entries here are only defaults: the loader
 * sizes maps from the policy before load.
 */
#ifndef WARDEN_BPF_MAPS_H
#define WARDEN_BPF_MAPS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, WD_DEFAULT_DEVICES);
	__type(key, struct wd_device_key);
	__type(value, struct wd_device_stats);
} wd_devices SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WD_DEFAULT_FLOWS);
	__type(key, struct wd_flow_key);
	__type(value, struct wd_flow_stats);
} wd_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, WD_DEFAULT_QUARANTINE);
	__type(key, struct wd_device_key);
	__type(value, struct wd_quarantine);
} wd_quarantine SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, WD_DEFAULT_BLOCKLIST);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct wd_lpm_v4_key);
	__type(value, struct wd_block_value);
} wd_block_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, WD_DEFAULT_BLOCKLIST);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct wd_lpm_v6_key);
	__type(value, struct wd_block_value);
} wd_block_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} wd_block_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wd_gateway);
} wd_gateway SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WD_DEFAULT_DEVICES * 2);
	__type(key, struct wd_evlimit_key);
	__type(value, __u64);
} wd_evlimit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, WD_DEFAULT_EVENTS_BYTES);
} wd_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WD_STATS_SLOTS);
	__type(key, __u32);
	__type(value, struct wd_prog_stats);
} wd_stats SEC(".maps");

#endif
