# fuzz_serve / replay_serve need cpp-httplib (Debian's linked library, via pkg-config).
find_package(PkgConfig REQUIRED)
pkg_check_modules(CPPHTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
function(rgrid_fuzz_deps target)
  target_link_libraries(${target} PRIVATE PkgConfig::CPPHTTPLIB)
endfunction()
