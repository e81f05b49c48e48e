// The test binary's doctest main. tokio's implementation is linked in from tokio.o (tokio.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "test_util.hpp"
