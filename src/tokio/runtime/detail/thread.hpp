#pragma once
// Native threads with a name and an optional stack size (std::thread offers neither).

#include <pthread.h>

#include <cstddef>
#include <functional>
#include <string>

namespace tokio::detail {

// Starts `body` on a new joinable thread. Throws std::system_error when the OS refuses.
pthread_t spawn_native_thread(const std::string& name, std::size_t stack_size,
                              std::function<void()> body);

}  // namespace tokio::detail
