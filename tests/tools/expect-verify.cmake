# SPDX-License-Identifier: GPL-2.0-only
# Runs msgtap-verify once and checks its exit status and output (cmake -P).
# In: VERIFY, EXPECT_RC, EXPECT_RE, SNAPSHOT, TRUTHS ("|"-separated).
string(REPLACE "|" ";" truths "${TRUTHS}")
execute_process(COMMAND ${VERIFY} --snapshot ${SNAPSHOT} ${truths}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc STREQUAL EXPECT_RC)
  message(FATAL_ERROR "msgtap-verify exited ${rc}, expected ${EXPECT_RC}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT_RE}")
  message(FATAL_ERROR "msgtap-verify output lacks: ${EXPECT_RE}")
endif()
