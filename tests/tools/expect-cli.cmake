# SPDX-License-Identifier: GPL-2.0-only
# Runs one command line (msgtapd, msgtapctl, msgtap-verify) and checks its
# exit status and what it printed (cmake -P).
# In: CMD ("|"-separated argv), EXPECT_RC, EXPECT_RE, and optionally
# STDOUT_FILE (where standard output goes, e.g. /dev/full; then only
# standard error is checked).
string(REPLACE "|" ";" cmd "${CMD}")
# Only a device: a slip in the arguments (an empty one dropped) once made
# this a program's path, which OUTPUT_FILE then truncated.
if(STDOUT_FILE AND NOT STDOUT_FILE MATCHES "^/dev/")
  message(FATAL_ERROR "STDOUT_FILE=${STDOUT_FILE}: must be a device such as /dev/full")
endif()
if(STDOUT_FILE)
  execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_FILE ${STDOUT_FILE}
                  ERROR_VARIABLE err)
  set(out "")
else()
  execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
endif()
message("${out}${err}")
if(NOT rc STREQUAL EXPECT_RC)
  message(FATAL_ERROR "${cmd} exited ${rc}, expected ${EXPECT_RC}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT_RE}")
  message(FATAL_ERROR "output lacks: ${EXPECT_RE}")
endif()
