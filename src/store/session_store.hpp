#pragma once
// Where the domain persists sessions (EVENTS.md "Redis layout"). The domain
// keeps its authoritative state in memory and writes every change through this
// interface; a store may be remote, slow or down, so every write is
// fire-and-forget: it must not block the caller on I/O, must not throw, and
// handles (logs, retries or drops) its own failures.

#include <string>
#include <vector>

#include "store/member_record.hpp"
#include "store/session_record.hpp"

namespace bandsync::store {

class session_store {
 public:
  virtual ~session_store() = default;

  // `session:<id>` := record (its members included), refreshing its expiry
  // and that of `setlist:<id>`. record.setlist is not written (save_setlist).
  virtual void save_session(const session_record& record) = 0;

  // `setlist:<id>` := { songs } with the session's expiry; an empty list
  // deletes the key. Called only when the songs change, never by the
  // position write-behind (docs/EVENTS.md "Persistence of setlists").
  virtual void save_setlist(const std::string& session_id,
                            const std::vector<song_record>& songs) = 0;

  // Deletes `session:<id>`, `interval:<id>` and `setlist:<id>`.
  virtual void remove_session(const std::string& session_id) = 0;

  // `member:<socketId>` := { sessionId, ...member }.
  virtual void save_member(const std::string& session_id, const member_record& member) = 0;

  // Deletes `member:<socketId>`.
  virtual void remove_member(const std::string& socket_id) = 0;

  // `interval:<id>` present while the session's scroll ticker runs.
  virtual void set_ticking(const std::string& session_id, bool ticking) = 0;

  // Every stored session, each with its `setlist:<id>` songs in
  // record.setlist (empty when the key is absent or unreadable), in no
  // particular order; called once at start-up,
  // before any write. May block (start-up only). A store that cannot read
  // returns what it could (possibly nothing) and then reports
  // load_complete() false until it has read the rest in the background.
  virtual std::vector<session_record> load_sessions() = 0;

  // False while stored sessions may exist that load_sessions() did not return:
  // the caller must then not create a session that might be stored (a blind
  // write would overwrite it) until the store hands over the rest.
  virtual bool load_complete() const { return true; }
};

}  // namespace bandsync::store
