#include "engineio/ws_reader.hpp"

#include <algorithm>
#include <cstring>

namespace bandsync::engineio {
namespace {

const uint8_t* bytes(const char* p) {
  return reinterpret_cast<const uint8_t*>(p);
}

// XORs `n` bytes with the masking key (§5.3), eight at a time.
void unmask(char* p, size_t n, const uint8_t key[4]) {
  const uint8_t twice[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
  uint64_t k;
  std::memcpy(&k, twice, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    w ^= k;
    std::memcpy(p + i, &w, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[i & 3]);
}

bool valid_utf8(std::string_view s) {
  utf8_checker u;
  return u.feed(s) && u.complete();
}

// A taken buffer gives its memory back: a big message once must not stay
// with the connection for its life (idle memory, issue 12).
void release(std::string& s) {
  std::string().swap(s);
}

}  // namespace

std::string_view to_string(ws_error e) {
  switch (e) {
    case ws_error::none:
      return "none";
    case ws_error::unmasked_frame:
      return "unmasked client frame";
    case ws_error::masked_frame:
      return "masked server frame";
    case ws_error::reserved_bits:
      return "reserved bits set";
    case ws_error::bad_opcode:
      return "unknown opcode";
    case ws_error::bad_length:
      return "malformed payload length";
    case ws_error::bad_control_frame:
      return "fragmented or long control frame";
    case ws_error::unexpected_continuation:
      return "continuation without a message";
    case ws_error::interleaved_data:
      return "data frame inside a fragmented message";
    case ws_error::bad_close_payload:
      return "malformed close frame";
    case ws_error::message_too_big:
      return "message too big";
    case ws_error::invalid_utf8:
      return "invalid UTF-8";
  }
  return "unknown";
}

uint16_t close_code(ws_error e) {
  switch (e) {
    case ws_error::message_too_big:
      return 1009;
    case ws_error::invalid_utf8:
      return 1007;
    default:
      return 1002;
  }
}

bool is_valid_close_code(uint16_t code) {
  // 1004 is reserved, 1005, 1006 and 1015 are never sent (§7.4.1); 1014
  // (bad gateway) is for proxies; 1016-2999 are unassigned or for extensions.
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1013) return true;
  return code >= 3000 && code <= 4999;
}

bool utf8_checker::feed(std::string_view s) {
  const uint8_t* p = bytes(s.data());
  const uint8_t* end = p + s.size();
  uint8_t need = need_, lo = lo_, hi = hi_;
  while (p < end) {
    if (need == 0) {
      // ASCII, eight bytes at a time: Engine.IO text is mostly that.
      while (end - p >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        if (w & 0x8080808080808080ull) break;
        p += 8;
      }
      if (p == end) break;
      uint8_t c = *p++;
      if (c < 0x80) continue;
      if (c < 0xC2) return false;  // a continuation byte, or an overlong 2-byte form
      lo = 0x80;
      hi = 0xBF;
      if (c < 0xE0) {
        need = 1;
      } else if (c < 0xF0) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;  // overlong
        if (c == 0xED) hi = 0x9F;  // surrogates
      } else if (c < 0xF5) {
        need = 3;
        if (c == 0xF0) lo = 0x90;  // overlong
        if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
      } else {
        return false;
      }
    } else {
      uint8_t c = *p++;
      if (c < lo || c > hi) return false;
      lo = 0x80;
      hi = 0xBF;
      --need;
    }
  }
  need_ = need;
  lo_ = lo;
  hi_ = hi;
  return true;
}

bool ws_reader::fail(ws_error e) {
  error_ = e;
  in_message_ = false;
  release(carry_);
  release(partial_);
  return false;
}

void ws_reader::stop() {
  stopped_ = true;
  in_message_ = false;
  release(carry_);
  release(partial_);
}

void ws_reader::release_delivered() {
  if (release_carry_) {
    release(carry_);
    release_carry_ = false;
  }
  if (release_partial_) {
    release(partial_);
    release_partial_ = false;
  }
}

ws_reader::parse ws_reader::read_header(const uint8_t* p, size_t avail, header& h) {
  auto failed = [&](ws_error e) {
    fail(e);
    return parse::failed;
  };
  if (avail < 2) {
    h.size = 2;
    return parse::incomplete;
  }
  const uint8_t b0 = p[0], b1 = p[1];
  h.fin = (b0 & 0x80) != 0;
  h.op = static_cast<ws_opcode>(b0 & 0x0f);
  h.masked = (b1 & 0x80) != 0;
  if (b0 & 0x70) return failed(ws_error::reserved_bits);
  if (role_ == ws_role::server && !h.masked) return failed(ws_error::unmasked_frame);
  if (role_ == ws_role::client && h.masked) return failed(ws_error::masked_frame);
  const uint8_t len7 = b1 & 0x7f;
  const bool control = (b0 & 0x08) != 0;
  if (control) {
    if (h.op != ws_opcode::close && h.op != ws_opcode::ping && h.op != ws_opcode::pong)
      return failed(ws_error::bad_opcode);
    if (!h.fin || len7 > 125) return failed(ws_error::bad_control_frame);
  } else {
    if (h.op != ws_opcode::continuation && h.op != ws_opcode::text && h.op != ws_opcode::binary)
      return failed(ws_error::bad_opcode);
    if (h.op == ws_opcode::continuation && !in_message_)
      return failed(ws_error::unexpected_continuation);
    if (h.op != ws_opcode::continuation && in_message_) return failed(ws_error::interleaved_data);
  }
  const size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  if (avail < 2 + ext) {
    h.size = 2 + ext;  // first the length, to check it before the rest is kept
    return parse::incomplete;
  }
  h.size = 2 + ext + (h.masked ? 4 : 0);
  if (ext == 0) {
    h.length = len7;
  } else if (ext == 2) {
    h.length = (uint64_t{p[2]} << 8) | p[3];
    if (h.length < 126) return failed(ws_error::bad_length);
  } else {
    h.length = 0;
    for (size_t i = 0; i < 8; ++i) h.length = (h.length << 8) | p[2 + i];
    if (h.length < 0x10000 || (h.length >> 63) != 0) return failed(ws_error::bad_length);
  }
  if (!control) {
    // Checked before waiting for the payload: nothing over the limit is kept.
    const uint64_t so_far = h.op == ws_opcode::continuation ? partial_.size() : 0;
    if (h.length > max_message_ || so_far + h.length > max_message_)
      return failed(ws_error::message_too_big);
  }
  if (avail < h.size) return parse::incomplete;
  if (h.masked) std::memcpy(h.key, p + 2 + ext, 4);
  return parse::complete;
}

bool ws_reader::take_frame(const header& h, char* payload, ws_message& m) {
  const size_t n = static_cast<size_t>(h.length);
  if (h.masked) unmask(payload, n, h.key);
  std::string_view data(payload, n);
  switch (h.op) {
    case ws_opcode::ping:
    case ws_opcode::pong:
      m = {h.op, data, 0};
      return true;
    case ws_opcode::close: {
      m = {h.op, {}, 0};
      if (n == 0) return true;
      if (n == 1) return fail(ws_error::bad_close_payload);
      m.close_code = static_cast<uint16_t>((uint16_t{bytes(payload)[0]} << 8) | bytes(payload)[1]);
      if (!is_valid_close_code(m.close_code)) return fail(ws_error::bad_close_payload);
      m.payload = data.substr(2);
      if (!valid_utf8(m.payload)) return fail(ws_error::invalid_utf8);
      return true;
    }
    case ws_opcode::text:
    case ws_opcode::binary:
      if (h.fin) {
        if (h.op == ws_opcode::text && !valid_utf8(data)) return fail(ws_error::invalid_utf8);
        m = {h.op, data, 0};
        return true;
      }
      // The first fragment: checked as it comes, so a bad message fails
      // early rather than after up to max_message bytes.
      in_message_ = true;
      partial_op_ = h.op;
      partial_.assign(data);
      utf8_ = {};
      if (h.op == ws_opcode::text && !utf8_.feed(data)) return fail(ws_error::invalid_utf8);
      return false;
    case ws_opcode::continuation:
      partial_.append(data);
      if (partial_op_ == ws_opcode::text && !utf8_.feed(data)) return fail(ws_error::invalid_utf8);
      if (!h.fin) return false;
      if (partial_op_ == ws_opcode::text && !utf8_.complete()) return fail(ws_error::invalid_utf8);
      in_message_ = false;
      release_partial_ = true;
      m = {partial_op_, partial_, 0};
      return true;
  }
  return false;  // read_header let no other opcode through
}

ws_reader::step ws_reader::next(input& in, ws_message& m) {
  release_delivered();
  if (error_ != ws_error::none) return step::failed;
  for (;;) {
    if (!carry_.empty()) {
      // A frame begun in an earlier read: only its missing bytes are copied,
      // the rest of this read is parsed in place below.
      header h;
      const parse r = read_header(bytes(carry_.data()), carry_.size(), h);
      if (r == parse::failed) return step::failed;
      const size_t want = r == parse::complete ? h.size + static_cast<size_t>(h.length) : h.size;
      if (r == parse::complete) carry_.reserve(want);
      const size_t take = std::min(want - carry_.size(), in.size - in.pos);
      carry_.append(in.data + in.pos, take);
      in.pos += take;
      if (carry_.size() < want) return step::need_more;
      if (r == parse::incomplete) continue;  // the header is whole now: so is its length
      const bool message = take_frame(h, carry_.data() + h.size, m);
      if (error_ != ws_error::none) return step::failed;
      if (message) {
        release_carry_ = true;  // `m` may lie in carry_ until the next call
        return step::message;
      }
      release(carry_);
      continue;
    }
    const size_t avail = in.size - in.pos;
    if (avail == 0) return step::need_more;
    char* p = in.data + in.pos;
    header h;
    const parse r = read_header(bytes(p), avail, h);
    if (r == parse::failed) return step::failed;
    if (r == parse::incomplete || avail - h.size < h.length) {
      // Kept until the rest arrives; a frame's size is bounded by the checks
      // in read_header (the message limit, 125 for a control frame).
      if (r == parse::complete) carry_.reserve(h.size + static_cast<size_t>(h.length));
      carry_.assign(p, avail);
      in.pos = in.size;
      return step::need_more;
    }
    in.pos += h.size + static_cast<size_t>(h.length);
    const bool message = take_frame(h, p + h.size, m);
    if (error_ != ws_error::none) return step::failed;
    if (message) return step::message;
  }
}

void append_client_frame(std::string& out, ws_opcode op, std::string_view payload,
                         uint32_t mask_key) {
  const size_t n = payload.size();
  out.push_back(static_cast<char>(0x80 | static_cast<uint8_t>(op)));
  if (n < 126) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((static_cast<uint64_t>(n) >> shift) & 0xff));
  }
  const uint8_t key[4] = {static_cast<uint8_t>(mask_key >> 24),
                          static_cast<uint8_t>(mask_key >> 16), static_cast<uint8_t>(mask_key >> 8),
                          static_cast<uint8_t>(mask_key)};
  out.append(reinterpret_cast<const char*>(key), 4);
  const size_t at = out.size();
  out.append(payload);
  unmask(out.data() + at, n, key);  // masking and unmasking are the same XOR
}

}  // namespace bandsync::engineio
