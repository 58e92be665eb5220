# Install layout and the Debian package. Included from the top-level CMakeLists.txt.
#
#   cmake --install build [--prefix DIR]     default prefix /usr/local (CMAKE_INSTALL_PREFIX)
#   scripts/build-deb.sh                     Release build in build-deb/ + cpack -> mscan_*.deb
#
# Paths follow GNUInstallDirs, so the package (prefix /usr) and a local install put every file
# where Debian's man, bash-completion, zsh and fish look for it.
include(GNUInstallDirs)

install(TARGETS mscan RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/docs/mscan.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# Shell completions, in each shell's vendor directory (bash-completion loads
# completions/<command> on demand; Debian's zsh has vendor-completions in its default $fpath).
install(FILES ${PROJECT_SOURCE_DIR}/completions/mscan.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME mscan)
install(FILES ${PROJECT_SOURCE_DIR}/completions/_mscan
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${PROJECT_SOURCE_DIR}/completions/mscan.fish
        DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)

# Documentation: share/doc/mscan/ (CMAKE_INSTALL_DOCDIR is share/doc/<project name>).
file(GLOB MSCAN_DOC_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${MSCAN_DOC_FILES}
              ${PROJECT_SOURCE_DIR}/docs/json-schema.json
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The copyright file (Debian's machine-readable format, installed as share/doc/mscan/copyright
# as Debian policy asks) is generated from LICENSE, whose text it carries: each line indented
# by one space, an empty line written " .".
file(READ ${PROJECT_SOURCE_DIR}/LICENSE MSCAN_LICENSE_TEXT)
string(REGEX REPLACE "^\n+" "" MSCAN_LICENSE_TEXT "${MSCAN_LICENSE_TEXT}")
string(REGEX REPLACE "\n+$" "" MSCAN_LICENSE_TEXT "${MSCAN_LICENSE_TEXT}")
# CMake lists split at ';', which the text has too: hold them aside while splitting lines.
string(REPLACE ";" "<mscan-semicolon>" MSCAN_LICENSE_TEXT "${MSCAN_LICENSE_TEXT}")
string(REPLACE "\n" ";" MSCAN_LICENSE_LINES "${MSCAN_LICENSE_TEXT}")
set(MSCAN_COPYRIGHT
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
    "Upstream-Name: mscan\n"
    "Source: https://github.com/mscan-dev/mscan\n\n"
    "Files: *\n"
    "Copyright: the mscan developers\n"
    "License: Apache-2.0\n")
foreach(line IN LISTS MSCAN_LICENSE_LINES)
  string(STRIP "${line}" stripped)
  if(stripped STREQUAL "")
    list(APPEND MSCAN_COPYRIGHT " .\n")
  else()
    list(APPEND MSCAN_COPYRIGHT " ${line}\n")
  endif()
endforeach()
string(JOIN "" MSCAN_COPYRIGHT ${MSCAN_COPYRIGHT})
string(REPLACE "<mscan-semicolon>" ";" MSCAN_COPYRIGHT "${MSCAN_COPYRIGHT}")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/copyright CONTENT "${MSCAN_COPYRIGHT}" @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})

# --- Debian package (CPack DEB) -------------------------------------------------------------
set(MSCAN_DEB_MAINTAINER "mscan developers <mscan-dev@users.noreply.github.com>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mscan)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "mscan developers")
set(CPACK_PACKAGE_CONTACT ${MSCAN_DEB_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "static security scanner for machine-learning model files")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://github.com/mscan-dev/mscan")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${MSCAN_DEB_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # mscan_<version>_<arch>.deb
# The extended description; CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY before it as the
# synopsis line and indents it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "mscan reads a model file the way the framework's loader would, without ever
running it, and reports what loading it would do (import modules, call
functions such as os.system, run Keras Lambda layers or TensorFlow PyFunc ops)
as severity-ranked findings in text, JSON or SARIF, with exit codes made for
CI gates. It reads pickle, PyTorch, joblib, NumPy, Keras/HDF5, safetensors,
TensorFlow SavedModel and zip/tar/7z archives, and Hugging Face repositories
(hf://org/name) before they are downloaded.")
# mscan_deb_package(<variable> <soname> <version floor>): "<package> (>= <floor>)" for the
# Debian package that ships the shared library <soname>: the installed one that holds it
# (dpkg-query), else the name Debian's policy (8.1) gives it (libarchive.so.13 -> libarchive13).
function(mscan_deb_package variable soname floor)
  execute_process(COMMAND dpkg-query -S "*/${soname}" OUTPUT_VARIABLE owners
                  RESULT_VARIABLE status ERROR_QUIET)
  if(status EQUAL 0 AND owners MATCHES "^([^:, ]+)")
    set(package "${CMAKE_MATCH_1}")
  elseif(soname MATCHES "^(.*)\\.so\\.([0-9]+)")
    set(name "${CMAKE_MATCH_1}")
    set(major "${CMAKE_MATCH_2}")
    set(package "${name}${major}")
    if(name MATCHES "[0-9]$")
      set(package "${name}-${major}")
    endif()
    string(TOLOWER "${package}" package)
  else()
    message(FATAL_ERROR "no Debian package name for ${soname}")
  endif()
  set(${variable} "${package} (>= ${floor})" PARENT_SCOPE)
endfunction()

# Shared libraries the binary links are found by dpkg-shlibdeps (dpkg-dev); CPack appends the
# dependencies it computes to CPACK_DEBIAN_PACKAGE_DEPENDS. The libraries mscan dlopens are not
# among them, so they are named here:
# - libcurl, for hf:// targets only (src/net/curl_api.cpp); the API it needs (curl_url_*,
#   CURLOPT_PROTOCOLS_STR) is curl 7.85's.
# - libarchive and libzip, on the first tar/7z/compressed file or zip (src/formats/archive/
#   libarchive_api.cpp, src/formats/zip/libzip_api.cpp), by the SONAMEs found at configure
#   time. The floors are what dpkg-shlibdeps computed from Debian's symbols files for the
#   functions mscan calls, when it still linked them: 3.3.3 for libarchive (the zstd filter),
#   1.0 for libzip.
mscan_deb_package(MSCAN_DEB_LIBARCHIVE "${MSCAN_LIBARCHIVE_SONAME}" 3.3.3)
mscan_deb_package(MSCAN_DEB_LIBZIP "${MSCAN_LIBZIP_SONAME}" 1.0)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libcurl4 (>= 7.85.0), ${MSCAN_DEB_LIBARCHIVE}, ${MSCAN_DEB_LIBZIP}")

include(CPack)
