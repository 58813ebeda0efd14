# Everything rgrid needs, found the same way in the build tree and by consumers
# of the installed package (rgridConfig.cmake includes this file).
include(CMakeFindDependencyMacro)
set(BLA_VENDOR OpenBLAS)
find_dependency(Threads)
find_dependency(BLAS)
find_dependency(xtensor)
find_dependency(xtensor-blas)
find_dependency(nlohmann_json)
find_dependency(PkgConfig)
if(NOT TARGET PkgConfig::UTF8PROC)
  pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET GLOBAL libutf8proc)
endif()
