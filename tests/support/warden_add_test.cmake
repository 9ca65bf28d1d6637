# warden_add_test(NAME <name> COMMAND <program or target> [arguments...]) registers every ctest
# entry of warden (use it instead of add_test). The test runs through run_test.sh next to this
# file: exit 77 (the machine cannot run the test, and it printed why) stays a skip on a
# developer's machine and is a failure under CI. The caller sets LABELS, TIMEOUT, RUN_SERIAL
# with set_tests_properties as usual; SKIP_RETURN_CODE belongs to this function alone.
function(warden_add_test)
  # The arguments stay the unparsed rest: list operations on them would split an argument
  # that holds a ';' (sh -c "a; b") into two.
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;COMMAND" "")
  if(NOT arg_NAME OR NOT arg_COMMAND)
    message(FATAL_ERROR "usage: warden_add_test(NAME <name> COMMAND <program or target> [arguments...])")
  endif()
  set(program ${arg_COMMAND})
  if(TARGET ${program})  # add_test resolves a target only as the first word; here it is not
    set(program $<TARGET_FILE:${program}>)
  endif()
  add_test(NAME ${arg_NAME}
           COMMAND bash ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/run_test.sh ${program} ${arg_UNPARSED_ARGUMENTS})
  set_tests_properties(${arg_NAME} PROPERTIES SKIP_RETURN_CODE 77)
endfunction()
