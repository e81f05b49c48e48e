#pragma once
// codec::Encoder<E, Item>: turns items into bytes (tokio-util's Encoder<Item> trait).
//
//   struct MyEncoder {
//     io::Result<void> encode(const Frame& item, BytesMut& dst);   // appends to dst
//   };
//
// FramedWrite / Framed append each item to their write buffer with encode and write the
// buffer out on flush (or once it passes the back-pressure boundary). An encoder may take
// several item types (overloads or a template).

#include <concepts>
#include <system_error>
#include <utility>

#include "tokio/codec/bytes.hpp"
#include "tokio/core/result.hpp"

namespace tokio::codec {

template <class E, class Item>
concept Encoder = requires(E& e, Item&& item, BytesMut& dst) {
  { e.encode(std::forward<Item>(item), dst) } -> std::same_as<Result<void, std::error_code>>;
};

}  // namespace tokio::codec
