#pragma once
// Tests of the runtime's internals (timer wheel, time driver, reactor entries...): the
// internal section of tokio.hpp, which a plain user TU does not parse.
#define TOKIO_INTERNALS
#include "tokio.hpp"
