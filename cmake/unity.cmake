# Unity builds for the targets with several translation units: CMake
# concatenates up to BANDSYNC_UNITY_BATCH of a target's sources into one
# translation unit, so the standard library, Boost.JSON, Asio and gtest
# declarations (and their template instantiations, and their debug info) are
# compiled once per batch instead of once per file. Like the precompiled
# headers (cmake/pch.cmake), and for the same reason, it is off by default
# when a compiler launcher (ccache) is configured: there a change recompiles
# one file, not a batch, and a build without unity sees each file on its own
# (a missing include, a name two files define) as the code is written.
# File-local names (anonymous namespaces, statics) must therefore be unique
# within a target; a source with properties of its own (COMPILE_DEFINITIONS)
# CMake compiles alone.
if(CMAKE_CXX_COMPILER_LAUNCHER)
  set(bandsync_unity_default OFF)
else()
  set(bandsync_unity_default ON)
endif()
option(BANDSYNC_UNITY "Compile each target's sources in batches (unity build)" ${bandsync_unity_default})
set(BANDSYNC_UNITY_BATCH 8 CACHE STRING "Sources per unity translation unit")

# Every target created after this (included before the first add_subdirectory)
# starts with these; the layer probes (tests/layers) turn it off.
set(CMAKE_UNITY_BUILD ${BANDSYNC_UNITY})
set(CMAKE_UNITY_BUILD_BATCH_SIZE ${BANDSYNC_UNITY_BATCH})
