// The driver stack (see driver.hpp). The I/O driver is built by io_driver_create
// (io/detail/io_driver.cpp), the timer wheel by time_driver_create (time/detail/driver.cpp).
#include "tokio/runtime/detail/driver.hpp"

#include <chrono>
#include <optional>

namespace tokio::detail {

// With tokio::fs configured out (TOKIO_CONFIG_NO_FS, see amalgamate.py) nothing ever
// creates an fs engine, so closing the slot has nothing to do.
#if defined(TOKIO_HAS_FS) && !TOKIO_HAS_FS
void fs_engine_close(std::atomic<FsEngine*>&) noexcept {}
#endif

Driver::Driver(const Config& cfg) : cfg_(cfg) {
  if (cfg.enable_io) io_ = io_driver_create(cfg, *this);
  if (cfg.enable_time) {
    try {
      time_ = time_driver_create(cfg, *this);
    } catch (...) {
      if (io_) io_driver_destroy(io_);
      throw;
    }
  }
}

Driver::~Driver() {
  fs_engine_close(fs_);
  if (time_) time_driver_destroy(time_);
  if (io_) io_driver_destroy(io_);
}

void Driver::park(std::optional<std::chrono::nanoseconds> timeout) {
  if (time_) timeout = time_driver_before_park(time_, timeout);
  if (io_) io_driver_turn(io_, timeout);
  else parker_.park(timeout);
  if (time_) time_driver_after_park(time_);
}

void Driver::shutdown() noexcept {
  // First: the fs engine's in-flight operations complete through the I/O driver.
  fs_engine_close(fs_);
  if (time_) time_driver_shutdown(time_);
  if (io_) io_driver_shutdown(io_);
}

}  // namespace tokio::detail
