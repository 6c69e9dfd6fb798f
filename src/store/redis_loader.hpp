#pragma once
// The start-up read of every `session:<id>` key (EVENTS.md "Redis layout").
//
// It runs once, before the listener accepts, on a short-lived blocking hiredis
// connection with timeouts (connect: connection.connect_timeout, each command
// and the whole load: load_timeout). Blocking is acceptable there and only
// there: nothing else is being served yet, and it keeps the start-up path
// independent of the event loop. Keys are iterated with SCAN (never KEYS, which
// blocks Redis) and fetched with MGET, a page at a time.

#include <cstddef>
#include <string>
#include <vector>

#include "store/redis_options.hpp"
#include "store/session_record.hpp"

namespace bandsync::store {

struct load_result {
  std::vector<session_record> sessions;  // at most max_load_sessions
  size_t unreadable = 0;                 // values that are not a session in the layout
  size_t unreadable_setlists = 0;        // `setlist:<id>` values that are not a setlist
  std::string error;                     // non-empty when Redis could not be read (fully)
};

// Reads the sessions as the old server or BandSync wrote them (any key order,
// members as [socketId, member] pairs), each with the songs of its
// `setlist:<id>` key (read with one MGET per SCAN page). Keys that vanish between SCAN and MGET
// or hold another type are skipped silently; unparsable values are counted in
// `unreadable`. On a connection or command failure, returns what was read so
// far with `error` set.
load_result load_sessions_blocking(const redis_store_options& options);

}  // namespace bandsync::store
