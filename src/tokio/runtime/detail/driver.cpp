#include "tokio/runtime/detail/driver.hpp"

namespace tokio::detail {

// The reactor (enable_io) is built by make_io_stack in reactor/io_driver.cpp; the timer
// wheel (enable_time) by make_time_stack in timers/time_driver.cpp.

Driver::Driver(const Config& cfg) : cfg_(cfg) {
  if (cfg.enable_io) io_ = make_io_stack(cfg, *this);
  if (cfg.enable_time) time_ = make_time_stack(cfg, *this);
}

Driver::~Driver() = default;

void Driver::park(std::optional<std::chrono::nanoseconds> timeout) {
  if (time_) timeout = time_->before_park(timeout);
  if (io_) io_->turn(timeout);
  else parker_.park(timeout);
  if (time_) time_->after_park();
}

void Driver::shutdown() noexcept {
  if (time_) time_->shutdown();
  if (io_) io_->shutdown();
}

}  // namespace tokio::detail
