# tokio_hpp_add_impl(<tokio.cpp> <tokio.hpp>): the tokio_hpp_impl static library, the
# implementation compiled in parts (README, "Compile time"): one generated source per
# TOKIO_IMPLEMENTATION_PART, cut as finely as the header allows
# (TOKIO_IMPLEMENTATION_MAX_SPLIT), each including tokio.cpp, so a parallel build compiles
# them side by side. They are sources of tokio_hpp_impl itself, so what a user gives that target
# (configuration macros, flags, a precompiled header) reaches every part. Used by the source
# tree's CMakeLists.txt and by the installed package (tokio_hppConfig.cmake).
function(tokio_hpp_add_impl tokio_cpp tokio_hpp)
  file(STRINGS "${tokio_hpp}" _parts_line REGEX "^#define TOKIO_IMPLEMENTATION_MAX_SPLIT [0-9]+")
  string(REGEX MATCH "[0-9]+$" _parts "${_parts_line}")
  if(NOT _parts)
    message(FATAL_ERROR "tokio_hpp: ${tokio_hpp} defines no TOKIO_IMPLEMENTATION_MAX_SPLIT")
  endif()
  set(_sources)
  foreach(_k RANGE 1 ${_parts})
    # file(GENERATE) rewrites a part's source only when its text changes (no rebuilds).
    set(_source "${CMAKE_CURRENT_BINARY_DIR}/tokio_hpp_impl/part${_k}.cpp")
    file(GENERATE OUTPUT "${_source}"
         CONTENT "#define TOKIO_IMPLEMENTATION_PART ${_k}\n#include \"${tokio_cpp}\"\n")
    list(APPEND _sources "${_source}")
  endforeach()
  add_library(tokio_hpp_impl STATIC EXCLUDE_FROM_ALL ${_sources})
  target_compile_definitions(tokio_hpp_impl INTERFACE TOKIO_COMPILED_LIB)
endfunction()
