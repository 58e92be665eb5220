# mscan_soname(<variable> <library file>): sets <variable> (a cache entry, so that a packager
# can override it) to the SONAME of a shared library, the name the dynamic loader knows it by
# and what mscan passes to dlopen for the libraries it loads on first use (libarchive, libzip).
# The SONAME is read from the library's ELF dynamic section, not guessed from its file name:
# Debian's libarchive.so points at libarchive.so.13.6.2, its libzip.so at libzip.so.4.
function(mscan_soname variable library)
  if(${variable})
    return()  # given on the command line, or found by an earlier configure
  endif()
  get_filename_component(real "${library}" REALPATH)
  if(NOT CMAKE_OBJDUMP)
    message(FATAL_ERROR "objdump (binutils) is needed to read the SONAME of ${real}; "
                        "or give it: -D${variable}=<soname>")
  endif()
  execute_process(COMMAND "${CMAKE_OBJDUMP}" -p "${real}" OUTPUT_VARIABLE headers
                  RESULT_VARIABLE status ERROR_QUIET)
  if(NOT status EQUAL 0 OR NOT headers MATCHES "\n[ \t]*SONAME[ \t]+([^ \t\n]+)")
    message(FATAL_ERROR "no SONAME found in ${real} (${CMAKE_OBJDUMP} -p); "
                        "give it: -D${variable}=<soname>")
  endif()
  set(${variable} "${CMAKE_MATCH_1}" CACHE STRING "SONAME dlopen'ed for ${library}")
  message(STATUS "${variable}: ${CMAKE_MATCH_1} (from ${real})")
endfunction()
