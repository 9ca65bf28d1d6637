# Fails when a controller folder includes a header of a folder it may not use.
# Run by the build for each folder (see controller/CMakeLists.txt):
#   cmake -DFOLDER=daemon -DROOT=<controller dir> -DALLOWED="control;store;..." -DLAYERS="log;net;..."
#         -DSTAMP=<file> -P check_layering.cmake
# ALLOWED is every folder FOLDER may use, directly or through another; LAYERS is every folder,
# so that includes of other things ("warden/abi.h", generated skeletons) are left alone.
cmake_minimum_required(VERSION 3.16)  # IN_LIST
file(GLOB files "${ROOT}/${FOLDER}/*.h" "${ROOT}/${FOLDER}/*.cpp")
set(problems "")
foreach(file IN LISTS files)
  file(STRINGS "${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"[a-z_]+/")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([a-z_]+)/.*$" "\\1" used "${line}")
    if(used STREQUAL FOLDER OR NOT used IN_LIST LAYERS OR used IN_LIST ALLOWED)
      continue()
    endif()
    file(RELATIVE_PATH shown "${ROOT}" "${file}")
    string(APPEND problems "  ${shown}: ${line}\n")
  endforeach()
endforeach()
if(problems)
  string(REPLACE ";" ", " allowed_words "${ALLOWED}")
  message(FATAL_ERROR "controller/${FOLDER} may use only ${allowed_words} (docs/ARCHITECTURE.md), but:\n${problems}")
endif()
file(WRITE "${STAMP}" "")
