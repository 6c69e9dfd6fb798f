#pragma once
// Files compiled into the binary at build time (cmake/embed_files.cmake):
// BandSync's browser library and the pinned socket.io-client bundle. The
// table is generated; this header only declares it.

#include <span>
#include <string_view>

namespace bandsync::web {

struct asset {
  std::string_view path;          // URL path, e.g. "/bandsync-client.js"
  std::string_view content_type;  // Content-Type header value
  std::string_view body;          // the file's bytes
  std::string_view etag;          // strong entity tag, quoted: "\"<32 hex>\""
};

// Every embedded file, in the order of the build's list.
std::span<const asset> assets();

}  // namespace bandsync::web
