# cmake -DPROGRAM=<exe> [-DEXPECTED=<file>] -P run_doc_program.cmake
# Runs a program extracted from a docs page; fails when it exits non-zero or, with EXPECTED,
# when its standard output differs from the page's output blocks.
execute_process(COMMAND "${PROGRAM}" OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}")
endif()
if(EXPECTED)
  file(READ "${EXPECTED}" expected)
  if(NOT out STREQUAL expected)
    message(FATAL_ERROR "the output differs from the page's ```output block; expected:\n${expected}")
  endif()
endif()
