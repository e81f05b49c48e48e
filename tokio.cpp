// The implementation of tokio.hpp as a source file of its own: add it to a build (as the
// Makefile does for the examples and tests, or as a static library) instead of defining
// TOKIO_IMPLEMENTATION in one of your files. Compile the other files with
// -DTOKIO_COMPILED_LIB if they define TOKIO_IMPLEMENTATION themselves.
#define TOKIO_IMPLEMENTATION
#include "tokio.hpp"
