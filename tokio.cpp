// The implementation of tokio.hpp as a source file of its own: add it to a build (as the
// Makefile does for the examples and tests, or as a static library) instead of defining
// TOKIO_IMPLEMENTATION in one of your files. Compile the other files with
// -DTOKIO_COMPILED_LIB if they define TOKIO_IMPLEMENTATION themselves.
#if defined(TOKIO_COMPILED_LIB)
#error "tokio.cpp is the implementation: compile it without -DTOKIO_COMPILED_LIB (that flag is for the files that use tokio.hpp; with it this file would compile to nothing)"
#endif
#define TOKIO_IMPLEMENTATION
#include "tokio.hpp"
