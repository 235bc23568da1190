# tawasul_add_plugin(NAME SOURCES ... [CORE_SOURCES ...] [LIBRARIES ...] [OUTPUT_DIR dir])
#
# CORE_SOURCES, when given, become a static library NAME_core (PUBLIC include dir src/, linked with
# the SDK and LIBRARIES) that the plugin links: the plugin's own tests link the same code it runs.
#
# Builds NAME.so into OUTPUT_DIR/NAME/ (default: <build>/plugins/NAME/) and links the plugin's own
# migrations/, templates/, lang/ and public/ folders beside it, so the folder the host loads from
# holds everything the plugin is. Plugins link only the SDK and the libraries they name, with hidden
# visibility and --no-undefined: a missing symbol fails the build, not the host at load time.
function(tawasul_add_plugin name)
  cmake_parse_arguments(PLUGIN "" "OUTPUT_DIR" "SOURCES;CORE_SOURCES;LIBRARIES" ${ARGN})
  if(NOT PLUGIN_OUTPUT_DIR)
    set(PLUGIN_OUTPUT_DIR ${CMAKE_BINARY_DIR}/plugins)
  endif()
  set(out ${PLUGIN_OUTPUT_DIR}/${name})
  set(core)
  if(PLUGIN_CORE_SOURCES)
    set(core ${name}_core)
    add_library(${core} STATIC ${PLUGIN_CORE_SOURCES})
    target_include_directories(${core} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_link_libraries(${core} PUBLIC tawasul::sdk ${PLUGIN_LIBRARIES})
  endif()
  add_library(${name} MODULE ${PLUGIN_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${out})
  target_link_libraries(${name} PRIVATE ${core} tawasul::sdk ${PLUGIN_LIBRARIES})
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  file(MAKE_DIRECTORY ${out})
  foreach(folder migrations templates lang public)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${folder})
      file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR}/${folder} ${out}/${folder} SYMBOLIC)
    endif()
  endforeach()
endfunction()
