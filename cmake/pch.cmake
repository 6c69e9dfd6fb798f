# Precompiled headers for the targets with many translation units: each of
# them parses the same standard library, Boost.JSON, spdlog, Asio/Beast and
# gtest declarations, which is about half the CPU of a Debug compile (4 to
# 6 s of a 7 to 10 s translation unit). Every target precompiles its own
# header (no REUSE_FROM: the targets' definitions differ, and a PCH built
# with other ones is refused, which -Winvalid-pch and -Werror turn into an
# error). Only system headers, so the layer rule (the include path) is
# untouched; a header a source file forgets is still caught by a build with
# BANDSYNC_PCH=OFF, the default when a compiler launcher (ccache, which
# cannot cache a compile that uses a PCH without extra sloppiness settings)
# is configured.
#
# A unity build (cmake/unity.cmake) parses those headers once per batch
# already, and most targets are then one batch: a PCH would cost one more
# parse (12 to 16 CPU s under ASan) and save none. So the default is off
# there too; measured on the sanitizer tree, the five PCHs of the unity build
# cost 69 CPU s for a saving of a few seconds in the domain's four batches.
if(CMAKE_CXX_COMPILER_LAUNCHER OR BANDSYNC_UNITY)
  set(bandsync_pch_default OFF)
else()
  set(bandsync_pch_default ON)
endif()
option(BANDSYNC_PCH "Precompile common system headers for the largest targets" ${bandsync_pch_default})

set(bandsync_pch_std
  <algorithm> <chrono> <cstdint> <functional> <map> <memory> <optional> <string>
  <string_view> <unordered_map> <vector>)
set(bandsync_pch_json <boost/json.hpp>)
set(bandsync_pch_log <spdlog/spdlog.h>)
set(bandsync_pch_asio
  <boost/asio/any_io_executor.hpp> <boost/asio/io_context.hpp> <boost/asio/ip/tcp.hpp>
  <boost/asio/steady_timer.hpp>)
set(bandsync_pch_beast <boost/beast/http.hpp> <boost/beast/websocket.hpp>)
set(bandsync_pch_gtest <gtest/gtest.h>)

function(bandsync_pch target)
  if(BANDSYNC_PCH AND TARGET ${target})
    set(headers ${bandsync_pch_std})
    foreach(set IN LISTS ARGN)
      list(APPEND headers ${bandsync_pch_${set}})
    endforeach()
    target_precompile_headers(${target} PRIVATE ${headers})
  endif()
endfunction()

bandsync_pch(bandsync_store json)
bandsync_pch(bandsync_store_redis json log asio)
bandsync_pch(bandsync_domain json log)
bandsync_pch(bandsync_http json log)
bandsync_pch(bandsync_engineio json log asio)
bandsync_pch(bandsync_engineio_io json log asio beast)
bandsync_pch(bandsync_socketio json log asio)
bandsync_pch(bandsync_bench json asio)
bandsync_pch(bandsync json log asio)

bandsync_pch(bandsync_domain_tests json gtest)
bandsync_pch(setlist_tests json gtest)
bandsync_pch(store_tests json gtest)
