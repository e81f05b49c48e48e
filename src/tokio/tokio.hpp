#pragma once
// tokio.hpp umbrella: every public header, in dependency order.

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/task/task.hpp"
#include "tokio/task/join_handle.hpp"
#include "tokio/task/spawn.hpp"
#include "tokio/task/poll_fn.hpp"
#include "tokio/task/combinators.hpp"
#include "tokio/task/task_local.hpp"
#include "tokio/task/join_set.hpp"
#include "tokio/task/local_set.hpp"
#include "tokio/scheduler/runtime.hpp"
#include "tokio/scheduler/builder.hpp"
#include "tokio/scheduler/metrics.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/sync/oneshot.hpp"
