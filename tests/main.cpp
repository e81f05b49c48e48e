// The test binary's single implementation TU: doctest's main and tokio's definitions.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#define TOKIO_IMPLEMENTATION
#include "test_util.hpp"
