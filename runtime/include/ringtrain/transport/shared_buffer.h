// SharedBuffer<T>: a buffer that ZeroMQ frames send without a copy, written copy-on-write.
//
// The data path sends tensors straight from their buffers: a server's parameters in pull
// replies, a worker's gradient and its encoded partitions in pushes. A frame made by Frame()
// holds a reference to the buffer until libzmq has sent it, so the bytes stay alive and
// unchanged however long the message waits in a queue. Copies of a SharedBuffer share the
// buffer too (a copy is one more reader). Whoever wants to write asks for it:
//   MutableContents()  the buffer with its contents, in place when nothing else holds it, else
//                      a private copy first (copy-on-write; *copied tells which);
//   Overwrite(n)       n elements whose old values do not matter: in place when nothing else
//                      holds the buffer and it has n elements, else a new zero-filled buffer.
// So a writer never changes bytes a queued frame (or another copy) still reads, and a buffer
// that nothing holds any more is reused without an allocation.
//
// Thread-safety: one thread owns each SharedBuffer object (copies may be owned by other
// threads, as a PushRequest's copy is by its caller). The frames' references are dropped by
// whichever thread releases them — libzmq frees a sent frame on its I/O thread — so the
// reference count is atomic, and when MutableContents or Overwrite find the buffer no longer
// shared they order libzmq's last reads of it before the caller's writes (an acquire fence
// paired with the release of the reference).
#ifndef RINGTRAIN_TRANSPORT_SHARED_BUFFER_H_
#define RINGTRAIN_TRANSPORT_SHARED_BUFFER_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "ringtrain/common/check.h"

namespace ringtrain::transport {

template <typename T>
class SharedBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "frames carry the buffer's bytes as they are");

 public:
  // No buffer (size 0) until the first Overwrite.
  SharedBuffer() = default;
  // A buffer holding `contents` (no copy).
  explicit SharedBuffer(std::vector<T> contents)
      : buffer_(std::make_shared<std::vector<T>>(std::move(contents))) {}

  size_t size() const { return buffer_ == nullptr ? 0 : buffer_->size(); }
  bool empty() const { return size() == 0; }
  const T* data() const { return buffer_ == nullptr ? nullptr : buffer_->data(); }
  std::span<const T> view() const { return {data(), size()}; }

  // True while another holder (a copy of this SharedBuffer, or a frame libzmq has not
  // released) reads the buffer.
  bool shared() const { return buffer_ != nullptr && buffer_.use_count() > 1; }

  // The contents to modify in place: this buffer if nothing else holds it, else a private copy
  // of it (then *copied, if non-null, is set true; false otherwise). Others keep the old bytes.
  std::span<T> MutableContents(bool* copied = nullptr) {
    const bool copy = !Unique();
    if (copy && buffer_ != nullptr) buffer_ = std::make_shared<std::vector<T>>(*buffer_);
    if (copied != nullptr) *copied = copy && buffer_ != nullptr;
    if (buffer_ == nullptr) return {};
    return *buffer_;
  }

  // n elements to overwrite: this buffer (with whatever it held) if nothing else holds it and it
  // has n elements, else a new buffer of n zeros. Others keep the old bytes.
  std::span<T> Overwrite(size_t n) {
    if (!Unique() || buffer_->size() != n) buffer_ = std::make_shared<std::vector<T>>(n);
    return *buffer_;
  }

  // A frame over elements [offset, offset + count) of the buffer, without a copy; it holds the
  // buffer until libzmq releases it.
  // REQUIRES: offset + count <= size().
  zmq::message_t Frame(size_t offset, size_t count) const {
    RT_CHECK(offset <= size() && count <= size() - offset);
    if (count == 0) return zmq::message_t();
    auto* hint = new std::shared_ptr<std::vector<T>>(buffer_);
    // libzmq never writes through the pointer of a message it sends.
    return zmq::message_t(const_cast<T*>(buffer_->data() + offset), count * sizeof(T), &Release,
                          hint);
  }
  // A frame over the whole buffer.
  zmq::message_t Frame() const { return Frame(0, size()); }

 private:
  static void Release(void* /*data*/, void* hint) {
    delete static_cast<std::shared_ptr<std::vector<T>>*>(hint);
  }

  // True when this object is the buffer's only holder; then the holders that let go of it
  // (frames released on libzmq's thread) are done with it before the caller writes.
  bool Unique() const {
    if (buffer_ == nullptr || buffer_.use_count() != 1) return false;
#ifndef __SANITIZE_THREAD__  // GCC's TSan rejects fences; it checks the buffer's uses itself
    // use_count() reads relaxed: order the last reads of released frames before our writes.
    std::atomic_thread_fence(std::memory_order_acquire);
#endif
    return true;
  }

  std::shared_ptr<std::vector<T>> buffer_;
};

}  // namespace ringtrain::transport

#endif  // RINGTRAIN_TRANSPORT_SHARED_BUFFER_H_
