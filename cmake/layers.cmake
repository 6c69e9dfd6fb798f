# The layers of src/ (docs/DESIGN.md, "Layers") are enforced by the include
# path: a target sees a layer's headers only if it links a target of that
# layer. Each layer exports one include root of its own,
#
#   <build>/layers/<layer>/<layer> -> <source>/src/<layer>   (a symbolic link)
#
# so `#include "engineio/session.hpp"` resolves in engineio itself and in
# every target that links an engineio target (PUBLIC, so transitively), and
# nowhere else: util cannot include an engineio header, store cannot include
# a bandsync one. The dependency graph is the targets' link graph; the
# layers.enforced test (tests/layers) compiles one probe per pair of layers
# and checks that exactly the allowed ones build.
#
# Exporting src/ itself (as every target did before) would let any target
# include any header, whatever it links.

set(BANDSYNC_LAYERS_DIR ${CMAKE_BINARY_DIR}/layers)

function(bandsync_layer target layer)
  set(root ${BANDSYNC_LAYERS_DIR}/${layer})
  set(link ${root}/${layer})
  if(NOT IS_SYMLINK ${link})
    file(MAKE_DIRECTORY ${root})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${layer} ${link} SYMBOLIC)
  endif()
  target_include_directories(${target} PUBLIC ${root})
endfunction()
