# bandsync_embed_files(<target> NAMESPACE <ns> HEADER <include> [HINT <text>]
#                      ENTRIES <url> <file> [<url> <file> ...])
#
# Compiles files into the binary: adds to <target> a generated .cpp that
# defines `std::span<const <ns>::asset> <ns>::assets()` (the struct is declared
# in HEADER), one entry per (url, file) pair, each with its bytes, a
# Content-Type chosen from the URL's extension (embed_files_script.cmake) and
# a strong ETag (a SHA-256 of the bytes). The .cpp is regenerated
# whenever one of the files changes, so a change to an asset rebuilds the
# binary; configure fails when a file is missing, naming it.
set(BANDSYNC_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_files_script.cmake)

function(bandsync_embed_files target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "NAMESPACE;HEADER;HINT" "ENTRIES")
  list(LENGTH arg_ENTRIES n)
  math(EXPR rest "${n} % 2")
  if(n EQUAL 0 OR NOT rest EQUAL 0)
    message(FATAL_ERROR "bandsync_embed_files(${target}): ENTRIES takes url/file pairs")
  endif()
  set(manifest "")
  set(files "")
  math(EXPR last "${n} - 1")
  foreach(i RANGE 0 ${last} 2)
    math(EXPR f "${i} + 1")
    list(GET arg_ENTRIES ${i} url)
    list(GET arg_ENTRIES ${f} file)
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "bandsync_embed_files(${target}): ${file} (served at ${url}) is missing. "
                          "${arg_HINT}")
    endif()
    string(APPEND manifest "${url}|${file}\n")
    list(APPEND files "${file}")
  endforeach()
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/embedded)
  set(manifest_file ${out_dir}/${target}.manifest)
  set(out_cpp ${out_dir}/${target}_assets.cpp)
  # Written only when it changes, so a re-configure alone rebuilds nothing.
  file(CONFIGURE OUTPUT ${manifest_file} CONTENT "${manifest}" @ONLY)
  add_custom_command(
    OUTPUT ${out_cpp}
    COMMAND ${CMAKE_COMMAND} -DMANIFEST=${manifest_file} -DOUTPUT=${out_cpp}
            -DNAMESPACE=${arg_NAMESPACE} -DHEADER=${arg_HEADER} -P ${BANDSYNC_EMBED_SCRIPT}
    DEPENDS ${files} ${manifest_file} ${BANDSYNC_EMBED_SCRIPT}
    COMMENT "Embedding files into ${target}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out_cpp})
endfunction()
