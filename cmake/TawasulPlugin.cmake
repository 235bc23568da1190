# tawasul_add_plugin(NAME SOURCES ... [CORE_SOURCES ...] [LIBRARIES ...] [OUTPUT_DIR dir] [NO_INSTALL])
#
# CORE_SOURCES, when given, become a static library NAME_core (PUBLIC include dir src/, linked with
# the SDK and LIBRARIES) that the plugin links: the plugin's own tests link the same code it runs.
#
# Builds NAME.so into OUTPUT_DIR/NAME/ (default: <build>/plugins/NAME/) and links the plugin's own
# migrations/, templates/, lang/ and public/ folders beside it, so the folder the host loads from
# holds everything the plugin is. Plugins link only the SDK and the libraries they name, with hidden
# visibility and --no-undefined: a missing symbol fails the build, not the host at load time.
#
# When TAWASUL_PLUGIN_INSTALL_DIR is set (Tawasul's own tree sets it), every plugin is also
# installed, component host, into TAWASUL_PLUGIN_INSTALL_DIR/NAME/ with copies of its
# folders (no links): the Debian package's /usr/lib/tawasul/plugins/NAME/. NO_INSTALL keeps it out.
#
# The same file serves Tawasul's own plugins and plugins built out of the tree against an installed
# SDK (find_package(Tawasul CONFIG) includes it): it sets on its targets what the host's build sets
# for the whole tree (C++17, hidden visibility, position-independent code).
function(tawasul_plugin_target_defaults target)
  set_target_properties(${target} PROPERTIES
    CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
endfunction()

function(tawasul_add_plugin name)
  cmake_parse_arguments(PLUGIN "NO_INSTALL" "OUTPUT_DIR" "SOURCES;CORE_SOURCES;LIBRARIES" ${ARGN})
  if(NOT PLUGIN_OUTPUT_DIR)
    set(PLUGIN_OUTPUT_DIR ${CMAKE_BINARY_DIR}/plugins)
  endif()
  # Out of the tree, say early what the host would refuse at load time.
  if(DEFINED Tawasul_CXX_COMPILER_ID)
    string(REGEX MATCH "^[0-9]+" compiler_major "${CMAKE_CXX_COMPILER_VERSION}")
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL Tawasul_CXX_COMPILER_ID OR NOT compiler_major STREQUAL Tawasul_CXX_COMPILER_MAJOR)
      message(WARNING "tawasul_add_plugin(${name}): the SDK was built with ${Tawasul_CXX_COMPILER_ID} ${Tawasul_CXX_COMPILER_MAJOR}, "
                      "this build uses ${CMAKE_CXX_COMPILER_ID} ${compiler_major}: the host will refuse the plugin")
    endif()
    # NDEBUG is part of the signature too: Release, RelWithDebInfo and MinSizeRel define it.
    if(CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo|MinSizeRel)$")
      set(plugin_ndebug 1)
    else()
      set(plugin_ndebug 0)
    endif()
    if(NOT plugin_ndebug STREQUAL Tawasul_NDEBUG)
      message(WARNING "tawasul_add_plugin(${name}): the SDK was built with NDEBUG=${Tawasul_NDEBUG}, this build "
                      "(CMAKE_BUILD_TYPE '${CMAKE_BUILD_TYPE}') has NDEBUG=${plugin_ndebug}: the host will refuse the plugin")
    endif()
  endif()
  set(out ${PLUGIN_OUTPUT_DIR}/${name})
  set(core)
  if(PLUGIN_CORE_SOURCES)
    set(core ${name}_core)
    add_library(${core} STATIC ${PLUGIN_CORE_SOURCES})
    target_include_directories(${core} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_link_libraries(${core} PUBLIC Tawasul::sdk ${PLUGIN_LIBRARIES})
    tawasul_plugin_target_defaults(${core})
  endif()
  add_library(${name} MODULE ${PLUGIN_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${out})
  target_link_libraries(${name} PRIVATE ${core} Tawasul::sdk ${PLUGIN_LIBRARIES})
  tawasul_plugin_target_defaults(${name})
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  file(MAKE_DIRECTORY ${out})
  foreach(folder migrations templates lang public)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${folder})
      file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR}/${folder} ${out}/${folder} SYMBOLIC)
    endif()
  endforeach()
  if(TAWASUL_PLUGIN_INSTALL_DIR AND NOT PLUGIN_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION ${TAWASUL_PLUGIN_INSTALL_DIR}/${name} COMPONENT host)
    foreach(folder migrations templates lang public)
      if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${folder})
        install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${folder} DESTINATION ${TAWASUL_PLUGIN_INSTALL_DIR}/${name} COMPONENT host)
      endif()
    endforeach()
  endif()
endfunction()
