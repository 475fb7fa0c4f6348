# ffibench_warnings(target): the project's warning set; errors too when FFIBENCH_WERROR is on.
function(ffibench_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
      -Wformat=2 -Wconversion -Wno-sign-conversion -Wundef -Wcast-align>
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow>
    $<$<BOOL:${FFIBENCH_WERROR}>:-Werror>)
endfunction()
