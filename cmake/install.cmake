# `cmake --install`: the public headers, the shared libgradc, the gradc CLI,
# a CMake package (lib/cmake/gradc) for find_package(gradc CONFIG) and a
# pkg-config file; and
# `cpack -G DEB` for a Debian package of the same files.
include(CMakePackageConfigHelpers)

set(gradc_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/gradc)

# LLVM's shared library may live outside the loader's default paths.
set_target_properties(gradc_lib gradc PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)

install(TARGETS gradc_lib EXPORT gradcTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS gradc RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(DIRECTORY include/gradc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
  FILES_MATCHING PATTERN "*.h")
install(EXPORT gradcTargets NAMESPACE gradc:: DESTINATION ${gradc_cmake_dir} COMPONENT dev)

configure_package_config_file(cmake/gradcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/gradcConfig.cmake INSTALL_DESTINATION ${gradc_cmake_dir})
# 0.x: only the same minor version is compatible (the ABI may change between minors).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/gradcConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/gradcConfig.cmake ${PROJECT_BINARY_DIR}/gradcConfigVersion.cmake
  DESTINATION ${gradc_cmake_dir} COMPONENT dev)

# For builds without CMake (pkg-config --cflags --libs gradc).
file(RELATIVE_PATH gradc_pc_to_prefix ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" gradc_pc_to_prefix "${gradc_pc_to_prefix}")
configure_file(cmake/gradc.pc.in ${PROJECT_BINARY_DIR}/gradc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/gradc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT dev)

set(CPACK_PACKAGE_NAME gradc)
set(CPACK_PACKAGE_VENDOR "gradc")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Static computation-graph compiler for neural networks")
set(CPACK_PACKAGE_CONTACT "gradc maintainers")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# dpkg-shlibdeps adds libc and libstdc++; it cannot attribute LLVM's library,
# which the RUNPATH finds under /usr/lib/llvm-19/lib.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libllvm19")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
include(CPack)
