// SharedBuffer: frames send slices of it without a copy and keep them alive; writers get the
// buffer in place once nothing holds it, and a copy (or a fresh buffer) while something does.
#include "ringtrain/transport/shared_buffer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace ringtrain::transport {
namespace {

using ::testing::ElementsAre;

std::vector<float> FloatsOf(const zmq::message_t& frame) {
  const auto* f = static_cast<const float*>(frame.data());
  return std::vector<float>(f, f + frame.size() / sizeof(float));
}

TEST(SharedBufferTest, FrameSharesMemoryAndKeepsTheBytesItWasMadeWith) {
  SharedBuffer<float> buf(std::vector<float>{1, 2, 3, 4});
  zmq::message_t frame = buf.Frame(1, 2);
  EXPECT_EQ(frame.data(), buf.data() + 1) << "no copy";
  EXPECT_EQ(frame.size(), 2 * sizeof(float));
  EXPECT_TRUE(buf.shared());
  bool copied = false;
  std::span<float> w = buf.MutableContents(&copied);
  EXPECT_TRUE(copied) << "a queued frame still reads the buffer";
  w[1] = 20;
  EXPECT_THAT(buf.view(), ElementsAre(1, 20, 3, 4));
  buf = SharedBuffer<float>();  // the last owner but the frame lets go (ASan: no use after free)
  EXPECT_THAT(FloatsOf(frame), ElementsAre(2, 3));
}

TEST(SharedBufferTest, WritesInPlaceOnceTheFrameIsReleased) {
  SharedBuffer<float> buf;
  EXPECT_TRUE(buf.empty());
  const float* first = buf.Overwrite(4).data();
  {
    zmq::message_t frame = buf.Frame();
    EXPECT_TRUE(buf.shared());
  }
  EXPECT_FALSE(buf.shared());
  EXPECT_EQ(buf.Overwrite(4).data(), first) << "reused, no allocation";
  bool copied = true;
  EXPECT_EQ(buf.MutableContents(&copied).data(), first);
  EXPECT_FALSE(copied);
}

TEST(SharedBufferTest, OverwriteOfASharedBufferOrAnotherSizeGivesFreshZeros) {
  SharedBuffer<uint8_t> buf(std::vector<uint8_t>{7, 7, 7});
  zmq::message_t frame = buf.Frame();
  std::span<uint8_t> w = buf.Overwrite(3);
  EXPECT_NE(w.data(), frame.data());
  EXPECT_THAT(w, ElementsAre(0, 0, 0));
  EXPECT_EQ(static_cast<const uint8_t*>(frame.data())[0], 7);
  EXPECT_THAT(buf.Overwrite(5), ElementsAre(0, 0, 0, 0, 0));
}

TEST(SharedBufferTest, CopiesShareUntilOneWrites) {
  SharedBuffer<float> a(std::vector<float>{1, 2});
  SharedBuffer<float> b = a;
  EXPECT_EQ(a.data(), b.data());
  EXPECT_TRUE(a.shared());
  bool copied = false;
  a.MutableContents(&copied)[0] = 5;
  EXPECT_TRUE(copied);
  EXPECT_THAT(a.view(), ElementsAre(5, 2));
  EXPECT_THAT(b.view(), ElementsAre(1, 2));
  EXPECT_FALSE(a.shared());
  EXPECT_FALSE(b.shared());
}

// libzmq drops a sent frame's reference on its own I/O thread; the buffer is then the owner's
// alone again, and the bytes the peer received are the ones the frame was made with.
TEST(SharedBufferTest, ReleasedByLibzmqAfterSendingOverTcp) {
  zmq::context_t ctx(1);
  zmq::socket_t pull(ctx, zmq::socket_type::pull);
  zmq::socket_t push(ctx, zmq::socket_type::push);
  pull.set(zmq::sockopt::linger, 0);
  push.set(zmq::sockopt::linger, 0);
  pull.bind("tcp://127.0.0.1:0");
  push.connect(pull.get(zmq::sockopt::last_endpoint));
  SharedBuffer<float> buf(std::vector<float>(4096, 1.5f));
  zmq::message_t frame = buf.Frame();
  ASSERT_TRUE(push.send(frame, zmq::send_flags::none));
  zmq::message_t received;
  ASSERT_TRUE(pull.recv(received));
  EXPECT_EQ(received.size(), 4096 * sizeof(float));
  EXPECT_EQ(static_cast<const float*>(received.data())[4095], 1.5f);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (buf.shared() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_FALSE(buf.shared());
  bool copied = true;
  buf.MutableContents(&copied)[0] = 2.0f;
  EXPECT_FALSE(copied);
}

}  // namespace
}  // namespace ringtrain::transport
