# Runs at install time (install(SCRIPT) in CMakeLists.txt), so that it sees
# the prefix of this install (`cmake --install build --prefix P`):
# - tally.conf goes to <sysconfdir>/tally/ only if there is none yet: an
#   upgrade must not overwrite the operator's settings (the current example
#   is always installed to <docdir>/examples/ as well);
# - tally.service is written with the paths this install uses.
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
if(EXISTS "$ENV{DESTDIR}${TALLY_CONF_PATH}")
  message(STATUS "Keeping: $ENV{DESTDIR}${TALLY_CONF_PATH}")
else()
  file(INSTALL DESTINATION "${TALLY_FULL_SYSCONFDIR}/tally"
       TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${TALLY_BINARY_DIR}/tally.conf")
endif()

configure_file("${TALLY_SOURCE_DIR}/deploy/systemd/tally.service.in"
               "${TALLY_BINARY_DIR}/tally.service" @ONLY)
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
     TYPE FILE FILES "${TALLY_BINARY_DIR}/tally.service")
