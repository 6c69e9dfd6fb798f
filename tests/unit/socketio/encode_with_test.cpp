// encode_event_with: a payload written as text by the caller gives the bytes
// of encode_event with that payload as a value.

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "socketio/message.hpp"
#include "util/json_text.hpp"

namespace bandsync::socketio {
namespace {

TEST(encode_event_with, gives_the_bytes_of_encode_event_with_the_value) {
  for (
      std::string_view json :
      {R"({"sessionId":"s-1","positionMs":125340,"tempoBpm":120.5,"serverTimestamp":1764612345678.123,"beat":3.25,"bar":0.8125})",
       R"([1,"two",null])", R"("text\u0001")", "null", "-0.25", "{}"}) {
    auto v = boost::json::parse(json);
    for (std::string_view nsp : {"/", "/admin"}) {
      for (std::string_view event : {"scroll_tick", "a \"quoted\" name"}) {
        auto f = encode_event_with(nsp, event,
                                   [&](std::string& out) { util::append_json_text(out, v); });
        auto general = encode_event(nsp, event, v);
        ASSERT_EQ(general.frames.size(), 1u);
        EXPECT_FALSE(f.binary);
        EXPECT_EQ(*f.data, *general.frames[0].data) << json << " " << nsp << " " << event;
      }
    }
  }
}

}  // namespace
}  // namespace bandsync::socketio
