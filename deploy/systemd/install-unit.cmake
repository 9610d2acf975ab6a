# Runs at install time (install(SCRIPT) in CMakeLists.txt): writes
# tally.service with the paths this install uses, so that
# `cmake --install build --prefix P` yields a unit that starts P/bin/tally-server.
# Expects TALLY_SOURCE_DIR, TALLY_BINARY_DIR, TALLY_INSTALL_BINDIR and
# TALLY_INSTALL_SYSCONFDIR (relative to the prefix, or absolute).
foreach(var BINDIR SYSCONFDIR)
  set(dir "${TALLY_INSTALL_${var}}")
  if(NOT IS_ABSOLUTE "${dir}")
    set(dir "${CMAKE_INSTALL_PREFIX}/${dir}")
  endif()
  set(TALLY_FULL_${var} "${dir}")
endforeach()
set(TALLY_SERVER_PATH "${TALLY_FULL_BINDIR}/tally-server")
set(TALLY_CONF_PATH "${TALLY_FULL_SYSCONFDIR}/tally/tally.conf")
configure_file("${TALLY_SOURCE_DIR}/deploy/systemd/tally.service.in"
               "${TALLY_BINARY_DIR}/tally.service" @ONLY)
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
     TYPE FILE FILES "${TALLY_BINARY_DIR}/tally.service")
