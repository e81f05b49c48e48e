#pragma once
// sync::mpsc: multi-producer, single-consumer channels, bounded (channel) and unbounded
// (unbounded_channel). See mpsc_bounded.hpp, mpsc_unbounded.hpp and mpsc_receiver.hpp.

#include "tokio/sync/mpsc_bounded.hpp"
#include "tokio/sync/error.hpp"
#include "tokio/sync/mpsc_receiver.hpp"
#include "tokio/sync/mpsc_unbounded.hpp"
