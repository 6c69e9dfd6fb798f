#include "engineio/frame_writer.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace bandsync::engineio;

namespace {

std::vector<uint8_t> header(bool binary, size_t n) {
  uint8_t out[ws_max_header];
  size_t len = encode_ws_header(binary, n, out);
  return {out, out + len};
}

// A connected loopback TCP pair: sv[0] the writer, sv[1] the reader.
bool tcp_pair(int sv[2]) {
  int lst = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(lst, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lst, 1) != 0 ||
      ::getsockname(lst, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return false;
  sv[0] = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(sv[0], reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
  sv[1] = ::accept(lst, nullptr, nullptr);
  ::close(lst);
  return sv[1] >= 0;
}

frame text(std::string s) {
  return frame{false, std::make_shared<const std::string>(std::move(s))};
}

// Decodes a stream of unmasked server frames: (binary, payload) pairs;
// fails the test on a malformed or truncated stream.
std::vector<std::pair<bool, std::string>> decode_frames(const std::string& s) {
  std::vector<std::pair<bool, std::string>> out;
  size_t i = 0;
  while (i < s.size()) {
    EXPECT_GE(s.size() - i, 2u);
    auto b0 = static_cast<uint8_t>(s[i]), b1 = static_cast<uint8_t>(s[i + 1]);
    EXPECT_EQ(b0 & 0xf0, 0x80);  // FIN, no RSV bits
    EXPECT_EQ(b1 & 0x80, 0);     // unmasked
    uint64_t len = b1 & 0x7f;
    i += 2;
    size_t ext = len == 126 ? 2 : len == 127 ? 8 : 0;
    if (ext) {
      len = 0;
      for (size_t k = 0; k < ext; ++k) len = len << 8 | static_cast<uint8_t>(s[i + k]);
      i += ext;
    }
    if (s.size() - i < len) {
      ADD_FAILURE() << "truncated frame";
      break;
    }
    out.emplace_back((b0 & 0x0f) == 0x2, s.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace

TEST(WsHeader, LengthEncodings) {
  EXPECT_EQ(header(false, 0), (std::vector<uint8_t>{0x81, 0}));
  EXPECT_EQ(header(false, 125), (std::vector<uint8_t>{0x81, 125}));
  EXPECT_EQ(header(true, 5), (std::vector<uint8_t>{0x82, 5}));
  EXPECT_EQ(header(false, 126), (std::vector<uint8_t>{0x81, 126, 0, 126}));
  EXPECT_EQ(header(false, 65535), (std::vector<uint8_t>{0x81, 126, 0xff, 0xff}));
  EXPECT_EQ(header(true, 65536), (std::vector<uint8_t>{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(header(false, 0x0102030405ull),
            (std::vector<uint8_t>{0x81, 127, 0, 0, 0, 1, 2, 3, 4, 5}));
}

TEST(FrameWriter, GathersFramesIntoOneWrite) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  frame a = text("42[\"tick\",1]"),
        b = frame{true, std::make_shared<const std::string>("\x01\x02")};
  const frame* batch[] = {&a, &b};
  frame_writer w;
  auto r = w.write(sv[0], batch);
  EXPECT_EQ(r.frames_done, 2u);
  EXPECT_FALSE(r.would_block);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(w.offset(), 0u);
  char buf[64];
  ssize_t n = ::recv(sv[1], buf, sizeof buf, 0);
  ASSERT_EQ(n, 2 + 12 + 2 + 2);  // both frames arrived in one read: one write
  auto frames = decode_frames(std::string(buf, static_cast<size_t>(n)));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], (std::pair<bool, std::string>{false, "42[\"tick\",1]"}));
  EXPECT_EQ(frames[1], (std::pair<bool, std::string>{true, "\x01\x02"}));
  ::close(sv[0]);
  ::close(sv[1]);
}

namespace {

// Writes every frame of `frames` (at most `batch` per write, continuing the
// head after a partial write) into a peer that reads slowly: a few hundred
// bytes each time the writer would block. Then checks that the peer got them
// all, whole and in order, and that the writer stopped often enough, inside
// frames too, for the test to mean something.
void write_through_slow_reader(int sv[2], const std::vector<frame>& frames, size_t batch,
                               size_t read_min, size_t read_spread) {
  int small = 4096;
  ASSERT_EQ(::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  ASSERT_EQ(::setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  ASSERT_EQ(::fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
  frame_writer w;
  std::string received;
  size_t next = 0, partial_stops = 0, blocked = 0;
  char buf[8192];
  while (next < frames.size()) {
    std::vector<const frame*> head;
    for (size_t i = next; i < frames.size() && head.size() < batch; ++i) head.push_back(&frames[i]);
    auto r = w.write(sv[0], head);
    ASSERT_EQ(r.error, 0);
    next += r.frames_done;
    if (w.offset() > 0) ++partial_stops;
    if (r.would_block) {
      ++blocked;
      // The reader takes a little: the writer must continue where it stopped.
      ssize_t n = ::recv(sv[1], buf, read_min + (blocked * 7) % read_spread, 0);
      if (n > 0) received.append(buf, static_cast<size_t>(n));
    }
  }
  EXPECT_EQ(w.offset(), 0u);
  EXPECT_GT(blocked, 10u);
  EXPECT_GT(partial_stops, 10u);
  ::shutdown(sv[0], SHUT_WR);
  ASSERT_EQ(::fcntl(sv[1], F_SETFL, 0), 0);
  for (ssize_t n; (n = ::recv(sv[1], buf, sizeof buf, 0)) > 0;)
    received.append(buf, static_cast<size_t>(n));

  auto decoded = decode_frames(received);
  ASSERT_EQ(decoded.size(), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(decoded[i].first, frames[i].binary) << i;
    EXPECT_EQ(decoded[i].second, *frames[i].data) << i;
  }
  ::close(sv[0]);
  ::close(sv[1]);
}

}  // namespace

// A peer that reads slowly: the writer's send buffer fills, writes stop in
// the middle of a frame (and of its header), and continue from the offset.
TEST(FrameWriter, PartialWritesContinueFromTheOffset) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  std::vector<frame> frames;
  for (size_t i = 0; i < 300; ++i) {
    size_t len = i % 3 == 0 ? 100 : i % 3 == 1 ? 3000 + i : 70000 + i;  // all three header sizes
    frames.push_back(frame{i % 5 == 0, std::make_shared<const std::string>(
                                           std::string(len, static_cast<char>('a' + i % 26)))});
  }
  write_through_slow_reader(sv, frames, frame_writer::max_batch, 1000, 5000);
}

// Short frames written one at a time (a tick per turn: write_small's one
// contiguous send) into a slow reader: a write that stops inside a frame
// leaves the offset, and the next write (now through the gather path, the
// same frame at the head) continues from it.
// Over loopback TCP: a Unix socket takes a short send whole or not at all.
TEST(FrameWriter, ShortFramesAloneStopAndContinueMidFrame) {
  int sv[2];
  ASSERT_TRUE(tcp_pair(sv));
  std::vector<frame> frames;
  for (size_t i = 0; i < 2000; ++i)  // 0..512 bytes: 2- and 4-byte headers, empty payloads
    frames.push_back(frame{i % 7 == 0, std::make_shared<const std::string>(std::string(
                                           (i * 37) % 513, static_cast<char>('a' + i % 26)))});
  write_through_slow_reader(sv, frames, 1, 100, 900);
}

TEST(FrameWriter, BrokenConnectionIsAnError) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ::close(sv[1]);
  frame a = text("3");
  const frame* batch[] = {&a};
  frame_writer w;
  auto r = w.write(sv[0], batch);  // no SIGPIPE: MSG_NOSIGNAL
  EXPECT_EQ(r.error, EPIPE);
  EXPECT_EQ(r.frames_done, 0u);
  ::close(sv[0]);
}

// The WebSocket's own frames (ws_connection: pong, close) carry their control
// opcode, alone (a lone short frame: any single-frame fast path must keep it)
// and in a batch with data frames.
TEST(FrameWriter, ControlFramesKeepTheirOpcode) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  frame pong(false, std::make_shared<const std::string>("hi"));
  pong.control = 0xA;
  frame close(false, std::make_shared<const std::string>("\x03\xe8"));
  close.control = 0x8;
  frame data = text("42[\"tick\",1]");
  frame_writer w;
  const frame* alone[] = {&pong};
  EXPECT_EQ(w.write(sv[0], alone).frames_done, 1u);
  const frame* batch[] = {&pong, &data, &close};
  EXPECT_EQ(w.write(sv[0], batch).frames_done, 3u);
  const std::string want = std::string("\x8a\x02hi", 4) + "\x8a\x02hi" + "\x81\x0c" +
                           "42[\"tick\",1]" + std::string("\x88\x02\x03\xe8", 4);
  char buf[64];
  ssize_t n = ::recv(sv[1], buf, want.size(), MSG_WAITALL);
  ASSERT_EQ(n, static_cast<ssize_t>(want.size()));
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), want);
  ::close(sv[0]);
  ::close(sv[1]);
}
