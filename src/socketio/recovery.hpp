#pragma once
// Connection state recovery (socket.io 4.6+ "connectionStateRecovery"), the
// storage half: the packets a namespace stored for replay, and the list of
// those a socket was sent.
//
// Wire (as socket.io): every stored EVENT carries its offset as its last
// argument; a client that lost its connection sends CONNECT with
// {pid, offset} and gets, before the CONNECT answer, every stored packet it
// was sent after that offset. docs/PROTOCOL.md "Connection state recovery".
//
// Memory: a namespace keeps each stored packet once (the frames a broadcast
// already shares) with a sequence number; a socket keeps only the sequence
// numbers of the stored packets it was sent (8 bytes each), allocated with the
// first one. An idle socket that was sent nothing stored costs nothing here.
//
// A stored packet is needed only by recipients that might not have it. An
// Engine.IO pong proves that its client read everything queued before the
// ping it answers (one transport queue, in order, one ping outstanding), so a
// pong confirms the packets sent to each of the connection's sockets before
// that ping: they leave the socket's list, and a packet every recipient
// confirmed (or forgot, by closing) drops its frames at once instead of at
// the end of the window. Otherwise the join burst of every device (its own
// `snapshot`, the `user_joined` it caused) would stay stored for the window.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/message.hpp"

namespace bandsync::socketio {

// Every bound has a defined action; see the README's bounds table.
struct recovery_options {
  // How long a lost socket is held for its client to come back, and how long
  // a stored packet is kept. 0 turns recovery off: no pid, no offsets.
  std::chrono::milliseconds window{120000};
  // Stored packets of one namespace, and their bytes (frames + 8 per
  // recipient). Over either, the oldest packets are dropped; a recovery that
  // needs one of them is refused (an ordinary new connection).
  size_t max_packets = 100000;
  size_t max_bytes = 64 * 1024 * 1024;
  // Stored packets remembered per socket: the oldest are forgotten (same
  // action). Bounds a socket's list to 8 bytes × this.
  size_t max_packets_per_socket = 1024;
  // After a stored packet is sent to a connected socket, its connection is
  // pinged within this (sooner than its next heartbeat ping, never while a
  // pong is awaited), so that the pong confirms the packet and frees it once
  // every recipient confirmed it. 0: only the regular heartbeat confirms.
  // 250 ms: a join burst is confirmed while the next devices join, so they
  // reuse its memory (1000 ms left +1.4 KiB per idle device, 250 ms +0.5).
  std::chrono::milliseconds confirm_delay{250};
  // A recovery whose replay would exceed this is refused: a replay must fit
  // in the Engine.IO outbound queue (engineio::options::max_buffered_bytes).
  size_t max_replay_bytes = 1024 * 1024;
  size_t max_replay_frames = 4096;
  // Held (lost, recoverable) sockets of one namespace; over it the one held
  // longest is released as if its window had passed.
  size_t max_held = 50000;
};

// A stored packet: its sequence number and the frames sent (offset included).
struct stored_packet {
  uint64_t seq = 0;
  std::chrono::steady_clock::time_point at;
  encoded_packet packet;
  size_t bytes = 0;  // frames + 8 per recipient
  // Recipients that may not have it yet (sent to, neither confirmed nor gone).
  uint32_t unconfirmed = 0;
  bool sending = true;    // its broadcast is still delivering it
  bool released = false;  // frames dropped: nobody can need it any more
};

// The stored packets of one namespace, oldest first. Sequence numbers start at
// 1 and have no gaps, so a packet is found by index.
class packet_log {
 public:
  packet_log();

  // The offset the next stored packet will carry (its last argument).
  std::string next_offset() const { return offset_text(next_seq_); }
  // Stores `p` (encoded with next_offset()) and returns it.
  stored_packet& append(encoded_packet p, std::chrono::steady_clock::time_point now);
  // Null when never stored, pruned, or released.
  const stored_packet* find(uint64_t seq) const;
  void add_bytes(uint64_t seq, size_t n);
  // A recipient may need `seq` until it confirms it (or goes).
  void hold(uint64_t seq);
  // A recipient has `seq` or no longer needs it; the last one releases it.
  void confirm(uint64_t seq);
  // Its broadcast ended: released now if no recipient needs it.
  void sent(uint64_t seq);
  // Released packets (frames dropped before the window ended), for tests and
  // figures.
  uint64_t released_count() const { return released_; }

  // The smallest sequence number still stored (next_seq() when empty).
  uint64_t first_seq() const { return next_seq_ - entries_.size(); }
  uint64_t next_seq() const { return next_seq_; }
  size_t size() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }
  bool empty() const { return entries_.empty(); }
  std::chrono::steady_clock::time_point oldest() const { return entries_.front().at; }

  // Drops the oldest packets while over a bound or older than `cutoff`.
  void prune(size_t max_packets, size_t max_bytes, std::chrono::steady_clock::time_point cutoff);

  // "<tag><seq>", the seq in yeast's 64-character alphabet (as socket.io's
  // offsets); the tag is random per log so that a string from elsewhere (an
  // app string in a volatile event's last argument, another process) is not
  // taken for one of ours. Returns the seq, or nullopt.
  std::optional<uint64_t> parse_offset(std::string_view text) const;
  std::string offset_text(uint64_t seq) const;

 private:
  std::string tag_;
  stored_packet* entry(uint64_t seq);
  void release(stored_packet& e);

  std::deque<stored_packet> entries_;
  uint64_t next_seq_ = 1;
  size_t bytes_ = 0;
  uint64_t released_ = 0;
};

// The sequence numbers of the stored packets one socket was sent, ascending.
// A vector with a moving head: nothing allocated until the first one.
class delivered_list {
 public:
  // Records `seq`; over `max`, the oldest is forgotten (`on_forget(seq)` for
  // each). Returns false when `max` is 0 (nothing is kept).
  template <class Fn>
  bool push(uint64_t seq, size_t max, Fn&& on_forget) {
    while (size() >= max && size() > 0) on_forget(pop_front());
    if (max == 0) {
      forgotten_ = seq;
      return false;
    }
    seqs_.push_back(seq);
    return true;
  }
  bool push(uint64_t seq, size_t max) {
    return push(seq, max, [](uint64_t) {});
  }
  // The newest number, 0 when empty.
  uint64_t back() const { return size() > 0 ? seqs_.back() : 0; }
  // Forgets the numbers up to `seq` (confirmed by the client), calling
  // `fn(seq)` for each.
  template <class Fn>
  void confirm_through(uint64_t seq, Fn&& fn) {
    while (size() > 0 && seqs_[head_] <= seq) fn(pop_front());
  }
  // Forgets the numbers below `first` (packets the log no longer has).
  void trim(uint64_t first);
  // The highest number forgotten (0: none): a recovery from an offset below
  // it would miss packets.
  uint64_t forgotten() const { return forgotten_; }
  size_t size() const { return seqs_.size() - head_; }
  void clear();

  template <class Fn>
  void for_each_after(uint64_t seq, Fn&& fn) const {
    for (size_t i = head_; i < seqs_.size(); ++i)
      if (seqs_[i] > seq) fn(seqs_[i]);
  }

 private:
  // Returns the number forgotten.
  uint64_t pop_front();

  std::vector<uint64_t> seqs_;
  size_t head_ = 0;
  uint64_t forgotten_ = 0;
};

}  // namespace bandsync::socketio
