# The Debian packages: `cmake --build build/release --target package` (or `cpack` in the build tree).
#
#   tawasul      /usr/bin/tawasul, libtawasul-sdk.so.1, the plugins under /usr/lib/tawasul/plugins/<name>/
#                (each .so with copies of its migrations/ templates/ lang/ public/), the host's
#                migrations and web files under /usr/share/tawasul, /etc/tawasul/tawasul.yaml (a
#                conffile), the systemd unit, and maintainer scripts that make the `tawasul` user
#                and /var/lib/tawasul (0700).
#   tawasul-dev  the SDK: headers, the libtawasul-sdk.so link, the CMake package (component sdk).
#
# Install components: `host` (the program and its files), `runtime` (the SDK library, which both
# the host and `cmake --install --component sdk` users need) and `sdk` (sdk/CMakeLists.txt).
# The package puts paths under /usr whatever CMAKE_INSTALL_PREFIX says; /etc and the unit are
# absolute destinations, so install the `host` component through CPack (or with DESTDIR).

set(TAWASUL_SHARE_DIR ${CMAKE_INSTALL_DATADIR}/tawasul)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

install(TARGETS tawasul RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT host)
# From /usr/bin the packaged library is ../lib/<triplet>: an unpacked tree (dpkg-deb -x) runs as it is.
set_target_properties(tawasul PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
# The migrations folder as a whole, whatever its files are named.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/migrations/ DESTINATION ${TAWASUL_SHARE_DIR}/migrations COMPONENT host)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/host/templates ${PROJECT_SOURCE_DIR}/host/lang ${PROJECT_SOURCE_DIR}/host/public
        DESTINATION ${TAWASUL_SHARE_DIR} COMPONENT host)
# /etc/tawasul/tawasul.yaml names the folders the lines above install into, as the package puts them.
set(TAWASUL_PACKAGED_SHARE_DIR ${CPACK_PACKAGING_INSTALL_PREFIX}/${TAWASUL_SHARE_DIR})
set(TAWASUL_PACKAGED_PLUGIN_DIR ${CPACK_PACKAGING_INSTALL_PREFIX}/${TAWASUL_PLUGIN_INSTALL_DIR})
configure_file(${PROJECT_SOURCE_DIR}/packaging/tawasul.yaml.in ${CMAKE_BINARY_DIR}/packaging/tawasul.yaml @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/packaging/tawasul.yaml DESTINATION /etc/tawasul COMPONENT host)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/tawasul.service DESTINATION /lib/systemd/system COMPONENT host)
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/configuration.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT host)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tawasul)
set(CPACK_PACKAGE_VENDOR "Tawasul")
set(CPACK_PACKAGE_CONTACT "Tawasul maintainers <tawasul@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "WhatsApp Cloud API integration host")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libtawasul-sdk.so.1 is in the package itself: dpkg-shlibdeps finds it there.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/lib)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)

set(CPACK_DEBIAN_MAIN_PACKAGE_NAME tawasul)
# CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY first: these are the lines after it.
set(CPACK_DEBIAN_MAIN_DESCRIPTION "Tawasul receives WhatsApp webhooks, keeps contacts, conversations and an outbox, and sends \
through the Cloud API, with an admin interface and plugins. This package runs it under systemd \
on an embedded SQLite database in /var/lib/tawasul.")
# passwd: useradd in postinst.
set(CPACK_DEBIAN_MAIN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_MAIN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
  ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
  ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_MAIN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME tawasul-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION "The plugin SDK: headers, the link library and the CMake package (find_package(Tawasul CONFIG), \
tawasul_add_plugin) to build Tawasul plugins out of the tree.")
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "tawasul (= ${PROJECT_VERSION}), libpoco-dev, libboost-dev, libyaml-cpp-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_SHLIBDEPS OFF)

include(CPack)
cpack_add_component_group(main)
cpack_add_component_group(dev)
cpack_add_component(host GROUP main)
cpack_add_component(runtime GROUP main)
cpack_add_component(sdk GROUP dev)
