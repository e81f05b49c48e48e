#pragma once
// runtime::RuntimeFlavor: which scheduler a runtime runs.

namespace tokio::runtime {

enum class RuntimeFlavor { CurrentThread, MultiThread };

}  // namespace tokio::runtime
