#include "socketio/recovery.hpp"

#include "util/ids.hpp"

namespace bandsync::socketio {
namespace {

// yeast's alphabet (socket.io-adapter/lib/contrib/yeast.ts).
constexpr std::string_view alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
constexpr size_t tag_length = 4;
constexpr size_t max_seq_digits = 10;  // 64^10 = 2^60 packets

int digit_value(char c) {
  auto i = alphabet.find(c);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

}  // namespace

packet_log::packet_log() : tag_(util::random_id(tag_length) + ".") {}

std::string packet_log::offset_text(uint64_t seq) const {
  char digits[16];
  size_t n = 0;
  do {
    digits[n++] = alphabet[seq % 64];
    seq /= 64;
  } while (seq > 0);
  std::string out = tag_;
  while (n > 0) out += digits[--n];
  return out;
}

std::optional<uint64_t> packet_log::parse_offset(std::string_view text) const {
  if (text.size() <= tag_.size() || text.substr(0, tag_.size()) != tag_) return std::nullopt;
  text.remove_prefix(tag_.size());
  if (text.size() > max_seq_digits) return std::nullopt;
  uint64_t seq = 0;
  for (char c : text) {
    int d = digit_value(c);
    if (d < 0) return std::nullopt;
    seq = seq * 64 + static_cast<uint64_t>(d);
  }
  if (seq == 0 || seq >= next_seq_) return std::nullopt;  // never handed out
  return seq;
}

stored_packet& packet_log::append(encoded_packet p, std::chrono::steady_clock::time_point now) {
  auto& e = entries_.emplace_back();
  e.seq = next_seq_++;
  e.at = now;
  for (const auto& f : p.frames) e.bytes += f.size();
  e.packet = std::move(p);
  bytes_ += e.bytes;
  return e;
}

const stored_packet* packet_log::find(uint64_t seq) const {
  if (seq < first_seq() || seq >= next_seq_) return nullptr;
  const auto& e = entries_[seq - first_seq()];
  return e.released ? nullptr : &e;
}

stored_packet* packet_log::entry(uint64_t seq) {
  if (seq < first_seq() || seq >= next_seq_) return nullptr;
  return &entries_[seq - first_seq()];
}

void packet_log::release(stored_packet& e) {
  // The entry stays (sequence numbers index the deque) without its frames.
  e.released = true;
  e.packet = {};
  bytes_ -= e.bytes;
  e.bytes = 0;
  ++released_;
}

void packet_log::hold(uint64_t seq) {
  if (auto* e = entry(seq); e && !e->released) ++e->unconfirmed;
}

void packet_log::confirm(uint64_t seq) {
  auto* e = entry(seq);
  if (!e || e->released || e->unconfirmed == 0) return;
  // While its broadcast runs, a recipient that closes (a send can close a
  // session) must not release it before the next ones are sent it.
  if (--e->unconfirmed == 0 && !e->sending) release(*e);
}

void packet_log::sent(uint64_t seq) {
  auto* e = entry(seq);
  if (!e || e->released) return;
  e->sending = false;
  if (e->unconfirmed == 0) release(*e);
}

void packet_log::add_bytes(uint64_t seq, size_t n) {
  if (seq < first_seq() || seq >= next_seq_) return;
  entries_[seq - first_seq()].bytes += n;
  bytes_ += n;
}

void packet_log::prune(size_t max_packets, size_t max_bytes,
                       std::chrono::steady_clock::time_point cutoff) {
  while (!entries_.empty() &&
         (entries_.size() > max_packets || bytes_ > max_bytes || entries_.front().at < cutoff)) {
    bytes_ -= entries_.front().bytes;
    entries_.pop_front();
  }
}

void delivered_list::trim(uint64_t first) {
  while (size() > 0 && seqs_[head_] < first) pop_front();
}

uint64_t delivered_list::pop_front() {
  uint64_t seq = seqs_[head_++];
  forgotten_ = seq;
  if (head_ == seqs_.size()) {
    // Emptied: give the memory back, an idle socket keeps nothing.
    seqs_ = {};
    head_ = 0;
  } else if (head_ >= 16 && head_ * 2 >= seqs_.size()) {
    seqs_.erase(seqs_.begin(), seqs_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  return seq;
}

void delivered_list::clear() {
  seqs_ = {};
  head_ = 0;
  forgotten_ = 0;
}

}  // namespace bandsync::socketio
