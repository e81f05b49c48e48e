// Two-TU link check: this TU carries the implementation...
#define TOKIO_IMPLEMENTATION
#include "tokio.hpp"
#include "tokio.hpp"  // a second include must be harmless

int run_user_tu();

int main() { return run_user_tu() == 42 ? 0 : 1; }
