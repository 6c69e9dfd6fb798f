#include "socketio/message.hpp"

#include <span>

#include "util/json_text.hpp"

namespace bandsync::socketio {
namespace {

// The Engine.IO message packet ("4") around an EVENT or ACK, written straight
// into the bytes every recipient shares: the arguments are serialized where
// they are, instead of being deep-copied into a packet's array, encoded, and
// the text copied again behind the "4". The bytes are those of
// make_text_frame(message, encode(packet)) (unit test
// encode_event.same_bytes_as_the_packet_codec). `event` is empty for an ACK.
// `Args` is any range of boost::json::value (a message's array, or one value).
template <class Args>
encoded_packet encode_args(packet_type type, std::string_view nsp, std::optional<uint64_t> id,
                           std::string_view event, const Args& args,
                           const std::vector<std::shared_ptr<const std::string>>& attachments,
                           std::string_view offset = {}) {
  auto text = std::make_shared<std::string>();
  std::string& out = *text;
  out.reserve(64);
  out += static_cast<char>('0' + static_cast<int>(engineio::packet_type::message));
  out += static_cast<char>('0' + static_cast<int>(type));
  if (type == packet_type::binary_event || type == packet_type::binary_ack) {
    out += std::to_string(attachments.size());
    out += '-';
  }
  if (nsp != "/") {
    out += nsp;
    out += ',';
  }
  if (id) out += std::to_string(*id);
  out += '[';
  bool first = true;
  if (type == packet_type::event || type == packet_type::binary_event) {
    util::append_json_text(out, boost::json::value(boost::json::string_view(event)));
    first = false;
  }
  for (const auto& a : args) {
    if (!first) out += ',';
    first = false;
    util::append_json_text(out, a);
  }
  // Connection state recovery: a stored EVENT carries its offset as the last
  // argument, appended once to the shared bytes (never per recipient).
  if (!offset.empty()) {
    if (!first) out += ',';
    util::append_json_text(out, boost::json::value(boost::json::string_view(offset)));
  }
  out += ']';

  encoded_packet p;
  p.frames.reserve(1 + attachments.size());
  p.frames.push_back(engineio::frame{false, std::move(text)});
  for (const auto& a : attachments) p.frames.push_back(engineio::frame{true, a});
  return p;
}

}  // namespace

encoded_packet encode_event(std::string_view nsp, std::string_view event, const message& m,
                            std::optional<uint64_t> ack_id, std::string_view offset) {
  return encode_args(m.attachments.empty() ? packet_type::event : packet_type::binary_event, nsp,
                     ack_id, event, m.args, m.attachments, offset);
}

encoded_packet encode_event(std::string_view nsp, std::string_view event,
                            const boost::json::value& payload) {
  static const std::vector<std::shared_ptr<const std::string>> no_attachments;
  return encode_args(packet_type::event, nsp, std::nullopt, event,
                     std::span<const boost::json::value>(&payload, 1), no_attachments);
}

engineio::frame encode_event_with(std::string_view nsp, std::string_view event,
                                  const std::function<void(std::string&)>& write_payload) {
  auto text = std::make_shared<std::string>();
  std::string& out = *text;
  out.reserve(160);  // a tick is ~120 bytes: one allocation
  out += static_cast<char>('0' + static_cast<int>(engineio::packet_type::message));
  out += static_cast<char>('0' + static_cast<int>(packet_type::event));
  if (nsp != "/") {
    out += nsp;
    out += ',';
  }
  out += '[';
  util::append_json_string(out, event);
  out += ',';
  write_payload(out);
  out += ']';
  return engineio::frame{false, std::move(text)};
}

encoded_packet encode_ack(std::string_view nsp, uint64_t id, const message& m) {
  return encode_args(m.attachments.empty() ? packet_type::ack : packet_type::binary_ack, nsp, id,
                     {}, m.args, m.attachments);
}

encoded_packet encode_plain(const packet& p) {
  encoded_packet out;
  out.frames.push_back(engineio::make_text_frame(engineio::packet_type::message, encode(p)));
  return out;
}

}  // namespace bandsync::socketio
