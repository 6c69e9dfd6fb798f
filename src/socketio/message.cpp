#include "socketio/message.hpp"

namespace bandsync::socketio {
namespace {

encoded_packet encode_with(packet&& p, const message& m) {
  encoded_packet out;
  out.frames.reserve(1 + m.attachments.size());
  out.frames.push_back(engineio::make_text_frame(engineio::packet_type::message, encode(p)));
  for (const auto& a : m.attachments) out.frames.push_back(engineio::frame{true, a});
  return out;
}

}  // namespace

encoded_packet encode_event(std::string_view nsp, std::string_view event, const message& m,
                            std::optional<uint64_t> ack_id, std::string_view offset) {
  packet p;
  p.type = m.attachments.empty() ? packet_type::event : packet_type::binary_event;
  p.nsp = std::string(nsp);
  p.id = ack_id;
  p.attachments = m.attachments.size();
  boost::json::array data;
  data.reserve(2 + m.args.size());
  data.emplace_back(event);
  for (const auto& a : m.args) data.push_back(a);
  if (!offset.empty()) data.emplace_back(offset);
  p.data = std::move(data);
  return encode_with(std::move(p), m);
}

encoded_packet encode_ack(std::string_view nsp, uint64_t id, const message& m) {
  packet p;
  p.type = m.attachments.empty() ? packet_type::ack : packet_type::binary_ack;
  p.nsp = std::string(nsp);
  p.id = id;
  p.attachments = m.attachments.size();
  p.data = m.args;
  return encode_with(std::move(p), m);
}

encoded_packet encode_plain(const packet& p) {
  encoded_packet out;
  out.frames.push_back(engineio::make_text_frame(engineio::packet_type::message, encode(p)));
  return out;
}

}  // namespace bandsync::socketio
