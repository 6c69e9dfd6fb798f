# Builds every layer probe (tests/layers/CMakeLists.txt) with `-k 0` and
# checks each result against the table: an allowed include must compile, any
# other must fail with the header not found (and not for another reason).
cmake_minimum_required(VERSION 3.25)
file(STRINGS ${PROBES} lines)

# Stale objects from an earlier run must not count as "compiles".
foreach(line IN LISTS lines)
  string(REGEX MATCHALL "[^ ]+" f "${line}")
  list(GET f 4 object)
  file(REMOVE ${object})
endforeach()

execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGETS} -- -k 0
  OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)

set(errors "")
set(compiled 0)
set(refused 0)
foreach(line IN LISTS lines)
  string(REGEX MATCHALL "[^ ]+" f "${line}")
  list(GET f 0 a)
  list(GET f 1 b)
  list(GET f 2 expect)
  list(GET f 3 header)
  list(GET f 4 object)
  if(EXISTS ${object})
    if(expect STREQUAL "fails")
      string(APPEND errors "layer ${a} can include ${header} (layer ${b}): it must not\n")
    else()
      math(EXPR compiled "${compiled} + 1")
    endif()
  elseif(expect STREQUAL "compiles")
    string(APPEND errors "layer ${a} cannot include ${header} (layer ${b}): it must\n")
  else()
    # The failure must be the missing header, reported for this probe's source.
    string(REGEX MATCH "${a}_includes_${b}\\.cpp:[0-9]+:[0-9]+: fatal error: ${header}: No such file or directory"
           why "${out}")
    if(why)
      math(EXPR refused "${refused} + 1")
    else()
      string(APPEND errors "layer ${a} including ${header} (layer ${b}) failed, but not for a missing header\n")
    endif()
  endif()
endforeach()

if(errors)
  message("${out}")
  message(FATAL_ERROR "layer rule broken:\n${errors}")
endif()
message(STATUS "layers: ${compiled} allowed includes compile, ${refused} upward or sideways includes are refused")
