#pragma once
// `bandsync bench rehearsal`: the old server's promise checked end to end
// with a small band. N devices (default 4) join one session in order; they
// probe latency; the leader plays; the tempo changes 20 times back to back;
// the leader's connection drops and the earliest joiner must take over
// (role_changed, snapshot, room_stats, user_left, in order) and be able to
// play. Each success criterion is printed as PASS or FAIL.

#include "bench/options.hpp"

namespace bandsync::bench {

// 0 only if every criterion passed; 1 otherwise; 2 for bad options.
int run_rehearsal(const common_options& common, const rehearsal_options& opts);

}  // namespace bandsync::bench
