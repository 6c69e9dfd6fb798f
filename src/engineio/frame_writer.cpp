#include "engineio/frame_writer.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bandsync::engineio {

size_t encode_ws_header(bool binary, size_t payload, uint8_t* out) {
  out[0] = 0x80 | (binary ? 0x2 : 0x1);  // FIN + opcode
  if (payload <= 125) {
    out[1] = static_cast<uint8_t>(payload);
    return 2;
  }
  if (payload <= 0xffff) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(payload >> 8);
    out[3] = static_cast<uint8_t>(payload);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(uint64_t(payload) >> (56 - 8 * i));
  return 10;
}

namespace {

template <class Send>
ssize_t retry_eintr(Send send) {
  ssize_t sent;
  do sent = send();
  while (sent < 0 && errno == EINTR);
  return sent;
}

// The header of `f`: a data frame's, or the WebSocket's own control frame
// (pong, close) with its opcode. Returns its length.
size_t frame_header(const frame& f, uint8_t* out) {
  size_t h = encode_ws_header(f.binary, f.size(), out);
  if (f.control) out[0] = static_cast<uint8_t>(0x80 | f.control);  // FIN + opcode
  return h;
}

// A failed non-blocking write: a full socket (wait for writability) or a
// broken connection (errno kept).
bool failed(ssize_t sent, frame_writer::result& r) {
  if (sent >= 0) return false;
  if (errno == EAGAIN || errno == EWOULDBLOCK)
    r.would_block = true;
  else
    r.error = errno;
  return true;
}

}  // namespace

frame_writer::result frame_writer::write(int fd, std::span<const frame* const> frames) {
  result r;
  size_t n = std::min(frames.size(), max_batch);
  if (n == 0) return r;
  if (n == 1 && offset_ == 0 && frames[0]->size() <= small_frame)
    return write_small(fd, *frames[0]);
  uint8_t headers[max_batch][ws_max_header];
  iovec iov[2 * max_batch];
  size_t lens[max_batch];  // whole frame length, header included
  size_t iovcnt = 0;
  size_t offered = 0;
  for (size_t i = 0; i < n; ++i) {
    const frame& f = *frames[i];
    size_t payload = f.size();
    size_t h = frame_header(f, headers[i]);
    lens[i] = h + payload;
    size_t skip = i == 0 ? offset_ : 0;  // the part of the first frame already sent
    if (skip < h) {
      iov[iovcnt++] = {headers[i] + skip, h - skip};
      skip = 0;
    } else {
      skip -= h;
    }
    if (payload > skip) iov[iovcnt++] = {const_cast<char*>(f.data->data()) + skip, payload - skip};
    offered += lens[i] - (i == 0 ? offset_ : 0);
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = iovcnt;
  ssize_t sent = retry_eintr([&] { return ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT); });
  if (failed(sent, r)) return r;
  size_t done = static_cast<size_t>(sent) + offset_;
  offset_ = 0;
  for (size_t i = 0; i < n; ++i) {
    if (done < lens[i]) {
      offset_ = done;
      break;
    }
    done -= lens[i];
    ++r.frames_done;
  }
  // Less than offered: the send buffer is full (a socket that took a whole
  // gather may still take more, so only a short write means "wait").
  r.would_block = static_cast<size_t>(sent) < offered;
  return r;
}

// One short frame (a tick, a reply) as one contiguous send(): header and
// payload copied next to each other, which costs less than the kernel's
// import of a two-entry iovec (sendmsg's copy_msghdr and iov checks).
frame_writer::result frame_writer::write_small(int fd, const frame& f) {
  result r;
  uint8_t buf[ws_max_header + small_frame];
  size_t payload = f.size();
  size_t h = frame_header(f, buf);
  if (payload > 0) std::memcpy(buf + h, f.data->data(), payload);
  ssize_t sent =
      retry_eintr([&] { return ::send(fd, buf, h + payload, MSG_NOSIGNAL | MSG_DONTWAIT); });
  if (failed(sent, r)) return r;
  if (static_cast<size_t>(sent) == h + payload) {
    r.frames_done = 1;
  } else {
    offset_ = static_cast<size_t>(sent);
    r.would_block = true;
  }
  return r;
}

}  // namespace bandsync::engineio
